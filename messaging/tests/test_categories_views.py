"""Reply categories where people see them: the inbox (column, filter, one-click correction),
the API (fields, filter, correction), lead scores (API, leads list, lead page, dashboard) and
the organization's reply settings. Corrections need a writer role in the thread's organization;
another organization's rows answer 404."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MemberRole
from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import Activity, Lead
from messaging.models import CategoryLabel, Message, ReplySettings, Thread
from testkit import (
    make_campaign,
    make_contact,
    make_member,
    make_message,
    make_thread,
    persona_client,
    results,
)

pytestmark = pytest.mark.django_db

RECENT = timezone.now() - dt.timedelta(hours=2)


def make_reply(org, connection, key, *, category, confidence=0.8, returns_on=None, text=""):
    """A lead of `org` who replied, the reply categorised `category`."""
    campaign = make_campaign(connection, f"cmp-{key}", organization=org, name=f"Campaign {key}")
    contact = make_contact(f"{key}@example.com", organization=org, first_name=key.title())
    with staff_scope():
        lead = Lead.objects.create(organization=org, campaign=campaign, contact=contact)
    thread = make_thread(campaign, contact, lead=lead, subject=f"Hello {key}", has_reply=True,
                         last_inbound_at=RECENT, last_message_at=RECENT, category=category,
                         category_confidence=confidence, returns_on=returns_on,
                         category_at=RECENT)  # fmt: skip
    message = make_message(
        thread, direction=Message.Direction.INBOUND, kind=Message.Kind.REPLY, sent_at=RECENT,
        subject=f"Re: Hello {key}", body_text=text or "a reply", from_email=contact.email,
        category=category, category_confidence=confidence, category_source="model",
        returns_on=returns_on,
    )  # fmt: skip
    return message


@pytest.fixture
def replies_a(org_a, shared_connection):
    return {
        "no": make_reply(org_a, shared_connection, "nora", category="not_interested"),
        "ooo": make_reply(
            org_a,
            shared_connection,
            "otto",
            category="out_of_office",
            confidence=0.97,
            returns_on=dt.date(2026, 12, 2),
        ),  # fmt: skip
    }


@pytest.fixture
def reply_b(org_b, shared_connection):
    return make_reply(org_b, shared_connection, "bert", category="interested")


# --- inbox ------------------------------------------------------------------------------------


def test_the_inbox_shows_categories_and_filters_by_them(client, alice, replies_a, reply_b):
    client.force_login(alice)
    page = client.get(reverse("inbox:list")).content.decode()
    assert "Not interested" in page and "Out of office · back on 2 Dec" in page
    filtered = client.get(reverse("inbox:list"), {"category": "out_of_office"})
    assert [t.pk for t in filtered.context["page"].object_list] == [replies_a["ooo"].thread_id]


def test_a_member_corrects_a_category_in_one_click(client, alice, replies_a):
    message = replies_a["no"]
    client.force_login(alice)
    response = client.post(reverse("inbox:correct-category", args=[message.pk]),
                           {"category": "interested"})  # fmt: skip
    assert response.status_code == 302
    with staff_scope():
        message.refresh_from_db()
        thread = Thread.objects.get(pk=message.thread_id)
        label = CategoryLabel.objects.get()
        lead = Lead.objects.get(pk=thread.lead_id)
    assert (message.category, message.category_source, message.category_confidence) == (
        "interested", "person", 1.0,
    )  # fmt: skip
    assert (label.previous_category, label.category, label.created_by) == (
        "not_interested", "interested", alice,
    )  # fmt: skip
    assert thread.category == "interested"
    assert lead.proposed_interest_status == "interested"
    assert lead.score == 30  # the reply now scores as interested


def test_a_viewer_cannot_correct_and_another_organization_gets_404(client, victor, bob, replies_a):
    message = replies_a["no"]
    url = reverse("inbox:correct-category", args=[message.pk])
    client.force_login(victor)
    assert client.post(url, {"category": "interested"}).status_code == 403
    client.force_login(bob)
    assert client.post(url, {"category": "interested"}).status_code == 404
    with staff_scope():
        assert Message.objects.get(pk=message.pk).category == "not_interested"
        assert not CategoryLabel.objects.exists()


# --- API --------------------------------------------------------------------------------------


def test_the_api_has_categories_and_filters_by_them(request, replies_a, reply_b):
    client = persona_client(request, "alice")
    rows = results(client.get("/api/v1/messages/", {"category": "out_of_office"}))
    assert [(r["id"], r["category"], r["confidence"], r["returns_on"]) for r in rows] == [
        (replies_a["ooo"].pk, "out_of_office", 0.97, "2026-12-02")
    ]
    threads = results(client.get("/api/v1/threads/", {"category": ["not_interested"]}))
    assert [(t["id"], t["category"], t["confidence"]) for t in threads] == [
        (replies_a["no"].thread_id, "not_interested", 0.8)
    ]


@pytest.mark.parametrize(("persona", "status"), [("alice", 200), ("victor", 403), ("bob", 404),
                                                 ("olga", 200)])  # fmt: skip
def test_correcting_through_the_api(request, replies_a, persona, status):
    message = replies_a["no"]
    client = persona_client(request, persona)
    response = client.post(f"/api/v1/messages/{message.pk}/category/", {"category": "wrong_person"},
                           format="json")  # fmt: skip
    assert response.status_code == status
    with staff_scope():
        stored = Message.objects.get(pk=message.pk).category
    assert stored == ("wrong_person" if status == 200 else "not_interested")
    if status == 200:
        assert response.json()["category"] == "wrong_person"


def test_an_unknown_category_is_refused(request, replies_a):
    client = persona_client(request, "alice")
    response = client.post(f"/api/v1/messages/{replies_a['no'].pk}/category/",
                           {"category": "spam"}, format="json")  # fmt: skip
    assert response.status_code == 400


# --- scores -----------------------------------------------------------------------------------


@pytest.fixture
def scored(org_a, replies_a):
    """Nora scores 40, Otto 5."""
    with staff_scope():
        Lead.objects.filter(contact__email="nora@example.com").update(score=40)
        Lead.objects.filter(contact__email="otto@example.com").update(score=5)
    return replies_a


def test_the_api_orders_and_filters_leads_by_score(request, scored):
    client = persona_client(request, "alice")
    rows = results(client.get("/api/v1/leads/", {"ordering": "-score"}))
    assert [(r["contact"]["email"], r["score"]) for r in rows] == [
        ("nora@example.com", 40), ("otto@example.com", 5),
    ]  # fmt: skip
    assert [r["score"] for r in results(client.get("/api/v1/leads/", {"min_score": 10}))] == [40]


def test_the_leads_list_sorts_by_score_and_the_csv_has_it(client, alice, scored):
    client.force_login(alice)
    response = client.get(reverse("portal:leads"), {"sort": "score"})
    assert [lead.score for lead in response.context["page"].object_list] == [40, 5]
    csv_text = b"".join(client.get(reverse("portal:leads-export"), {"min_score": 10})).decode()
    assert csv_text.splitlines()[1].split(",")[-2] == "40"


def test_the_dashboard_lists_hot_leads(client, alice, scored):
    client.force_login(alice)
    page = client.get(reverse("portal:dashboard")).content.decode()
    hot = page.split('id="hot-leads"', 1)[1]
    assert hot.index("Nora") < hot.index("Otto")
    assert '<span class="score" aria-label="Score 40 of 100">40</span>' in hot


def test_the_lead_page_explains_the_score(client, alice, org_a, replies_a):
    message = replies_a["no"]
    with staff_scope():
        lead = Lead.objects.get(threads__pk=message.thread_id)
        Activity.objects.create(organization=org_a, kind=Activity.Kind.CLICKED, lead=lead,
                                campaign_id=lead.campaign_id, occurred_at=RECENT)  # fmt: skip
        Message.objects.filter(pk=message.pk).update(category="interested")
    client.force_login(alice)
    page = client.get(reverse("portal:lead", args=[lead.pk])).content.decode()
    assert "+30 replied interested 2 hours ago" in page
    assert "+5 clicked 2 hours ago" in page


# --- settings ---------------------------------------------------------------------------------


def test_owners_set_points_and_scores_follow(client, alice, replies_a):
    client.force_login(alice)
    form = client.get(reverse("inbox:settings")).context["form"]
    data = {name: field.initial for name, field in form.fields.items()
            if field.initial is not None}  # fmt: skip
    data.update(notify_positive_replies="on", propose_interest_status="on",
                block_do_not_contact="on", block_min_confidence="0.95",
                score_half_life_days="7", points_reply_not_interested="5")  # fmt: skip
    assert client.post(reverse("inbox:settings"), data).status_code == 302
    with staff_scope():
        saved = ReplySettings.objects.get()
        nora = Lead.objects.get(contact__email="nora@example.com")
    assert saved.score_points == {"reply:not_interested": 5}
    assert (saved.score_half_life_days, saved.block_min_confidence) == (7.0, 0.95)
    assert nora.score == 5


def test_members_may_read_but_not_change_the_settings(client, org_a, replies_a):
    member = make_member("mona", org_a, MemberRole.MEMBER)
    client.force_login(member)
    assert client.get(reverse("inbox:settings")).status_code == 200
    assert client.post(reverse("inbox:settings"), {"score_half_life_days": "3"}).status_code == 403
    with tenant_scope(org_a.pk):
        assert not ReplySettings.objects.exists()


def test_corrections_are_exported_as_labels_for_the_evaluation(client, alice, replies_a):
    message = replies_a["no"]
    client.force_login(alice)
    for category in ("wrong_person", "interested"):  # the latest correction counts
        client.post(reverse("inbox:correct-category", args=[message.pk]), {"category": category})
    out = io.StringIO()
    call_command("export_category_labels", stdout=out)
    [line] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (line["category"], line["previous_category"], line["text"]) == (
        "interested", "wrong_person", message.body_text,
    )  # fmt: skip
