"""The operator console (`/admin/`) tests of every app: rows to show, pages to walk.

`make_console_rows` writes one row of every model the console shows (on top of the tenant
rows), so each changelist and change page renders real data; `registered_models` and
`assert_console_pages_load` walk the registered admins of an app.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.models import (
    Activity,
    CampaignDailyStat,
    CampaignSender,
    CampaignStepStat,
    EmailAccount,
    EmailAccountDailyStat,
    Lead,
    LeadLabel,
    MailboxStatus,
)
from instantly.models import (
    Alert,
    BlocklistAction,
    MissedDelivery,
    SyncRun,
    WebhookEvent,
    WebhookTest,
)
from messaging.models import CategoryLabel, Notification, ReplySettings
from testkit.rows import SHARED_API_KEY, make_webhook_event


def make_console_rows(tenant_rows, org_a, connection) -> dict:
    """One mailbox, lead, activity, stats, webhook event, alert, notification, category label,
    reply settings and block-list action (org A) and sync run (of the connection)."""
    campaign = tenant_rows["a"]["campaign"]
    contact = tenant_rows["a"]["contact"]
    today = timezone.now().date()
    with staff_scope():
        mailbox = EmailAccount.objects.create(
            organization=None,
            connection_id=connection.pk,
            email="sender@agency.example",
            status=MailboxStatus.SENDING_ERROR,
            last_error="550 mailbox unavailable",
            daily_limit=30,
            warmup_score=87,
            raw={"email": "sender@agency.example", "status": -2},
        )
        CampaignSender.objects.create(organization=org_a, campaign=campaign, email_account=mailbox)
        EmailAccountDailyStat.objects.create(email_account=mailbox, date=today, sent=7)
        EmailAccountDailyStat.objects.create(
            email_account=mailbox, date=today - dt.timedelta(days=1), sent=29
        )
        lead = Lead.objects.create(organization=org_a, campaign=campaign, contact=contact)
        event = make_webhook_event(
            connection,
            "dedupe-console-1",
            WebhookEvent.Status.FAILED,
            organization=org_a,
            payload={"event_type": "reply_received", "lead_email": contact.email},
            campaign_instantly_id=campaign.instantly_id,
            last_error="boom",
        )
        Activity.objects.create(
            organization=org_a,
            kind=Activity.Kind.REPLIED,
            occurred_at=timezone.now(),
            campaign=campaign,
            lead=lead,
            contact=contact,
            email_account=mailbox,
            data={"step": 1},
        )
        CampaignDailyStat.objects.create(organization=org_a, campaign=campaign, date=today, sent=5)
        CampaignStepStat.objects.create(organization=org_a, campaign=campaign, step=1, sent=5)
        LeadLabel.objects.create(
            connection_id=connection.pk,
            organization=connection.organization,
            instantly_id="019d9c5f-9689-7a80-835a-ba07d3878ce7",
            label="Hot Lead",
            meaning="positive",
            interest_value=17,
        )
        alert = Alert.objects.create(
            kind=Alert.Kind.ACCOUNT_ERROR,
            title="Mailbox sender@agency.example is failing",
            email_account=mailbox,
            connection=connection,
        )
        sync_run = SyncRun.objects.create(
            organization=connection.organization,
            connection=connection,
            outcome=SyncRun.Outcome.FAILED,
            finished_at=timezone.now(),
            requests=12,
            throttled=3,
            duration_seconds=4.2,
            counts={"campaigns_created": 1},
            error="Instantly answered 429 too often",
        )
        notification = Notification.objects.create(
            organization=org_a,
            kind=Notification.Kind.LEAD_INTERESTED,
            title="A lead is interested",
            campaign=campaign,
            lead=lead,
        )
        label = CategoryLabel.objects.create(
            organization=org_a,
            message=tenant_rows["a"]["message"],
            category="interested",
            previous_category="not_interested",
            previous_confidence=0.7,
        )
        reply_settings = ReplySettings.objects.create(organization=org_a, score_half_life_days=7)
        blocklist_action = BlocklistAction.objects.create(
            organization=org_a,
            connection=connection,
            lead=lead,
            email=contact.email,
            confidence=0.97,
            previous_lead_status="active",
            status=BlocklistAction.Status.BLOCKED,
            instantly_entry_id="bl-entry-1",
        )
        missed = MissedDelivery.objects.create(
            organization=connection.organization,
            connection=connection,
            dedupe_key="d" * 64,
            log_id="log-1",
            event_type="reply_received",
            status_code=503,
            retry_count=3,
            error_message="Delivery failed: ECONNREFUSED",
            recovered_event=event,
        )
        webhook_test = WebhookTest.objects.create(
            organization=connection.organization,
            connection=connection,
            outcome=WebhookTest.Outcome.ARRIVED,
            arrived_at=timezone.now(),
            detail="arrived after 0.4 s",
        )
    return {
        "missed": missed,
        "webhook_test": webhook_test,
        "label": label,
        "reply_settings": reply_settings,
        "blocklist_action": blocklist_action,
        "mailbox": mailbox,
        "lead": lead,
        "event": event,
        "alert": alert,
        "notification": notification,
        "sync_run": sync_run,
    }


def messages_of(response) -> list[tuple[str, str]]:
    """The (level, text) of the messages the console shows after `response`."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def admin_urls(model, obj) -> list[str]:
    """The changelist, change page and history page of one object."""
    info = (model._meta.app_label, model._meta.model_name)
    return [
        reverse("admin:{}_{}_changelist".format(*info)),
        reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
        reverse("admin:{}_{}_history".format(*info), args=[obj.pk]),
    ]


def registered_models(*app_labels):
    """Every model of these apps that the console registers, sorted for stable test ids."""
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label in app_labels),
        key=lambda m: m._meta.label,
    )


def assert_console_pages_load(client, user, model) -> None:
    """Changelist, change and history pages of the model's first row answer 200 for `user`,
    show the row, and never contain the connection API key."""
    client.force_login(user)
    with staff_scope():
        obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} row to show: extend make_console_rows"
    for url in admin_urls(model, obj):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert SHARED_API_KEY not in response.content.decode(), url
    response = client.get(admin_urls(model, obj)[0])
    change_url = admin_urls(model, obj)[1]
    assert change_url in response.content.decode(), f"{model._meta.label} row not listed"
