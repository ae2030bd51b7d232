"""assign_campaign: a shared-workspace campaign and everything hanging off it move together."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.tenancy import staff_scope, tenant_scope
from campaigns import assignment
from campaigns.assignment import assign_campaign
from campaigns.models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStepStat,
    Contact,
    EmailAccount,
    Lead,
)
from messaging.models import Message, Notification, Thread
from testkit import make_connection

WHEN = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


@pytest.fixture
def shared_campaign(shared_connection, org_a):
    """A shared campaign with two leads (one also in another campaign) and all their rows."""
    with staff_scope():
        mailbox = EmailAccount.objects.create(
            connection_id=shared_connection.pk, email="s@send.example"
        )
        campaign = Campaign.objects.create(
            connection_id=shared_connection.pk, instantly_id="cmp-1", name="Dentists"
        )
        other = Campaign.objects.create(connection_id=shared_connection.pk, instantly_id="cmp-2")
        CampaignSender.objects.create(campaign=campaign, email_account=mailbox)
        ada = Contact.objects.create(email="ada@lead.example", first_name="Ada", company_name="Co")
        bob = Contact.objects.create(email="bob@lead.example", last_name="Stone")
        # Org A already knows Bob (without a last name) from a campaign of its own.
        a_bob = Contact.objects.create(
            organization=org_a, email="bob@lead.example", first_name="Bob"
        )
        own = Campaign.objects.create(
            organization=org_a, connection_id=shared_connection.pk, instantly_id="cmp-a"
        )
        Lead.objects.create(organization=org_a, campaign=own, contact=a_bob)
        ada_lead = Lead.objects.create(campaign=campaign, contact=ada)
        bob_lead = Lead.objects.create(campaign=campaign, contact=bob)
        Lead.objects.create(campaign=other, contact=bob)  # Bob stays in the shared pool too
        CampaignDailyStat.objects.create(campaign=campaign, date=WHEN.date(), sent=5)
        CampaignStepStat.objects.create(campaign=campaign, step=1, variant=1, sent=5)
        Activity.objects.create(
            kind=Activity.Kind.SENT, occurred_at=WHEN, campaign=campaign, lead=ada_lead, contact=ada
        )
        Activity.objects.create(  # linked through the lead only
            kind=Activity.Kind.OPENED, occurred_at=WHEN, lead=bob_lead, contact=bob
        )
        thread = Thread.objects.create(campaign=campaign, contact=ada, lead=ada_lead)
        Message.objects.create(
            thread=thread,
            campaign=campaign,
            contact=ada,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.REPLY,
            subject="Re: hi",
            sent_at=WHEN,
        )
        Notification.objects.create(
            kind=Notification.Kind.LEAD_INTERESTED, title="Ada is interested", lead=ada_lead
        )
    return campaign


def _orgs(model, **filters):
    with staff_scope():
        return set(
            model.objects.unscoped().filter(**filters).values_list("organization_id", flat=True)
        )


@pytest.mark.django_db
def test_assigning_moves_the_campaign_and_every_dependent_row(shared_campaign, org_a):
    result = assign_campaign(shared_campaign, org_a)

    assert shared_campaign.organization_id == org_a.pk
    assert _orgs(Campaign, pk=shared_campaign.pk) == {org_a.pk}
    for model in (CampaignSender, Lead, CampaignDailyStat, CampaignStepStat, Thread, Message):
        assert _orgs(model, campaign=shared_campaign) == {org_a.pk}, model.__name__
    assert _orgs(Activity, lead__campaign=shared_campaign) == {org_a.pk}
    assert _orgs(Notification, lead__campaign=shared_campaign) == {org_a.pk}
    assert result.moved == {
        "senders": 1,
        "leads": 2,
        "daily_stats": 1,
        "step_stats": 1,
        "mailbox_stats": 0,
        "activities": 2,
        "threads": 1,
        "messages": 1,
        "notifications": 1,
        "campaign": 1,
    }
    # The mailbox stays in the shared pool.
    assert _orgs(EmailAccount) == {None}


@pytest.mark.django_db
def test_contacts_are_re_homed_in_the_new_organization(shared_campaign, org_a):
    result = assign_campaign(shared_campaign, org_a)

    with staff_scope():
        leads = {
            lead.contact.email: lead.contact
            for lead in Lead.objects.unscoped()
            .filter(campaign=shared_campaign)
            .select_related("contact")
        }
        ada, bob = leads["ada@lead.example"], leads["bob@lead.example"]
        assert ada.organization_id == org_a.pk
        assert (ada.first_name, ada.company_name) == ("Ada", "Co")  # copied over
        # Org A's existing Bob is reused, and his blank last name filled in.
        assert bob.organization_id == org_a.pk
        assert (bob.first_name, bob.last_name) == ("Bob", "Stone")
        assert Contact.objects.unscoped().filter(email="bob@lead.example").count() == 2
        # Ada's shared contact had nothing else: removed. Bob's is still used by cmp-2: kept.
        assert (
            not Contact.objects.unscoped()
            .filter(organization=None, email="ada@lead.example")
            .exists()
        )
        assert (
            Contact.objects.unscoped().filter(organization=None, email="bob@lead.example").exists()
        )
        thread = Thread.objects.unscoped().get(campaign=shared_campaign)
        message = Message.objects.unscoped().get(campaign=shared_campaign)
        assert thread.contact_id == message.contact_id == ada.pk
        assert {a.contact_id for a in Activity.objects.unscoped().all()} == {ada.pk, bob.pk}
        assert Lead.objects.unscoped().get(campaign__instantly_id="cmp-a").contact_id == bob.pk
    assert (result.contacts_created, result.contacts_removed) == (1, 1)


@pytest.mark.django_db
def test_the_customer_sees_the_assigned_campaign_and_no_one_else_does(
    shared_campaign, org_a, org_b
):
    assign_campaign(shared_campaign, org_a)

    with tenant_scope(org_a.pk):
        assert Campaign.objects.filter(pk=shared_campaign.pk).exists()
        assert Lead.objects.filter(campaign=shared_campaign).count() == 2
        assert Message.objects.filter(campaign=shared_campaign).count() == 1
        assert EmailAccount.objects.filter(email="s@send.example").exists()  # via sender link
    with tenant_scope(org_b.pk):
        assert not Campaign.objects.filter(pk=shared_campaign.pk).exists()
        assert not Lead.objects.filter(campaign=shared_campaign).exists()
        assert not Contact.objects.filter(email="ada@lead.example").exists()


@pytest.mark.django_db
def test_assigning_again_changes_nothing(shared_campaign, org_a):
    assign_campaign(shared_campaign, org_a)

    again = assign_campaign(shared_campaign, org_a)

    assert not again.changed
    assert set(again.moved.values()) == {0}


@pytest.mark.django_db
def test_a_campaign_can_move_between_customers_and_back_to_the_pool(shared_campaign, org_a, org_b):
    assign_campaign(shared_campaign, org_a)
    assign_campaign(shared_campaign, org_b)

    assert _orgs(Lead, campaign=shared_campaign) == {org_b.pk}
    with staff_scope():
        # Org A keeps no trace of Ada, who was only in this campaign; its own Bob stays.
        assert (
            not Contact.objects.unscoped()
            .filter(organization=org_a, email="ada@lead.example")
            .exists()
        )
        assert (
            Contact.objects.unscoped().filter(organization=org_a, email="bob@lead.example").exists()
        )

    assign_campaign(shared_campaign, None)

    assert shared_campaign.organization_id is None
    for model in (Campaign, Lead, Thread, Message):
        key = "pk" if model is Campaign else "campaign"
        assert _orgs(model, **{key: shared_campaign.pk}) == {None}, model.__name__


@pytest.mark.django_db
def test_assignment_is_all_or_nothing(shared_campaign, org_a, monkeypatch):
    def explode(contact_ids):
        raise RuntimeError("database went away")

    monkeypatch.setattr(assignment, "_remove_orphans", explode)

    with pytest.raises(RuntimeError):
        assign_campaign(shared_campaign, org_a)

    assert _orgs(Campaign, pk=shared_campaign.pk) == {None}
    assert _orgs(Lead, campaign=shared_campaign) == {None}
    with staff_scope():
        assert (
            not Contact.objects.unscoped()
            .filter(organization=org_a, email="ada@lead.example")
            .exists()
        )


def test_a_dedicated_workspace_campaign_cannot_go_to_another_organization(org_a, org_b):
    dedicated = make_connection("Acme's own", organization=org_a, api_key="dedicated-key-1234")
    with staff_scope():
        campaign = Campaign.objects.create(
            organization=org_a, connection_id=dedicated.pk, instantly_id="own-1", name="Own"
        )
    with pytest.raises(ValueError, match="own workspace"):
        assign_campaign(campaign, org_b)
    with staff_scope():
        assert Campaign.objects.get(pk=campaign.pk).organization_id == org_a.pk
