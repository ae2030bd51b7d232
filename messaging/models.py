"""Conversations with leads: threads and the messages in them, searchable in full text."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.managers import TenantModel


class Thread(TenantModel):
    """One conversation with one contact inside one campaign; the inbox lists these."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE,
        related_name="threads",
    )  # fmt: skip
    contact = models.ForeignKey(
        "campaigns.Contact", on_delete=models.CASCADE, related_name="threads"
    )
    lead = models.ForeignKey(
        "campaigns.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    instantly_thread_id = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    has_reply = models.BooleanField(default=False, db_index=True)
    is_unread = models.BooleanField(default=False, db_index=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Triage: set when someone marks the conversation done (archived); a new inbound message
    # clears it again (`recording.update_threads`), so nothing the lead writes goes unseen.
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="uniq_thread_per_campaign_contact"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "has_reply", "-last_inbound_at"], name="thread_inbox_idx"
            )
        ]

    def __str__(self) -> str:
        return self.subject or f"Thread {self.pk}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def awaits_our_reply(self) -> bool:
        """The last message is the lead's: someone here should answer."""
        return bool(self.last_inbound_at and self.last_inbound_at >= self.last_message_at)


class Message(TenantModel):
    """One email, sent by a campaign or received from a lead."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign email"
        REPLY = "reply", "Reply"
        AUTO_REPLY = "auto_reply", "Automatic reply"
        MANUAL = "manual", "Manual email"

    class Status(models.TextChoices):
        """Delivery of a reply written here; blank for every email recorded from Instantly."""

        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE,
        related_name="messages",
    )  # fmt: skip
    contact = models.ForeignKey(
        "campaigns.Contact", null=True, blank=True, on_delete=models.CASCADE,
        related_name="messages",
    )  # fmt: skip
    email_account = models.ForeignKey(
        "campaigns.EmailAccount", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="messages",
    )  # fmt: skip
    direction = models.CharField(max_length=8, choices=Direction.choices, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    instantly_email_id = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    snippet = models.CharField(max_length=500, blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    to_email = models.CharField(max_length=254, blank=True)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    variant = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(db_index=True)
    is_unread = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    # The webhook event that recorded it (`instantly.WebhookEvent`): a plain id, as `instantly`
    # sits above; its migration puts the database's foreign key on the column.
    source_event_id = models.BigIntegerField(null=True, blank=True, unique=True)
    # A reply written in Salesbrain: who wrote it, how its sending went, and the compose's key
    # that makes a double click or a retried request send one email (unique per organization).
    status = models.CharField(max_length=8, choices=Status.choices, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    idempotency_key = models.CharField(max_length=64, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector(
            Coalesce("subject", models.Value(""), output_field=models.TextField()),
            weight="A",
            config="english",
        )
        + SearchVector(
            Coalesce("body_text", models.Value(""), output_field=models.TextField()),
            weight="B",
            config="english",
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "instantly_email_id"],
                condition=~models.Q(instantly_email_id=""),
                name="uniq_message_email_id",
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="uniq_message_idempotency_key",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="message_search_gin"),
            models.Index(fields=["campaign", "-sent_at"], name="message_campaign_sent_idx"),
            models.Index(fields=["organization", "-sent_at"], name="message_org_sent_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or f"Message {self.pk}"


class Notification(TenantModel):
    """Something a customer should see: a meeting booked, a lead that showed interest.

    Lives here, above campaigns, because it points at campaigns and leads (and will point at
    threads); the webhook event that raised it is a plain id, as `instantly` sits above."""

    class Kind(models.TextChoices):
        MEETING_BOOKED = "meeting_booked", "Meeting booked"
        LEAD_INTERESTED = "lead_interested", "Lead interested"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        "campaigns.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # One notification per (event, kind): reprocessing a webhook event must not notify twice.
    source_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "kind"], name="uniq_notification_per_event"
            )
        ]

    def __str__(self) -> str:
        return self.title
