"""Conversations with leads: threads and the messages in them, searchable in full text."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.managers import TenantModel
from salesbrain import encryption

from .categorise.categories import ReplyCategory


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
    # The category of the latest categorised inbound message (see `messaging.reply_categories`).
    category = models.CharField(
        max_length=24, choices=ReplyCategory.choices, blank=True, db_index=True
    )
    category_confidence = models.FloatField(null=True, blank=True)
    returns_on = models.DateField(null=True, blank=True)
    category_at = models.DateTimeField(null=True, blank=True)
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


class CategorySource(models.TextChoices):
    RULE = "rule", "Rule"
    MODEL = "model", "Model"
    LLM = "llm", "LLM"
    PERSON = "person", "Person"


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
    sent_at = models.DateTimeField()  # indexed with the id: `message_sent_idx`
    is_unread = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    # Inbound messages only: what the categoriser (or a person) said, and what it read.
    category = models.CharField(
        max_length=24, choices=ReplyCategory.choices, blank=True, db_index=True
    )
    category_confidence = models.FloatField(null=True, blank=True)
    category_source = models.CharField(max_length=8, choices=CategorySource.choices, blank=True)
    returns_on = models.DateField(null=True, blank=True)
    referral = models.JSONField(null=True, blank=True)
    categorised_at = models.DateTimeField(null=True, blank=True)
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
            # Full-text search goes through `sb_search_message_ids()` and one GIN index of the
            # words and the scope lexemes, `message_search_scope_gin`, made in SQL by migration
            # 0012 (its second column is an expression).
            # Counting a campaign's messages (every list's page count) from the index alone:
            # the row-level security filter needs `organization_id`, here without the table.
            models.Index(
                fields=["campaign", "-sent_at"],
                name="message_campaign_sent_org_idx",
                include=["organization"],
            ),
            # Lists are ordered (-sent_at, -id): with the id in the index a page is the index's
            # first rows, however many messages share a second (no sort of the ties).
            models.Index(fields=["organization", "-sent_at", "-id"], name="message_org_sent_idx"),
            models.Index(fields=["-sent_at", "-id"], name="message_sent_idx"),
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
        REPLY_INTERESTED = "reply_interested", "Reply: interested"
        REPLY_MEETING = "reply_meeting", "Reply: meeting request"
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
    # Set once email and Slack delivery has been scheduled (the dispatcher's claim).
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "kind"], name="uniq_notification_per_event"
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationRead(TenantModel):
    """That one user has read one notification.

    Read state is per user, and a notification belongs to an organization: rows are written
    only when someone reads, so raising a notification stays one insert whatever the team's
    size, and a member who joins later sees the organization's history as unread."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "notification"], name="uniq_notification_read")
        ]


class NotificationPreference(TenantModel):
    """How one member wants to hear about the organization's notifications by email."""

    class Email(models.TextChoices):
        OFF = "off", "Never"
        IMMEDIATE = "immediate", "Immediately"
        DAILY = "daily", "Daily digest"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=16, choices=Email.choices, default=Email.OFF)
    # Kinds to email; empty means every kind.
    kinds = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    digest_hour = models.PositiveSmallIntegerField(default=8)
    time_zone = models.CharField(max_length=64, default="UTC")
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="uniq_notification_preference"
            )
        ]

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class SlackWebhook(TenantModel):
    """An organization's Slack incoming-webhook URL (a secret: stored encrypted)."""

    url_encrypted = models.TextField(editable=False)
    url_hint = models.CharField(max_length=40, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="uniq_slack_webhook_per_org")
        ]

    @property
    def url(self) -> str:
        return encryption.decrypt(self.url_encrypted) if self.url_encrypted else ""

    @url.setter
    def url(self, value: str) -> None:
        self.url_encrypted = encryption.encrypt(value)
        # Only the path's start shows: the rest of an incoming-webhook URL is its secret.
        self.url_hint = value[:34]

    def __str__(self) -> str:
        return f"Slack {self.url_hint}…"


class DeliveryAttempt(TenantModel):
    """One try at delivering a notification, a digest or a staff alert: what, where, how it
    ended. Kept for support ("did alice get the email?") and to count a URL's failures."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    # What was delivered: "notification:12", "digest:<user>:<date>", "alert:7", "test".
    subject_key = models.CharField(max_length=80, db_index=True)
    recipient = models.CharField(max_length=254)
    attempt = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class FeedEvent(TenantModel):
    """One line of an organization's live feed: a reply, an interest change, a meeting, a
    bounce, a mailbox problem. Its id orders the feed and is the SSE event id, so a client
    resuming with `Last-Event-ID` asks the database for everything after it and misses
    nothing; a database trigger announces each new row with `pg_notify` when its transaction
    commits (migration 0005)."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        INTEREST = "interest", "Interest changed"
        MEETING = "meeting", "Meeting booked"
        BOUNCE = "bounce", "Bounce"
        MAILBOX = "mailbox", "Mailbox problem"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=300)
    detail = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    campaign_id = models.UUIDField(null=True, blank=True)
    lead_id = models.BigIntegerField(null=True, blank=True)
    thread_id = models.BigIntegerField(null=True, blank=True)
    # One line per (webhook event, kind, organization): reprocessing adds nothing; a shared
    # mailbox's problem gets a line in each customer's feed.
    source_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "kind", "organization"],
                name="uniq_feed_event_per_event",
            )
        ]
        indexes = [models.Index(fields=["organization", "-id"], name="feedevent_org_idx")]


class CategoryLabel(TenantModel):
    """A person's correction of a reply's category. Kept as a label: the evaluation counts
    them (`manage.py export_category_labels` writes them in the corpus's format)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="labels")
    category = models.CharField(max_length=24, choices=ReplyCategory.choices)
    previous_category = models.CharField(max_length=24, blank=True)
    previous_confidence = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.previous_category or '-'} -> {self.category}"


class ReplySettings(TenantModel):
    """An organization's choices for what categories do, and its lead-scoring points.

    Absent row = the defaults below (`for_organization` answers an unsaved one)."""

    notify_positive_replies = models.BooleanField(
        default=True, help_text="Notify on replies categorised interested or meeting request."
    )
    propose_interest_status = models.BooleanField(
        default=True, help_text="Propose an interest status when Instantly's is blank."
    )
    block_do_not_contact = models.BooleanField(
        default=True,
        help_text="Unsubscribe the lead and add the address to the workspace's Instantly "
        "block list when a reply asks never to be contacted again.",
    )
    block_min_confidence = models.FloatField(
        default=0.9, help_text="Only act on do-not-contact replies at least this sure (0-1)."
    )
    score_half_life_days = models.FloatField(
        default=14.0, help_text="Days after which an event counts half."
    )
    score_points = models.JSONField(
        default=dict, blank=True, help_text="Points per scored event (overrides the defaults)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="uniq_reply_settings_per_org")
        ]
        verbose_name_plural = "reply settings"

    def __str__(self) -> str:
        return f"Reply settings of {self.organization_id}"

    @classmethod
    def for_organization(cls, organization_id) -> ReplySettings:
        found = cls.objects.unscoped().filter(organization_id=organization_id).first()
        return found or cls(organization_id=organization_id)
