"""Operator console for campaigns, mailboxes, contacts, leads and their figures.

Everything here is mirrored from Instantly and therefore read-only (see `MirroredAdmin`), with
one exception that belongs to Salesbrain: which organization a campaign of the shared workspace
serves. That is changed only through `campaigns.assignment.assign_campaign`, which moves the
campaign's dependent rows with it, either with the "Assign to organization" action or by
choosing the organization on the campaign's page.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.admin import OrganizationAdmin as BaseOrganizationAdmin
from accounts.admin_display import (
    MirroredAdmin,
    ReadOnlyInline,
    badge,
    organization_or_shared,
    short_datetime_column,
    truncated_with_title,
)
from accounts.models import Organization

from .admin_filters import AssignmentFilter, HealthFilter, UsedByFilter
from .assignment import assign_campaign
from .campaign_display import schedule_html, sequence_html
from .interest_totals import interest_totals
from .models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    CampaignStepStat,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    Lead,
    LeadLabel,
    MailboxStatus,
)

CAMPAIGN_TONES = {
    CampaignStatus.ACTIVE: "good",
    CampaignStatus.RUNNING_SUBSEQUENCES: "good",
    CampaignStatus.COMPLETED: "idle",
    CampaignStatus.DRAFT: "idle",
    CampaignStatus.PAUSED: "warn",
    CampaignStatus.ACCOUNTS_UNHEALTHY: "bad",
    CampaignStatus.BOUNCE_PROTECT: "bad",
    CampaignStatus.ACCOUNT_SUSPENDED: "bad",
}
MAILBOX_TONES = {
    MailboxStatus.ACTIVE: "good",
    MailboxStatus.PAUSED: "warn",
    MailboxStatus.MAINTENANCE: "warn",
    MailboxStatus.CONNECTION_ERROR: "bad",
    MailboxStatus.SOFT_BOUNCE_ERROR: "bad",
    MailboxStatus.SENDING_ERROR: "bad",
}
DAILY_STAT_INLINE_DAYS = 14


def utc_today():
    """Daily figures are kept per UTC day."""
    return timezone.now().date()


def _percent(part, whole) -> str:
    return f"{(part or 0) / whole:.1%}" if whole else "-"


def assign_campaigns(campaigns, organization) -> tuple[int, list[str]]:
    """Assign each campaign through the service, each in its own savepoint.

    Returns how many were assigned and one line per campaign the service refused, so a single
    refusal (say, a dedicated workspace's campaign) does not undo the others.
    """
    assigned, refusals = 0, []
    for campaign in campaigns:
        try:
            with transaction.atomic():
                assign_campaign(campaign, organization)
        except (ValidationError, ValueError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            refusals.append(f"{campaign}: {reason}")
        else:
            assigned += 1
    return assigned, refusals


class AssignOrganizationForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        widget=AutocompleteSelect(Campaign._meta.get_field("organization"), admin.site),
        help_text="The customer who will own the selected campaigns.",
    )


class CampaignSenderInline(ReadOnlyInline):
    model = CampaignSender
    fk_name = "campaign"
    fields = ["email_account"]
    readonly_fields = ["email_account"]
    verbose_name = "sending mailbox"
    verbose_name_plural = "sending mailboxes"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("email_account")


@admin.register(Campaign)
class CampaignAdmin(MirroredAdmin):
    list_display = [
        "name",
        "assignment",
        "status_badge",
        "sent_7d",
        "reply_rate_7d",
        "bounce_rate_7d",
        "daily_limit",
        short_datetime_column("synced_at", "Synced"),
    ]
    list_filter = [
        AssignmentFilter,
        "status",
        "organization",
        "is_placeholder",
        ("vanished_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["name", "instantly_id", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    editable_fields = ("organization",)
    readonly_fields = ["schedule_display", "sequence_display", "interest_totals_display"]
    actions = ["assign_to_organization"]
    inlines = [CampaignSenderInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "organization",
                    "connection_id",
                    "instantly_id",
                    "status",
                    "not_sending_status",
                    "daily_limit",
                    "is_placeholder",
                ],
                "description": "Everything but the organization is synced from Instantly.",
            },
        ),
        (
            "Settings",
            {
                "fields": [
                    "stop_on_reply",
                    "open_tracking",
                    "link_tracking",
                    "text_only",
                    "schedule_display",
                    "sender_emails_pretty",
                    "sequence_display",
                ]
            },
        ),
        ("Analytics", {"fields": ["interest_totals_display", "analytics_pretty"]}),
        (
            "Timestamps",
            {
                "fields": [
                    "upstream_created_at",
                    "upstream_updated_at",
                    "synced_at",
                    "completed_at",
                    "vanished_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("Raw payload", {"fields": ["raw_pretty"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        # The 7-day figures are summed in the changelist query itself, not once per row.
        week = Q(daily_stats__date__gte=utc_today() - dt.timedelta(days=6))
        return (
            super()
            .get_queryset(request)
            .annotate(
                _sent_7d=Sum("daily_stats__sent", filter=week),
                _replied_7d=Sum("daily_stats__unique_replied", filter=week),
                _bounced_7d=Sum("daily_stats__bounced", filter=week),
            )
        )

    @admin.display(description="Sent 7 d", ordering="_sent_7d")
    def sent_7d(self, obj):
        return f"{obj._sent_7d or 0:,}"

    @admin.display(description="Reply rate 7 d")
    def reply_rate_7d(self, obj):
        return _percent(obj._replied_7d, obj._sent_7d)

    @admin.display(description="Bounce rate 7 d")
    def bounce_rate_7d(self, obj):
        return _percent(obj._bounced_7d, obj._sent_7d)

    @admin.display(description="Schedule")
    def schedule_display(self, obj):
        return schedule_html(obj.schedule)

    @admin.display(description="Sequence")
    def sequence_display(self, obj):
        return sequence_html(obj.sequences)

    @admin.display(description="Organization", ordering="organization__name")
    def assignment(self, obj):
        return str(obj.organization) if obj.organization_id else badge("Unassigned", "warn")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        status = badge(obj.get_status_display(), CAMPAIGN_TONES.get(obj.status, "idle"))
        if not obj.not_sending_status:
            return status
        return format_html(
            "{} {}", status, badge(f"Not sending: {obj.get_not_sending_status_display()}", "warn")
        )

    @admin.display(description="Interest totals")
    def interest_totals_display(self, obj):
        """Instantly's overview totals beside what the webhooks recorded."""
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (
                    t.label,
                    "not synced yet" if t.instantly is None else f"{t.instantly:,}",
                    f"{t.recorded:,}",
                )
                for t in interest_totals(obj)
            ),
        )
        return format_html(
            "<table><thead><tr><th></th><th>Instantly</th><th>Recorded by webhooks</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    def save_model(self, request, obj, form, change):
        """The organization is the only editable column, and it moves through the service
        (emptying it gives the campaign back to the shared pool)."""
        if "organization" not in form.changed_data:
            return
        # The service gets the campaign as stored, so it sees where the rows move from.
        stored = Campaign.objects.select_related("organization").get(pk=obj.pk)
        _, refusals = assign_campaigns([stored], obj.organization)
        for line in refusals:
            self.message_user(request, f"Not assigned: {line}", messages.ERROR)
        obj.refresh_from_db()

    @admin.action(description="Assign to organization…", permissions=["change"])
    def assign_to_organization(self, request, queryset):
        """Intermediate page: choose the organization, then assign every selected campaign."""
        form = AssignOrganizationForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            assigned, refusals = assign_campaigns(
                queryset.select_related("organization"), organization
            )
            if assigned:
                self.message_user(
                    request, f"{assigned} campaign(s) assigned to {organization}.", messages.SUCCESS
                )
            for line in refusals:
                self.message_user(request, f"Not assigned: {line}", messages.ERROR)
            return None  # back to the changelist
        context = {
            **self.admin_site.each_context(request),
            "title": "Assign campaigns to an organization",
            "opts": self.model._meta,
            "queryset": queryset.select_related("organization"),
            "form": form,
            "media": self.media + form.media,
            "action": "assign_to_organization",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/assign_organization.html", context
        )


class MailboxCampaignInline(ReadOnlyInline):
    model = CampaignSender
    fk_name = "email_account"
    fields = ["campaign"]
    readonly_fields = ["campaign"]
    verbose_name = "campaign sending from this mailbox"
    verbose_name_plural = "campaigns sending from this mailbox"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")


class MailboxRecentDaysInline(ReadOnlyInline):
    model = EmailAccountDailyStat
    fields = ["date", "sent", "bounced", "replied"]
    readonly_fields = fields
    verbose_name = "recent day"
    verbose_name_plural = f"last {DAILY_STAT_INLINE_DAYS} days"
    show_change_link = False

    def get_queryset(self, request):
        since = utc_today() - dt.timedelta(days=DAILY_STAT_INLINE_DAYS - 1)
        return super().get_queryset(request).filter(date__gte=since)


@admin.register(EmailAccount)
class EmailAccountAdmin(MirroredAdmin):
    """Mailbox health at a glance: status, warmup, today's sending against the limit, errors."""

    list_display = [
        "email",
        "status_badge",
        "warmup_column",
        "sent_today_of_limit",
        "last_error_short",
        organization_or_shared,
        short_datetime_column("last_used_at", "Last used"),
    ]
    list_filter = [
        HealthFilter,
        UsedByFilter,
        "status",
        "warmup_status",
        "provider",
        ("vanished_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "first_name", "last_name", "last_error"]
    list_select_related = ["organization"]
    inlines = [MailboxRecentDaysInline, MailboxCampaignInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "organization",
                    "connection_id",
                    "provider",
                    "tracking_domain",
                ]
            },
        ),
        (
            "Health",
            {
                "fields": [
                    "status",
                    "status_message_pretty",
                    "last_error",
                    "last_error_at",
                    "daily_limit",
                    "sending_gap",
                    "last_used_at",
                ]
            },
        ),
        ("Warmup", {"fields": ["warmup_status", "warmup_score", "warmup_pretty"]}),
        (
            "Timestamps",
            {
                "fields": [
                    "upstream_created_at",
                    "upstream_updated_at",
                    "synced_at",
                    "vanished_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("Raw payload", {"fields": ["raw_pretty"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        # Today's sent count joins in as a subquery: one query for the page, not one per row.
        today_sent = EmailAccountDailyStat.objects.filter(
            email_account=OuterRef("pk"), date=utc_today()
        ).values("sent")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(sent_today=Subquery(today_sent, output_field=IntegerField()))
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), MAILBOX_TONES.get(obj.status, "idle"))

    @admin.display(description="Sent today / limit", ordering="sent_today")
    def sent_today_of_limit(self, obj):
        sent = getattr(obj, "sent_today", None) or 0
        if not obj.daily_limit:
            return f"{sent} / -"
        text = f"{sent} / {obj.daily_limit}"
        return badge(text, "warn") if sent >= obj.daily_limit else text

    @admin.display(description="Warmup", ordering="warmup_score")
    def warmup_column(self, obj):
        score = "" if obj.warmup_score is None else f" · {obj.warmup_score}"
        return f"{obj.get_warmup_status_display()}{score}"

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return truncated_with_title(obj.last_error)


@admin.register(CampaignSender)
class CampaignSenderAdmin(MirroredAdmin):
    list_display = ["campaign", "email_account", "organization"]
    search_fields = ["campaign__name", "email_account__email"]
    list_filter = [AssignmentFilter]
    list_select_related = ["campaign", "email_account", "organization"]


@admin.register(Contact)
class ContactAdmin(MirroredAdmin):
    list_display = [
        "email",
        "full_name",
        "company_name",
        organization_or_shared,
        "last_activity_at",
    ]
    list_filter = [AssignmentFilter, "organization"]
    search_fields = ["email", "first_name", "last_name", "company_name"]
    list_select_related = ["organization"]
    date_hierarchy = "last_activity_at"


@admin.register(Lead)
class LeadAdmin(MirroredAdmin):
    list_display = [
        "contact",
        "campaign",
        "status",
        "interest_status",
        "last_activity_at",
        organization_or_shared,
    ]
    list_filter = ["status", "interest_status", AssignmentFilter, "organization"]
    search_fields = ["contact__email", "campaign__name", "instantly_id"]
    list_select_related = ["contact", "campaign", "organization"]
    date_hierarchy = "last_activity_at"


@admin.register(Activity)
class ActivityAdmin(MirroredAdmin):
    list_display = ["kind", "occurred_at", "campaign", "contact", "email_account", "step"]
    list_filter = ["kind", AssignmentFilter]
    search_fields = ["contact__email", "campaign__name", "email_account__email"]
    list_select_related = ["campaign", "contact", "email_account"]
    date_hierarchy = "occurred_at"


@admin.register(CampaignDailyStat)
class CampaignDailyStatAdmin(MirroredAdmin):
    list_display = [
        "campaign",
        "date",
        "sent",
        "unique_opened",
        "unique_clicked",
        "unique_replied",
        "bounced",
        "interested",
        "meetings_booked",
    ]
    list_filter = [AssignmentFilter, "organization"]
    search_fields = ["campaign__name"]
    list_select_related = ["campaign"]
    date_hierarchy = "date"


@admin.register(CampaignStepStat)
class CampaignStepStatAdmin(MirroredAdmin):
    list_display = [
        "campaign",
        "step",
        "variant",
        "sent",
        "unique_opened",
        "unique_clicked",
        "unique_replied",
        "opportunities",
    ]
    list_filter = [AssignmentFilter]
    search_fields = ["campaign__name"]
    list_select_related = ["campaign"]


@admin.register(EmailAccountDailyStat)
class EmailAccountDailyStatAdmin(MirroredAdmin):
    list_display = ["email_account", "date", "sent", "bounced", "replied"]
    search_fields = ["email_account__email"]
    list_select_related = ["email_account"]
    date_hierarchy = "date"


@admin.register(LeadLabel)
class LeadLabelAdmin(MirroredAdmin):
    """Custom lead labels synced from each workspace (GET /lead-labels), with their meaning."""

    list_display = ["label", "meaning", "interest_value", "connection_id", "vanished_at"]
    list_filter = ["meaning", ("vanished_at", admin.EmptyFieldListFilter)]
    search_fields = ["label"]


admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationAdmin(BaseOrganizationAdmin):
    """`accounts`' organization admin plus each organization's campaign count (registered from
    this layer because accounts sits below campaigns)."""

    list_display = ["name", "slug", "member_count", "campaign_count", "created_at"]

    def get_queryset(self, request):
        # Counted in the changelist query itself, not once per row.
        campaigns = (
            Campaign.objects.filter(organization=OuterRef("pk"))
            .order_by()
            .values("organization")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(_campaign_count=Coalesce(Subquery(campaigns, output_field=IntegerField()), 0))
        )

    @admin.display(description="Campaigns", ordering="_campaign_count")
    def campaign_count(self, obj):
        return obj._campaign_count
