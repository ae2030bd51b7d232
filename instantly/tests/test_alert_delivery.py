"""Staff alerts: emailed to STAFF_ALERT_EMAILS and posted to STAFF_SLACK_WEBHOOK_URL once per
subject until resolved; a shared mailbox's alert names the customers it sends for (staff filter
by organization) and their mailboxes page says the agency is on it."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope, tenant_scope
from campaigns.models import CampaignSender, EmailAccount
from instantly import alert_delivery
from instantly.models import Alert
from instantly.webhooks import queue
from instantly.webhooks.ingest import store_delivery
from messaging.models import DeliveryAttempt
from testkit import make_campaign

pytestmark = pytest.mark.django_db
STAFF_HOOK = "https://hooks.slack.com/services/T0/B0/staffsecret"
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
MAILBOX = "ops@salesbrain-mail.example"
ERROR = {
    "timestamp": "2026-03-02T07:30:00.000Z",
    "event_type": "account_error",
    "email_account": MAILBOX,
    "error_message": "Invalid login: 535-5.7.8 Username and Password not accepted.",
}


@pytest.fixture
def staff_settings(settings):
    settings.STAFF_ALERT_EMAILS = ["ops@agency.example", "cto@agency.example"]
    settings.STAFF_SLACK_WEBHOOK_URL = STAFF_HOOK
    return settings


@pytest.fixture
def shared_mailbox(org_a, shared_connection):
    """A mailbox of the agency's shared workspace that sends for org A's campaign."""
    campaign = make_campaign(shared_connection, "camp-a", organization=org_a, name="Acme Q1")
    with staff_scope():
        mailbox = EmailAccount.objects.create(connection_id=shared_connection.pk, email=MAILBOX)
        CampaignSender.objects.create(campaign=campaign, email_account=mailbox, organization=org_a)
    return mailbox


def account_error(connection, n=1):
    for i in range(n):
        at = f"2026-03-02T07:3{i}:00.000Z"
        store_delivery(connection, {**ERROR, "timestamp": at}, received_at=NOW)
    queue.drain(now=NOW)


@responses.activate
def test_a_mailbox_error_alerts_staff_once_until_resolved(
    staff_settings, shared_connection, shared_mailbox
):
    responses.post(STAFF_HOOK, body="ok")
    account_error(shared_connection, 3)
    assert alert_delivery.deliver() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["cto@agency.example", "ops@agency.example"]
    assert "Sends for: Acme Outreach" in mail.outbox[0].body
    assert "/admin/instantly/alert/" in mail.outbox[0].body
    assert len(responses.calls) == 1 and MAILBOX in responses.calls[0].request.body.decode()
    with staff_scope():
        assert Alert.objects.filter(notified_at__isnull=True).count() == 0
        channels = sorted(DeliveryAttempt.objects.values_list("channel", "status"))
    assert channels == [("email", "sent"), ("email", "sent"), ("slack", "sent")]

    account_error(shared_connection, 1)  # the same error again: nothing new for staff
    assert alert_delivery.deliver() == 0 and len(mail.outbox) == 2
    with staff_scope():
        Alert.objects.update(resolved_at=timezone.now())
    store_delivery(
        shared_connection, {**ERROR, "timestamp": "2026-03-02T09:00:00Z"}, received_at=NOW
    )
    queue.drain(now=NOW)
    assert alert_delivery.deliver() == 1 and len(mail.outbox) == 4


def test_a_shared_mailbox_alert_belongs_to_its_customers_for_staff_and_customer(
    org_a, org_b, alice, bob, adam, shared_connection, shared_mailbox
):
    account_error(shared_connection)
    with staff_scope():
        alert = Alert.objects.get()
    assert alert.organization_id is None and alert.customer_ids == [str(org_a.pk)]
    # Row-level security: org A reads it (never writes it), org B does not see it at all.
    with tenant_scope(org_a.pk):
        assert Alert.objects.unscoped().count() == 1
        assert Alert.objects.unscoped().update(resolved_at=NOW) == 0
    with tenant_scope(org_b.pk):
        assert Alert.objects.unscoped().count() == 0
    staff = Client()
    staff.force_login(adam)
    url = reverse("admin:instantly_alert_changelist")
    assert staff.get(url, {"concerns": str(org_a.pk)}).context["cl"].result_count == 1
    assert staff.get(url, {"concerns": str(org_b.pk)}).context["cl"].result_count == 0

    customer = Client()
    customer.force_login(alice)
    page = customer.get(reverse("portal:mailboxes")).content.decode()
    assert MAILBOX in page and "The agency was alerted on" in page
    alert_delivery.deliver()
    customer.force_login(bob)
    assert MAILBOX not in customer.get(reverse("portal:mailboxes")).content.decode()


def test_processing_enqueues_one_alert_and_one_delivery_task_per_batch_after_commit(
    shared_connection, shared_mailbox, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(queue, "enqueue_alert_delivery", lambda: calls.append("alerts"))
    monkeypatch.setattr(queue, "enqueue_delivery", lambda orgs: calls.append(("notes", orgs)))
    for i in range(3):
        store_delivery(
            shared_connection, {**ERROR, "timestamp": f"2026-03-02T07:3{i}:00Z"}, received_at=NOW
        )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.drain(now=NOW)
    assert calls == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert calls == [("notes", set()), "alerts"]
