"""Campaigns, sending mailboxes, contacts and leads, and their daily figures.

Domain models: they speak Salesbrain's vocabulary (text statuses), never Instantly's numeric
codes or field spellings; `instantly.codes` translates. Synced objects keep the provider's raw
JSON beside the typed columns (`raw`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accounts.managers import TenantManager, TenantModel


class MailboxManager(TenantManager):
    """A tenant also sees the shared mailboxes that send for its campaigns (RLS agrees)."""

    def scope_to_organization(self, qs, organization_id):
        used = CampaignSender.objects.unscoped().filter(organization_id=organization_id)
        return qs.filter(
            models.Q(organization_id=organization_id)
            | models.Q(id__in=used.values("email_account_id"))
        )


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    RUNNING_SUBSEQUENCES = "running_subsequences", "Running subsequences"
    ACCOUNTS_UNHEALTHY = "accounts_unhealthy", "Accounts unhealthy"
    BOUNCE_PROTECT = "bounce_protect", "Bounce protect"
    ACCOUNT_SUSPENDED = "account_suspended", "Account suspended"
    UNKNOWN = "unknown", "Unknown"


class MailboxStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    MAINTENANCE = "maintenance", "Maintenance"
    CONNECTION_ERROR = "connection_error", "Connection error"
    SOFT_BOUNCE_ERROR = "soft_bounce_error", "Soft bounce error"
    SENDING_ERROR = "sending_error", "Sending error"
    UNKNOWN = "unknown", "Unknown"


class WarmupStatus(models.TextChoices):
    PAUSED = "paused", "Paused"
    ACTIVE = "active", "Active"
    BANNED = "banned", "Banned"
    SPAM_FOLDER_UNKNOWN = "spam_folder_unknown", "Spam folder unknown"
    PERMANENT_SUSPENSION = "permanent_suspension", "Permanent suspension"
    UNKNOWN = "unknown", "Unknown"


class MailProvider(models.TextChoices):
    IMAP = "imap", "IMAP/SMTP"
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft"
    AWS = "aws", "AWS"
    AIRMAIL = "airmail", "AirMail"
    AIRMAIL_INSTANT = "airmail_instant", "AirMail Instant"
    UNKNOWN = "unknown", "Unknown"


class LeadStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    BOUNCED = "bounced", "Bounced"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    SKIPPED = "skipped", "Skipped"
    ERROR = "error", "Error"


class InterestStatus(models.TextChoices):
    OUT_OF_OFFICE = "out_of_office", "Out of office"
    INTERESTED = "interested", "Interested"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    MEETING_COMPLETED = "meeting_completed", "Meeting completed"
    CLOSED = "closed", "Closed (won)"
    NEUTRAL = "neutral", "Neutral"
    NOT_INTERESTED = "not_interested", "Not interested"
    WRONG_PERSON = "wrong_person", "Wrong person"
    LOST = "lost", "Lost"
    NO_SHOW = "no_show", "No show"
    CUSTOM = "custom", "Custom label"


class NotSendingStatus(models.TextChoices):
    """Why Instantly says an active campaign is not sending right now (its
    `not_sending_status`); blank when it is sending or Instantly says nothing."""

    OUTSIDE_SCHEDULE = "outside_schedule", "Outside its sending schedule"
    WAITING_FOR_LEAD = "waiting_for_lead", "Waiting for a lead to process"
    DAILY_LIMIT = "daily_limit", "Reached its daily sending limit"
    ACCOUNTS_AT_LIMIT = "accounts_at_limit", "Every sending mailbox reached its daily limit"
    ERROR = "error", "Not sending because of an error (Instantly support can help)"
    UNKNOWN = "unknown", "Not sending (reason unknown)"


class LabelMeaning(models.TextChoices):
    """What a custom lead label means for interest (Instantly's `interest_status_label`)."""

    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"


class LeadLabel(TenantModel):
    """A custom lead label of one Instantly workspace (GET /api/v2/lead-labels), with its
    meaning. A lead whose `lt_interest_status` is the label's `interest_value`, or a webhook whose
    `event_type` is its name, carries the label; its meaning decides how it counts (a positive
    label counts like "interested"). Organization as the connection's (NULL: shared workspace)."""

    connection_id = models.UUIDField(db_index=True)
    instantly_id = models.CharField(max_length=64)
    label = models.CharField(max_length=120)
    meaning = models.CharField(
        max_length=16, choices=LabelMeaning.choices, default=LabelMeaning.NEUTRAL
    )
    # Instantly's own number for the label ("generated automatically"): what a lead's
    # lt_interest_status holds when it carries the label.
    interest_value = models.IntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    vanished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection_id", "instantly_id"], name="uniq_lead_label_per_connection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.meaning})"


class Campaign(TenantModel):
    """An Instantly campaign. In the shared workspace it stays unassigned (organization NULL,
    staff only) until staff assign it; the assignment survives every sync."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The Instantly workspace connection (`instantly.ProviderConnection`): a plain id, as
    # `instantly` sits above; its migration puts the database's foreign key on the column.
    connection_id = models.UUIDField(db_index=True)
    instantly_id = models.CharField(max_length=64)
    name = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=32, choices=CampaignStatus.choices, default=CampaignStatus.UNKNOWN, db_index=True
    )
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    stop_on_reply = models.BooleanField(null=True, blank=True)
    open_tracking = models.BooleanField(null=True, blank=True)
    link_tracking = models.BooleanField(null=True, blank=True)
    text_only = models.BooleanField(null=True, blank=True)
    schedule = models.JSONField(default=dict, blank=True)
    sequences = models.JSONField(default=list, blank=True)
    sender_emails = models.JSONField(default=list, blank=True)
    # Totals from Instantly's campaign analytics (authoritative; refreshed by each sync).
    analytics = models.JSONField(default=dict, blank=True)
    # Instantly's GET /campaigns/analytics/overview totals (interested, meetings booked,
    # closed, ...), shown beside the counts our webhooks recorded; refreshed by each sync.
    analytics_overview = models.JSONField(default=dict, blank=True)
    # Why Instantly says the campaign is not sending (its `not_sending_status`).
    not_sending_status = models.CharField(
        max_length=32, choices=NotSendingStatus.choices, blank=True
    )
    raw = models.JSONField(default=dict, blank=True)
    is_placeholder = models.BooleanField(
        default=False, help_text="Created from a webhook before any sync saw it."
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    vanished_at = models.DateTimeField(
        null=True, blank=True, help_text="No longer listed upstream; kept, never deleted."
    )
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection_id", "instantly_id"], name="uniq_campaign_per_connection"
            )
        ]
        indexes = [models.Index(fields=["organization", "name"], name="campaign_org_name_idx")]

    def __str__(self) -> str:
        return self.name or self.instantly_id


class EmailAccount(TenantModel):
    """A sending mailbox. A shared-workspace mailbox (organization NULL) is readable by every
    organization whose campaigns send from it (see `CampaignSender` and its RLS policy)."""

    # The Instantly workspace connection (`instantly.ProviderConnection`): a plain id, as
    # `instantly` sits above; its migration puts the database's foreign key on the column.
    connection_id = models.UUIDField(db_index=True)
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=32, choices=MailboxStatus.choices, default=MailboxStatus.UNKNOWN, db_index=True
    )
    status_message = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(
        max_length=16, choices=MailProvider.choices, default=MailProvider.UNKNOWN
    )
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    sending_gap = models.PositiveIntegerField(null=True, blank=True)
    warmup_status = models.CharField(
        max_length=32, choices=WarmupStatus.choices, default=WarmupStatus.UNKNOWN
    )
    warmup_score = models.PositiveSmallIntegerField(null=True, blank=True)
    warmup = models.JSONField(default=dict, blank=True)
    tracking_domain = models.CharField(max_length=255, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    vanished_at = models.DateTimeField(null=True, blank=True)
    upstream_created_at = models.DateTimeField(null=True, blank=True)
    upstream_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MailboxManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection_id", "email"], name="uniq_mailbox_per_connection"
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_healthy(self) -> bool:
        return self.status == MailboxStatus.ACTIVE


class CampaignSender(TenantModel):
    """Which mailboxes send for which campaign; organization follows the campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="senders")
    email_account = models.ForeignKey(
        EmailAccount, on_delete=models.CASCADE, related_name="campaign_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "email_account"], name="uniq_campaign_sender"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} ← {self.email_account}"


class Contact(TenantModel):
    """A person Salesbrain writes to, once per organization (or once in the shared pool)."""

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    custom_variables = models.JSONField(default=dict, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                name="uniq_contact_per_org",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class Lead(TenantModel):
    """A contact inside one campaign, with its state there. States only move forward in time:
    `status_at` / `interest_status_at` keep an older event from overwriting a newer state."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leads")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="leads")
    instantly_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=LeadStatus.choices, default=LeadStatus.ACTIVE, db_index=True
    )
    status_at = models.DateTimeField(null=True, blank=True)
    interest_status = models.CharField(
        max_length=32, choices=InterestStatus.choices, blank=True, db_index=True
    )
    interest_label = models.CharField(max_length=120, blank=True)
    interest_status_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Proposed by the reply categories (`messaging.reply_categories`); never overwrites
    # `interest_status`.
    proposed_interest_status = models.CharField(
        max_length=32, choices=InterestStatus.choices, blank=True
    )
    do_not_contact = models.BooleanField(default=False)
    # Lead score (`messaging.scoring`): 0-100 as last computed (on each event and by the decay
    # pass), from the decayed points sum `score_value` as of `score_at`, the time of the
    # latest counted event; `score_counts` counts the capped events (opens, clicks).
    score = models.PositiveSmallIntegerField(default=0)
    score_value = models.FloatField(default=0.0)
    score_at = models.DateTimeField(null=True, blank=True)
    score_counts = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="uniq_lead_per_campaign")
        ]
        indexes = [models.Index(fields=["organization", "-score"], name="lead_score_idx")]

    def __str__(self) -> str:
        return f"{self.contact} in {self.campaign}"


class Activity(TenantModel):
    """One thing that happened to a lead: an open, a click, a bounce, a status change."""

    class Kind(models.TextChoices):
        SENT = "sent", "Sent"
        OPENED = "opened", "Opened"
        CLICKED = "clicked", "Clicked"
        REPLIED = "replied", "Replied"
        AUTO_REPLIED = "auto_replied", "Auto-replied"
        BOUNCED = "bounced", "Bounced"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        SPAM_REPORTED = "spam_reported", "Reported as spam"
        STATUS_CHANGED = "status_changed", "Status changed"
        INTEREST_CHANGED = "interest_changed", "Interest changed"
        CAMPAIGN_CHANGED = "campaign_changed", "Campaign changed"
        ACCOUNT_ERROR = "account_error", "Mailbox error"

    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    email_account = models.ForeignKey(
        EmailAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    variant = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The webhook event that recorded it (`instantly.WebhookEvent`), a plain id like above.
    source_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["source_event_id", "kind"], name="uniq_activity_per_event"
            )
        ]
        indexes = [models.Index(fields=["campaign", "occurred_at"], name="activity_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class CampaignDailyStat(TenantModel):
    """Per-campaign figures for one day (UTC), updated by webhook processing and sync."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    sent = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    unique_opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    unique_clicked = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    unique_replied = models.PositiveIntegerField(default=0)
    auto_replied = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    interested = models.PositiveIntegerField(default=0)
    meetings_booked = models.PositiveIntegerField(default=0)
    opportunities = models.PositiveIntegerField(default=0)

    COUNTERS = (
        "sent", "contacted", "opened", "unique_opened", "clicked", "unique_clicked", "replied",
        "unique_replied", "auto_replied", "bounced", "unsubscribed", "interested",
        "meetings_booked", "opportunities",
    )  # fmt: skip

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="uniq_campaign_day")
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="campaignday_org_date_idx"),
            # A period over every organization (staff) reads its days, not the whole history.
            models.Index(fields=["date"], name="campaignday_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} on {self.date}"


class OrganizationDailyStat(TenantModel):
    """An organization's figures for one day: the sum of its campaigns' `CampaignDailyStat`.

    Kept by PostgreSQL, so that a period over every organization (staff's figures) reads one
    row per organization and day instead of one per campaign and day. It is an append-only
    ledger, not one row per day: triggers on `campaigns_campaigndailystat` (migration 0008) add,
    for each statement, one row per (organization, day) it changed, holding the difference; the
    sum of a day's rows is that day's figures at every moment, in every transaction. A trigger
    updating one row per day instead would make every two writers meeting on an organization's
    day wait for each other and, meeting on two days in opposite orders, deadlock.
    `daily_totals.compact()` (beat, every minute) folds each day's rows into one.

    No foreign key: a deleted campaign's or organization's rows are taken back by the
    triggers' negative rows, which must still be insertable after the organization is gone
    (compaction then drops the rows that sum to zero).
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    date = models.DateField()
    # False: a trigger's difference, not yet folded into the day's row by compaction.
    compacted = models.BooleanField(default=False)
    sent = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    opened = models.IntegerField(default=0)
    unique_opened = models.IntegerField(default=0)
    clicked = models.IntegerField(default=0)
    unique_clicked = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    unique_replied = models.IntegerField(default=0)
    auto_replied = models.IntegerField(default=0)
    bounced = models.IntegerField(default=0)
    unsubscribed = models.IntegerField(default=0)
    interested = models.IntegerField(default=0)
    meetings_booked = models.IntegerField(default=0)
    opportunities = models.IntegerField(default=0)

    COUNTERS = CampaignDailyStat.COUNTERS

    class Meta:
        ordering = ["-date"]
        indexes = [
            models.Index(fields=["organization", "date"], name="orgday_org_date_idx"),
            models.Index(fields=["date"], name="orgday_date_idx"),
            models.Index(
                fields=["date"], name="orgday_pending_idx", condition=models.Q(compacted=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id or 'shared workspace'} on {self.date}"


class CampaignStepStat(TenantModel):
    """Per step and variant figures of a campaign (1-based step and variant, as Instantly)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="step_stats")
    step = models.PositiveSmallIntegerField()
    variant = models.PositiveSmallIntegerField(default=1)
    sent = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    unique_opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    unique_clicked = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    unique_replied = models.PositiveIntegerField(default=0)
    opportunities = models.PositiveIntegerField(default=0)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["step", "variant"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "step", "variant"], name="uniq_campaign_step_variant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign}, step {self.step} variant {self.variant}"


class EmailAccountDailyStat(TenantModel):
    """A whole mailbox's figures for one day; `sent` is compared against its daily limit.

    The organization is the mailbox's: a shared mailbox's rows (NULL) are staff's only, since
    they add up every customer's sends. Customers see a shared mailbox through
    `MailboxCampaignDailyStat` instead.
    """

    email_account = models.ForeignKey(
        EmailAccount, on_delete=models.CASCADE, related_name="daily_stats"
    )
    date = models.DateField()
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["email_account", "date"], name="uniq_mailbox_day")
        ]

    def __str__(self) -> str:
        return f"{self.email_account} on {self.date}"


class MailboxCampaignDailyStat(TenantModel):
    """A mailbox's figures for one day and one campaign, counted from webhook events.

    What a customer may know of a mailbox it shares with others: the sends of its own
    campaigns. The organization follows the campaign (and moves with it on assignment).
    """

    email_account = models.ForeignKey(
        EmailAccount, on_delete=models.CASCADE, related_name="campaign_daily_stats"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="mailbox_daily_stats"
    )
    date = models.DateField()
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["email_account", "campaign", "date"], name="uniq_mailbox_campaign_day"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "email_account", "date"], name="mailboxcampaignday_org_idx"
            )
        ]
