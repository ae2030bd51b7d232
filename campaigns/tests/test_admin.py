"""Operator console for campaigns and mailboxes: pages, assignment, mailbox health, query bounds."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import Campaign, EmailAccount, EmailAccountDailyStat, MailboxStatus
from testkit import (
    assert_console_pages_load,
    count_queries,
    make_console_rows,
    messages_of,
    registered_models,
)

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/admin/campaigns/campaign/"
MAILBOXES = "/admin/campaigns/emailaccount/"


@pytest.fixture
def console_rows(tenant_rows, org_a, shared_connection):
    return make_console_rows(tenant_rows, org_a, shared_connection)


def campaign_change_url(campaign):
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


@pytest.mark.parametrize("persona", ["adam", "olga"])
@pytest.mark.parametrize("model", registered_models("campaigns"), ids=lambda m: m.__name__)
def test_every_campaigns_page_loads_for_staff(client, console_rows, request, persona, model):
    assert_console_pages_load(client, request.getfixturevalue(persona), model)


@pytest.mark.parametrize("url", [CAMPAIGNS, MAILBOXES])
def test_customers_and_anonymous_are_sent_to_login(client, alice, url):
    assert client.get(url).status_code == 302
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_mirrored_rows_cannot_be_added_by_hand(client, adam):
    client.force_login(adam)
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403
    assert client.get(reverse("admin:campaigns_emailaccount_add")).status_code == 403


# --- assignment -----------------------------------------------------------------------------


def test_unassigned_filter_lists_only_shared_workspace_campaigns(client, olga, tenant_rows):
    client.force_login(olga)
    html = client.get(CAMPAIGNS + "?assigned=no").content.decode()
    assert campaign_change_url(tenant_rows["shared"]["campaign"]) in html
    assert campaign_change_url(tenant_rows["a"]["campaign"]) not in html
    assert "Unassigned" in html
    assigned = client.get(CAMPAIGNS + "?assigned=yes").content.decode()
    assert campaign_change_url(tenant_rows["shared"]["campaign"]) not in assigned
    assert campaign_change_url(tenant_rows["a"]["campaign"]) in assigned


def test_assign_action_asks_for_the_organization_first(client, olga, tenant_rows):
    shared = tenant_rows["shared"]["campaign"]
    client.force_login(olga)
    response = client.post(
        CAMPAIGNS, {"action": "assign_to_organization", "_selected_action": [str(shared.pk)]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Assign campaigns to an organization" in html
    assert 'name="organization"' in html
    assert "Campaign shared" in html
    with staff_scope():
        shared.refresh_from_db()
    assert shared.organization_id is None  # nothing moved yet


@pytest.mark.parametrize("persona", ["adam", "olga"])
def test_assign_action_moves_the_campaign_to_the_organization(
    client, request, tenant_rows, org_b, persona
):
    shared = tenant_rows["shared"]
    client.force_login(request.getfixturevalue(persona))
    response = client.post(
        CAMPAIGNS,
        {
            "action": "assign_to_organization",
            "_selected_action": [str(shared["campaign"].pk)],
            "apply": "yes",
            "organization": str(org_b.pk),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert ("success", "1 campaign(s) assigned to Bluebird Growth.") in messages_of(response)
    with staff_scope():
        shared["campaign"].refresh_from_db()
    assert shared["campaign"].organization_id == org_b.pk
    # Now visible to org B, and only to org B.
    html = client.get(CAMPAIGNS + "?assigned=no").content.decode()
    assert campaign_change_url(shared["campaign"]) not in html


def test_assign_action_without_an_organization_shows_the_form_again(client, olga, tenant_rows):
    shared = tenant_rows["shared"]["campaign"]
    client.force_login(olga)
    response = client.post(
        CAMPAIGNS,
        {"action": "assign_to_organization", "_selected_action": [str(shared.pk)], "apply": "yes"},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_assign_action_reports_a_refusal_of_the_service(
    client, olga, tenant_rows, org_b, monkeypatch
):
    def refuse(campaign, organization):
        raise ValueError("campaign of a dedicated workspace")

    monkeypatch.setattr("campaigns.admin.assign_campaign", refuse)
    client.force_login(olga)
    response = client.post(
        CAMPAIGNS,
        {
            "action": "assign_to_organization",
            "_selected_action": [str(tenant_rows["shared"]["campaign"].pk)],
            "apply": "yes",
            "organization": str(org_b.pk),
        },
        follow=True,
    )
    assert messages_of(response) == [
        ("error", "Not assigned: Campaign shared: campaign of a dedicated workspace")
    ]


def test_choosing_the_organization_on_the_campaign_page_assigns_through_the_service(
    client, olga, tenant_rows, org_a, monkeypatch
):
    calls = []
    monkeypatch.setattr(
        "campaigns.admin.assign_campaign",
        lambda campaign, organization: calls.append(
            (campaign.pk, campaign.organization_id, organization)
        ),
    )
    shared = tenant_rows["shared"]["campaign"]
    client.force_login(olga)
    response = client.post(
        campaign_change_url(shared),
        {
            "organization": str(org_a.pk),
            "senders-TOTAL_FORMS": "0",
            "senders-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # The service receives the campaign as stored (still unassigned) and the chosen organization.
    assert calls == [(shared.pk, None, org_a)]


def test_the_campaign_page_assigns_and_unassigns_with_every_row_following(
    client, adam, tenant_rows, org_b
):
    shared = tenant_rows["shared"]
    client.force_login(adam)
    inline = {"senders-TOTAL_FORMS": "0", "senders-INITIAL_FORMS": "0"}
    response = client.post(
        campaign_change_url(shared["campaign"]), {"organization": str(org_b.pk), **inline}
    )
    assert response.status_code == 302
    with staff_scope():
        shared["message"].refresh_from_db()
        shared["campaign"].refresh_from_db()
    assert shared["campaign"].organization_id == org_b.pk
    assert shared["message"].organization_id == org_b.pk  # moved by the service, not the form

    response = client.post(campaign_change_url(shared["campaign"]), {"organization": "", **inline})
    assert response.status_code == 302
    with staff_scope():
        shared["message"].refresh_from_db()
    assert shared["message"].organization_id is None


def test_mirrored_rows_cannot_be_deleted_from_the_console(client, adam, tenant_rows):
    campaign = tenant_rows["a"]["campaign"]
    client.force_login(adam)
    delete = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    with staff_scope():
        assert Campaign.objects.filter(pk=campaign.pk).exists()


# --- mailbox health -------------------------------------------------------------------------


def test_mailbox_list_shows_health_at_a_glance(client, olga, console_rows):
    client.force_login(olga)
    html = client.get(MAILBOXES).content.decode()
    assert "sender@agency.example" in html
    assert "Sending error" in html  # status badge
    assert "87" in html  # warmup score
    assert "7 / 30" in html  # sent today (not yesterday's 29) against the daily limit
    assert "550 mailbox unavailable" in html


def test_mailbox_filters_by_status(client, olga, console_rows, shared_connection):
    with staff_scope():
        EmailAccount.objects.create(
            connection_id=shared_connection.pk, email="healthy@agency.example", status="active"
        )
    client.force_login(olga)
    html = client.get(MAILBOXES + "?status__exact=active").content.decode()
    assert "healthy@agency.example" in html
    assert "sender@agency.example" not in html


# --- query bounds ---------------------------------------------------------------------------


def _add_campaigns_and_mailboxes(connection, org, n, start):
    today = timezone.now().date()
    with staff_scope():
        for i in range(start, start + n):
            Campaign.objects.create(
                organization=org if i % 2 else None,
                connection_id=connection.pk,
                instantly_id=f"bulk-{i}",
                name=f"Bulk campaign {i}",
            )
            mailbox = EmailAccount.objects.create(
                connection_id=connection.pk,
                email=f"bulk{i}@agency.example",
                status=MailboxStatus.ACTIVE,
                daily_limit=40,
            )
            EmailAccountDailyStat.objects.create(email_account=mailbox, date=today, sent=i)


@pytest.mark.parametrize("url", [CAMPAIGNS, MAILBOXES])
def test_changelist_queries_do_not_grow_with_rows(client, olga, org_a, shared_connection, url):
    client.force_login(olga)
    _add_campaigns_and_mailboxes(shared_connection, org_a, 3, start=0)
    few = count_queries(client, url)
    _add_campaigns_and_mailboxes(shared_connection, org_a, 20, start=3)
    many = count_queries(client, url)
    assert many == few, f"{url}: {few} queries for 3 rows, {many} for 23"
    # Session, user, memberships, staff check and the tenant scope are ~8 of these; the page
    # itself adds permissions, filter choices, the count and one query for the rows.
    assert many <= 16, f"{url}: {many} queries"


def test_campaign_change_page_shows_not_sending_status_and_interest_totals(
    client, olga, tenant_rows
):
    campaign = tenant_rows["shared"]["campaign"]
    with staff_scope():
        Campaign.objects.unscoped().filter(pk=campaign.pk).update(
            not_sending_status="accounts_at_limit", analytics_overview={"total_closed": 2}
        )
    client.force_login(olga)
    html = client.get(campaign_change_url(campaign)).content.decode()
    assert "Every sending mailbox reached its daily limit" in html
    assert "Recorded by webhooks" in html and "Closed (won)" in html
    listing = client.get(CAMPAIGNS).content.decode()
    assert "Not sending: Every sending mailbox reached its daily limit" in listing
