"""Delivery beyond the portal: each kind reaches the bell, the page, the API and (opted in) an
email; the daily digest; the signed unsubscribe link; Slack (faked with `responses`):
retries, 429 Retry-After, switching a dead URL off; the settings page."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts.tenancy import staff_scope
from messaging import delivery, emails, slack
from messaging.models import DeliveryAttempt, Notification, NotificationPreference, SlackWebhook
from salesbrain import outbound
from testkit import make_notification, token_client

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
HOOK = "https://hooks.slack.com/services/T000/B000/secretsecret"
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def opt_in(user, organization, mode="immediate", **fields) -> NotificationPreference:
    with staff_scope():
        return NotificationPreference.objects.create(
            user=user, organization=organization, email=mode, **fields
        )


def attempts(**filters) -> list[tuple]:
    with staff_scope():
        rows = DeliveryAttempt.objects.filter(**filters).order_by("pk")
        return list(rows.values_list("channel", "status", "attempt"))


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    waits = []
    monkeypatch.setattr(outbound.time, "sleep", waits.append)
    monkeypatch.setattr(delivery.time, "sleep", waits.append)
    return waits


@pytest.mark.parametrize("kind", Kind.values)
def test_each_kind_reaches_bell_page_api_and_the_opted_in_inbox(kind, alice, victor, bob, org_a):
    opt_in(alice, org_a)  # victor did not opt in; bob is another organization
    note = make_notification(org_a, kind, title=f"News of kind {kind}", body="maya@x.example")

    page = login(alice).get(reverse("notifications:list"))
    assert page.context["notifications_unread"]() == 1
    assert f"News of kind {kind}".encode() in page.content
    api = token_client(alice).get("/api/v1/notifications/")
    assert [row["title"] for row in api.json()["results"]] == [f"News of kind {kind}"]

    sent = delivery.dispatch([org_a.pk])
    assert sent["emails"] == 1
    [email] = mail.outbox
    assert email.to == [alice.email]
    assert email.subject == f"[Salesbrain] News of kind {kind}"
    html = email.alternatives[0][0]
    assert "http://127.0.0.1:8000/leads/" in email.body and "http://127.0.0.1:8000/" in html
    assert "/notifications/unsubscribe/" in email.body and "Unsubscribe" in html
    assert attempts() == [("email", "sent", 1)]
    # Claimed once: a second dispatch sends nothing again.
    assert delivery.dispatch([org_a.pk])["notifications"] == 0
    with staff_scope():
        assert Notification.objects.get(pk=note.pk).dispatched_at is not None


def test_kinds_filter_and_failed_email_retries_with_an_attempt_each(alice, org_a, monkeypatch):
    opt_in(alice, org_a, kinds=[Kind.MEETING_BOOKED])
    make_notification(org_a, Kind.LEAD_INTERESTED, title="Not wanted")
    make_notification(org_a, Kind.MEETING_BOOKED, title="Wanted")
    calls = []

    def flaky_send(self, fail_silently=False):
        calls.append(self.subject)
        if len(calls) < 3:
            raise OSError("smtp down")
        return 1

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", flaky_send)
    assert delivery.dispatch([org_a.pk])["emails"] == 1
    assert calls == ["[Salesbrain] Wanted"] * 3
    assert attempts() == [("email", "failed", 1), ("email", "failed", 2), ("email", "sent", 3)]


def test_digest_groups_the_day_at_the_members_hour_in_their_time_zone(alice, org_a):
    # 08:00 in New York is 13:00 UTC in March (EST, UTC-5).
    opt_in(alice, org_a, "daily", digest_hour=8, time_zone="America/New_York")
    for title, hours_ago in (("Ann is interested", 3), ("Meeting with Ben", 20), ("Old", 30)):
        make_notification(org_a, title=title, created_at=NOW - dt.timedelta(hours=hours_ago))
    at_noon_utc, at_one_utc = NOW, NOW + dt.timedelta(hours=1)
    assert delivery.send_digests(at_noon_utc) == 0
    assert delivery.dispatch([org_a.pk])["emails"] == 0  # daily means no immediate email
    assert delivery.send_digests(at_one_utc) == 1
    [email] = mail.outbox
    assert email.subject == "[Salesbrain] 2 notifications for Acme Outreach"
    assert "Ann is interested" in email.body and "Meeting with Ben" in email.body
    assert "Old" not in email.body
    assert delivery.send_digests(at_one_utc + dt.timedelta(minutes=30)) == 0  # once a day
    assert attempts() == [("email", "sent", 1)]


def test_unsubscribe_works_without_login_and_cannot_be_forged(alice, bob, org_a, org_b):
    opt_in(alice, org_a)
    opt_in(bob, org_b)
    url = emails.unsubscribe_url(alice.pk, org_a.pk).removeprefix("http://127.0.0.1:8000")
    anonymous = Client(enforce_csrf_checks=True)
    assert b"Stop notification emails?" in anonymous.get(url).content
    forged = [
        signing.dumps({"u": bob.pk, "o": str(org_b.pk)}, salt="another.salt"),
        emails.unsubscribe_token(alice.pk, org_a.pk)[:-2] + "xx",
        signing.dumps(
            {"u": bob.pk, "o": str(org_b.pk)}, key="guessed-secret", salt=emails.UNSUBSCRIBE_SALT
        ),
    ]
    for token in forged:
        response = anonymous.post(reverse("notifications:unsubscribe", args=[token]))
        assert response.status_code == 400
    response = anonymous.post(url)  # one-click: no CSRF token, no session
    assert b"Unsubscribed" in response.content
    with staff_scope():
        modes = dict(NotificationPreference.objects.values_list("user__username", "email"))
    assert modes == {"alice": "off", "bob": "immediate"}


def make_hook(organization, url=HOOK) -> SlackWebhook:
    with staff_scope():
        return slack.save(organization, url)


@responses.activate
def test_slack_posts_positive_news_retrying_5xx_and_honouring_429(org_a, no_sleep):
    hook = make_hook(org_a)
    with staff_scope():
        assert HOOK not in SlackWebhook.objects.get().url_encrypted  # encrypted at rest
    responses.post(HOOK, status=500)
    responses.post(HOOK, status=429, headers={"Retry-After": "7"})
    responses.post(HOOK, body="ok")
    make_notification(org_a, Kind.MEETING_BOOKED, title="Meeting booked with Maya")
    make_notification(org_a, Kind.OTHER, title="Deal closed")  # not for Slack
    assert delivery.dispatch([org_a.pk])["slack"] == 1
    assert len(responses.calls) == 3
    assert "Meeting booked with Maya" in responses.calls[-1].request.body.decode()
    assert no_sleep == [1.0, 7.0]
    assert attempts(channel="slack") == [
        ("slack", "failed", 1),
        ("slack", "failed", 2),
        ("slack", "sent", 3),
    ]
    with staff_scope():
        hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.is_active


@responses.activate
def test_a_dead_slack_url_is_switched_off_and_the_owner_told(org_a, alice, settings):
    settings.SLACK_MAX_CONSECUTIVE_FAILURES = 2
    make_hook(org_a)
    responses.post(HOOK, status=404, body="no_service")  # 4xx: no retry
    for n in range(3):
        make_notification(org_a, Kind.LEAD_INTERESTED, title=f"Lead {n} is interested")
        delivery.dispatch([org_a.pk])
    assert len(responses.calls) == 2  # the third found the URL switched off
    with staff_scope():
        hook = SlackWebhook.objects.get()
        notice = Notification.objects.get(kind=Kind.OTHER)
    assert (hook.is_active, hook.consecutive_failures) == (False, 2)
    assert notice.title == "Slack notifications were switched off"
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert "no_service" in mail.outbox[0].body


def test_slack_url_must_be_slack_and_only_owners_and_admins_set_it(alice, victor, org_a):
    url = reverse("notifications:slack")
    login(victor).post(url, {"action": "save", "url": HOOK})
    with staff_scope():
        assert not SlackWebhook.objects.exists()
    client = login(alice)
    for bad in ("http://hooks.slack.com/services/x", "https://evil.example/services/x"):
        client.post(url, {"action": "save", "url": bad})
    with staff_scope():
        assert not SlackWebhook.objects.exists()
    client.post(url, {"action": "save", "url": HOOK})
    with staff_scope():
        assert SlackWebhook.objects.get().url == HOOK
    page = client.get(reverse("notifications:settings"))
    assert b"Send test message" in page.content and HOOK.encode() not in page.content


@responses.activate
def test_send_test_message_button(alice, org_a):
    make_hook(org_a)
    responses.post(HOOK, body="ok")
    response = login(alice).post(reverse("notifications:slack"), {"action": "test"}, follow=True)
    assert b"Test message sent to Slack." in response.content
    assert attempts() == [("slack", "sent", 1)]


def test_settings_page_saves_each_members_own_preference(alice, victor, org_a):
    client = login(alice)
    response = client.post(
        reverse("notifications:settings"),
        {
            "email": "daily",
            "kinds": ["meeting_booked"],
            "digest_hour": "7",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    with staff_scope():
        pref = NotificationPreference.objects.get()
    assert (pref.user, pref.email, pref.kinds, pref.digest_hour, pref.time_zone) == (
        alice,
        "daily",
        ["meeting_booked"],
        7,
        "Europe/Berlin",
    )
    assert login(victor).get(reverse("notifications:settings")).context["form"].instance.pk is None
