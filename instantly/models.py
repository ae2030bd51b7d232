"""Provider objects: connections to Instantly workspaces, the webhook delivery log, alerts.

Like dj-stripe, every delivery is written down before anything else happens to it, and keeps
the provider's raw JSON; unlike dj-stripe, processing happens in Celery, never in the request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.managers import TenantModel
from campaigns.models import Campaign, EmailAccount
from salesbrain import encryption


def secret_digest(secret: str) -> str:
    """Indexable fingerprint of a webhook secret (the secret itself is stored encrypted)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SubscriptionState(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled by Instantly"
    MISSING = "missing", "Gone at Instantly"


class ProviderConnection(TenantModel):
    """One Instantly workspace Salesbrain mirrors.

    `organization` NULL is the agency's shared workspace, whose campaigns staff assign to
    customers; a set organization is a customer's dedicated workspace (their own API key).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    is_shared = models.BooleanField(
        default=False, help_text="The agency's shared workspace (created from INSTANTLY_API_KEY)."
    )
    api_key_encrypted = models.TextField(editable=False)
    api_key_v1_encrypted = models.TextField(blank=True, default="", editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    workspace_id = models.CharField(max_length=64, blank=True, db_index=True)
    workspace_name = models.CharField(max_length=200, blank=True)
    webhook_secret_encrypted = models.TextField(editable=False)
    webhook_secret_digest = models.CharField(max_length=64, unique=True, editable=False)
    webhook_subscription_id = models.CharField(max_length=64, blank=True)
    # What Instantly last said about that subscription (checked by every sync): Instantly
    # disables one after failed deliveries, and then no event arrives until it is resumed.
    webhook_subscription_state = models.CharField(
        max_length=16, choices=SubscriptionState.choices, default=SubscriptionState.UNKNOWN
    )
    webhook_checked_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_shared"],
                condition=models.Q(is_shared=True),
                name="one_shared_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the key
        return f"<ProviderConnection {self.pk} {self.name!r}>"

    # --- secrets -------------------------------------------------------------------------
    @property
    def api_key(self) -> str:
        return encryption.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_key_encrypted = encryption.encrypt(value)
        self.api_key_last4 = value[-4:]

    @property
    def api_key_v1(self) -> str:
        return encryption.decrypt(self.api_key_v1_encrypted) if self.api_key_v1_encrypted else ""

    @api_key_v1.setter
    def api_key_v1(self, value: str) -> None:
        self.api_key_v1_encrypted = encryption.encrypt(value) if value else ""

    @property
    def webhook_secret(self) -> str:
        return encryption.decrypt(self.webhook_secret_encrypted)

    def set_new_webhook_secret(self) -> str:
        """Generate a fresh 32-byte secret; the subscription must be re-registered after."""
        secret = secrets.token_urlsafe(32)
        self.webhook_secret_encrypted = encryption.encrypt(secret)
        self.webhook_secret_digest = secret_digest(secret)
        return secret

    def rows_using(self) -> list:
        """Up to 20 campaigns and mailboxes of this workspace (unscoped: staff code)."""
        campaigns = Campaign.objects.unscoped().filter(connection_id=self.pk)[:10]
        mailboxes = EmailAccount.objects.unscoped().filter(connection_id=self.pk)[:10]
        return [*campaigns, *mailboxes]

    def delete(self, *args, **kwargs):
        """Refused while campaigns or mailboxes use the workspace, as PROTECT did before they
        held it as a plain id (the database's foreign key is the last guard)."""
        in_use = self.rows_using()
        if in_use:
            raise ProtectedError(
                f"{self} still has campaigns or mailboxes; delete those first.", set(in_use)
            )
        return super().delete(*args, **kwargs)

    def save(self, *args, **kwargs):
        if not self.webhook_secret_encrypted:
            self.set_new_webhook_secret()
        super().save(*args, **kwargs)


class WebhookEvent(TenantModel):
    """One webhook delivery exactly as received, and what became of it.

    Written before the 2xx answer; processed later by a Celery task that claims it with a
    conditional UPDATE. `dedupe_key` makes a repeated delivery a no-op.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    # Indexed by `webhookevent_arrival_idx` (and `uniq_delivery`), not on its own.
    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.PROTECT, related_name="webhook_events", db_index=False
    )
    payload = models.JSONField()
    event_type_raw = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=64)
    dedupe_key = models.CharField(max_length=64)
    campaign_instantly_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The receiving request's X-Request-ID: processing lines carry it, wherever they run.
    request_id = models.CharField(max_length=128, blank=True, default="")
    # Indexed by `webhookevent_sweep_idx` (status first).
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When the raw payload of this processed event was dropped (`webhooks.prune`): the row and
    # its metadata stay, `payload` is then `{}`.
    payload_pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "dedupe_key"], name="uniq_delivery")
        ]
        # Every delivery writes each of these: the receiver's cost grows with their number, so
        # none is redundant (no `LIKE` index, no index another's first column already serves).
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhookevent_sweep_idx"),
            models.Index(fields=["event_type"], name="webhookevent_type_idx"),
            # A connection's last delivery (status page, connection admin, test delivery).
            models.Index(fields=["connection", "received_at"], name="webhookevent_arrival_idx"),
            # Only what pruning has still to do: it never re-reads pruned rows.
            models.Index(
                fields=["received_at"],
                name="webhookevent_prune_idx",
                condition=models.Q(status="processed", payload_pruned_at__isnull=True),
            ),
            # The claim of pending first attempts scans only them, however large the table.
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending", attempts=0),
                name="webhookevent_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type_raw or self.event_type} #{self.pk}"


class Alert(TenantModel):
    """Something staff must look at: a mailbox in error, a connection that fails."""

    class Kind(models.TextChoices):
        ACCOUNT_ERROR = "account_error", "Mailbox error"
        CONNECTION_ERROR = "connection_error", "Connection error"
        WEBHOOK_FAILED = "webhook_failed", "Webhook processing failed"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    connection = models.ForeignKey(
        ProviderConnection, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    email_account = models.ForeignKey(
        "campaigns.EmailAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source_event = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The customers whose campaigns send from the mailbox (a shared mailbox's alert concerns
    # them even though the mailbox, and so the alert, belongs to the agency's workspace).
    # A JSON list of organization ids (text): the bulk writer moves JSON, not arrays.
    customer_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When staff were told (email, Slack); set on the duplicates it stood for, too.
    notified_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source_event", "kind"], name="uniq_alert_per_event")
        ]
        indexes = [GinIndex(fields=["customer_ids"], name="alert_customer_ids_gin")]

    def subject(self) -> tuple:
        """What the alert is about: one open alert per subject is worth telling staff."""
        return (self.kind, self.email_account_id or self.connection_id or self.title)

    def __str__(self) -> str:
        return self.title


class SyncRun(TenantModel):
    """One sync of one connection: when, how it ended, what it cost (requests, and the 429s
    Instantly answered). Its id is the `sync_id` of the sync's log lines."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Succeeded"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    full = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    requests = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0, help_text="Requests answered 429.")
    duration_seconds = models.FloatField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["connection", "-started_at"], name="syncrun_connection_idx")
        ]

    def __str__(self) -> str:
        return f"Sync #{self.pk} of {self.connection_id} ({self.outcome})"


class BlocklistAction(TenantModel):
    """A do-not-contact reply acted on: the lead unsubscribed and the address added to the
    workspace's Instantly block list. Staff see every one in the console and can undo it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        BLOCKED = "blocked", "Blocked"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.CASCADE, related_name="blocklist_actions"
    )
    lead = models.ForeignKey(
        "campaigns.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.OneToOneField(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="blocklist_action",
    )  # fmt: skip
    email = models.CharField(max_length=254)
    confidence = models.FloatField()
    by_person = models.BooleanField(default=False)
    previous_lead_status = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    instantly_entry_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Block {self.email} ({self.get_status_display()})"


class HistoryBackfill(TenantModel):
    """Where the history backfill of one connection stands (`instantly.sync.backfill`).

    Webhooks only report what happens after the subscription; the backfill reads the Unibox
    (GET /emails, newest first) and the lead lists once, then only what is new. Emails are read
    in passes: a pass walks pages until it reaches emails the previous pass already had
    (`emails_pass_until`); the cursor is saved with every page's rows, so an interrupted pass
    (a 50,000-email first backfill takes at least 25 minutes at 20 requests a minute) resumes
    at the page after the last one written.
    """

    connection = models.OneToOneField(
        ProviderConnection, on_delete=models.CASCADE, related_name="history"
    )
    emails_pass_open = models.BooleanField(default=False)
    emails_cursor = models.CharField(max_length=200, blank=True)
    emails_pass_until = models.DateTimeField(null=True, blank=True)
    emails_pass_newest = models.DateTimeField(null=True, blank=True)
    emails_newest_at = models.DateTimeField(
        null=True, blank=True, help_text="Newest email of the last complete pass."
    )
    emails_first_done_at = models.DateTimeField(null=True, blank=True)
    emails_fetched = models.PositiveIntegerField(default=0)
    emails_written = models.PositiveIntegerField(default=0)
    emails_pages = models.PositiveIntegerField(default=0)
    leads_fetched = models.PositiveIntegerField(default=0)
    leads_synced_at = models.DateTimeField(null=True, blank=True)
    # The last delivery reconciliation (`instantly.reconcile`): the next reads the log from here.
    deliveries_reconciled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "history backfill"

    def __str__(self) -> str:
        return f"History of {self.connection_id}"


class MissedDelivery(TenantModel):
    """A delivery Instantly's log (GET /api/v2/webhook-events) shows as failed and that we
    never stored, replayed from the payload the log kept. `dedupe_key` is the delivery's key
    (the same as `WebhookEvent.dedupe_key`), so a delivery is replayed at most once however
    often the log lists it (one row per attempt) and whatever the reconciliation's schedule."""

    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.CASCADE, related_name="missed_deliveries"
    )
    dedupe_key = models.CharField(max_length=64)
    log_id = models.CharField(max_length=64, blank=True)
    event_type = models.CharField(max_length=200, blank=True)
    logged_at = models.DateTimeField(null=True, blank=True)
    status_code = models.IntegerField(null=True, blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    found_at = models.DateTimeField(default=timezone.now, db_index=True)
    recovered_event = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-found_at"]
        verbose_name_plural = "missed deliveries"
        constraints = [
            models.UniqueConstraint(fields=["connection", "dedupe_key"], name="uniq_missed")
        ]

    def __str__(self) -> str:
        return f"Missed {self.event_type or 'delivery'} ({self.dedupe_key[:12]})"


class WebhookTest(TenantModel):
    """A test delivery asked of Instantly (POST /api/v2/webhooks/{id}/test) and whether a
    delivery reached us within the wait (30 s)."""

    class Outcome(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ARRIVED = "arrived", "Arrived"
        MISSING = "missing", "Did not arrive"
        FAILED = "failed", "Instantly refused"

    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.CASCADE, related_name="webhook_tests"
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.WAITING)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Test delivery {self.requested_at:%Y-%m-%d %H:%M} ({self.outcome})"
