"""API for campaigns (with their figures), sending mailboxes, contacts, leads and
the organization's figures.

Everything here is mirrored from Instantly, so it is read-only (a change made here would be
overwritten by the next sync), but for staff assigning a shared campaign to a customer
(`campaigns.assignment`, which no sync undoes). Figures come from `campaigns.stats`, the module
the pages use too.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.models import Organization
from salesbrain.api.permissions import IsAgencyStaff, caller_is_staff
from salesbrain.api.viewsets import (
    INT_LOOKUP,
    UUID_LOOKUP,
    ReadOnlyScopedViewSet,
    ScopedViewSet,
)

from . import interest, stats
from .assignment import assign_campaign
from .filters import (
    CampaignFilter,
    ContactFilter,
    EmailAccountFilter,
    LeadFilter,
)
from .mailbox_stats import COUNTERS as MAILBOX_COUNTERS
from .mailbox_stats import mailbox_days
from .models import (
    Campaign,
    CampaignDailyStat,
    CampaignStatus,
    Contact,
    EmailAccount,
    InterestStatus,
    Lead,
    OrganizationDailyStat,
)

# --- periods and figures --------------------------------------------------------------------

EARLIEST, LATEST = stats.EARLIEST, stats.LATEST
MAX_PERIOD_DAYS = 366


class PeriodSerializer(serializers.Serializer):
    """`start`/`end` (both included), or the last `days` days; default: the last 30 days."""

    start = serializers.DateField(required=False, help_text="First day (UTC), included.")
    end = serializers.DateField(required=False, help_text="Last day (UTC), included.")
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PERIOD_DAYS,
        help_text="The last N days up to `end` (or today) when `start` is not given.",
    )  # fmt: skip

    def validate(self, attrs):
        days = attrs.get("days", 30)
        end = attrs.get("end") or stats.default_period(days=1)[1]
        start = attrs.get("start") or end - dt.timedelta(days=days - 1)
        for name, value in (("start", start), ("end", end)):
            if not EARLIEST <= value <= LATEST:
                raise serializers.ValidationError({name: f"Between {EARLIEST} and {LATEST}."})
        if end < start:
            raise serializers.ValidationError({"end": "Must not be before start."})
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"start": f"At most {MAX_PERIOD_DAYS} days."})
        return {"start": start, "end": end}


def requested_period(request) -> tuple[dt.date, dt.date]:
    params = PeriodSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data["start"], params.validated_data["end"]


def _counter_fields() -> dict:
    return {name: serializers.IntegerField() for name in stats.COUNTERS}


StatTotalsSerializer = type(
    "StatTotalsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Counter totals and the rates derived from them (per email sent).",
        **_counter_fields(),
        **{name: serializers.FloatField() for name in stats.StatSummary().rates()},
    },
)
DailyFiguresSerializer = type(
    "DailyFiguresSerializer",
    (serializers.Serializer,),
    {"__doc__": "One day's counters.", "date": serializers.DateField(), **_counter_fields()},
)


@extend_schema_field(StatTotalsSerializer)
class TotalsField(serializers.Field):
    """`StatSummary.as_dict()` as is: already JSON (ints and floats). A nested serializer would
    re-validate 18 numbers per campaign, a third of a campaign page's time."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return value


class PeriodBoundsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class PeriodStatsSerializer(serializers.Serializer):
    period = PeriodBoundsSerializer()
    totals = StatTotalsSerializer()
    previous_period = PeriodBoundsSerializer()
    previous = StatTotalsSerializer(help_text="The same figures for the period just before.")
    daily = DailyFiguresSerializer(many=True, help_text="Every day of the period, zeros included.")


def period_stats(daily, start: dt.date, end: dt.date) -> dict:
    """Totals, the previous period's totals and the daily series of `daily` rows."""
    comparison, series = stats.period_figures(daily, start, end)
    previous_start, previous_end = stats.previous_period(start, end)
    return {
        "period": {"start": start, "end": end},
        "totals": comparison.current.as_dict(),
        "previous_period": {"start": previous_start, "end": previous_end},
        "previous": comparison.previous.as_dict(),
        "daily": series,
    }


def attach_totals(campaigns: list[Campaign]) -> list[Campaign]:
    """Give each campaign of a page its all-time `totals` (one query for the whole page)."""
    names = [f"total_{name}" for name in stats.COUNTERS]
    rows = stats.with_totals(Campaign.objects.filter(pk__in=[c.pk for c in campaigns])).values(
        "pk", *names
    )
    by_campaign = {row["pk"]: row for row in rows}
    for campaign in campaigns:
        row = by_campaign.get(campaign.pk, {})
        counts = {name: row.get(f"total_{name}") or 0 for name in stats.COUNTERS}
        campaign.totals = stats.StatSummary(counts).as_dict()
    return campaigns


# --- campaigns ------------------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign in a list: what a table of campaigns shows (the detail has the settings)."""

    totals = TotalsField(help_text="All-time figures.")
    connection = serializers.UUIDField(
        source="connection_id", read_only=True, help_text="The Instantly workspace connection."
    )

    class Meta:
        model = Campaign
        fields = [
            "id", "organization", "connection", "instantly_id", "name", "status", "daily_limit",
            "is_placeholder", "completed_at", "vanished_at", "synced_at", "created_at", "totals",
        ]  # fmt: skip
        read_only_fields = fields


class CampaignDetailSerializer(CampaignSerializer):
    class Meta(CampaignSerializer.Meta):
        fields = [
            *CampaignSerializer.Meta.fields, "stop_on_reply", "open_tracking", "link_tracking",
            "text_only", "schedule", "sender_emails", "sequences", "upstream_created_at",
            "upstream_updated_at", "not_sending_status", "analytics_overview",
        ]  # fmt: skip
        read_only_fields = fields


class CampaignStatsSerializer(PeriodStatsSerializer):
    campaign = serializers.UUIDField()


class AssignSerializer(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), allow_null=True,
        help_text="The customer to give the campaign to; null puts it back in the shared pool.",
    )  # fmt: skip


class AssignmentResultSerializer(serializers.Serializer):
    organization = serializers.UUIDField(allow_null=True)
    changed = serializers.BooleanField()
    moved = serializers.DictField(child=serializers.IntegerField(), help_text="Rows per kind.")
    contacts_created = serializers.IntegerField()
    contacts_removed = serializers.IntegerField()


@extend_schema_view(
    stats=extend_schema(parameters=[PeriodSerializer], responses=CampaignStatsSerializer),
    assign=extend_schema(request=AssignSerializer, responses=AssignmentResultSerializer),
)
class CampaignViewSet(ReadOnlyScopedViewSet):
    """Campaigns with their all-time figures; `stats` breaks a period down by day."""

    model = Campaign
    lookup_value_regex = UUID_LOOKUP
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["name", "status", "created_at", "upstream_created_at"]
    ordering = ["name", "id"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CampaignDetailSerializer
        return super().get_serializer_class()

    def get_scoped_queryset(self, queryset):
        if self.action == "list":
            fields = [
                f for f in CampaignSerializer.Meta.fields if f not in ("totals", "connection")
            ]
            return queryset.only(*fields, "connection_id")
        return queryset

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(attach_totals(page), many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        (campaign,) = attach_totals([self.get_object()])
        return Response(self.get_serializer(campaign).data)

    @action(detail=True)
    def stats(self, request, pk=None):
        """Figures of one campaign over a period, the period before, and day by day."""
        campaign = self.get_object()
        start, end = requested_period(request)
        daily = CampaignDailyStat.objects.filter(campaign=campaign)
        return Response({"campaign": campaign.pk, **period_stats(daily, start, end)})

    @action(detail=True, methods=["post"], permission_classes=[IsAgencyStaff])
    def assign(self, request, pk=None):
        """Staff: give the campaign, with its leads, threads and messages, to a customer."""
        campaign = self.get_object()
        params = AssignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = assign_campaign(campaign, params.validated_data["organization"])
        return Response(
            {
                "organization": result.organization_id,
                "changed": result.changed,
                "moved": result.moved,
                "contacts_created": result.contacts_created,
                "contacts_removed": result.contacts_removed,
            }
        )


# --- mailboxes ------------------------------------------------------------------------------


class EmailAccountSerializer(serializers.ModelSerializer):
    is_healthy = serializers.BooleanField(read_only=True)
    connection = serializers.UUIDField(
        source="connection_id", read_only=True, help_text="The Instantly workspace connection."
    )

    class Meta:
        model = EmailAccount
        fields = [
            "id", "organization", "connection", "email", "first_name", "last_name", "status",
            "is_healthy", "last_error", "last_error_at", "provider", "daily_limit",
            "sending_gap", "warmup_status", "warmup_score", "tracking_domain", "last_used_at",
            "vanished_at", "synced_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class MailboxDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    sent = serializers.IntegerField()
    bounced = serializers.IntegerField()
    replied = serializers.IntegerField()


class MailboxTotalsSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    bounced = serializers.IntegerField()
    replied = serializers.IntegerField()
    bounce_rate = serializers.FloatField()
    reply_rate = serializers.FloatField()


class MailboxStatsSerializer(serializers.Serializer):
    email_account = serializers.IntegerField()
    daily_limit = serializers.IntegerField(allow_null=True)
    period = PeriodBoundsSerializer()
    totals = MailboxTotalsSerializer()
    daily = MailboxDaySerializer(many=True, help_text="Every day of the period, zeros included.")


def mailbox_stats(account: EmailAccount, start: dt.date, end: dt.date, *, organization_id) -> dict:
    """A mailbox's days over a period, as `organization_id` may see them (None: staff, the
    whole mailbox; see `campaigns.mailbox_stats`)."""
    by_day = mailbox_days([account], start, end, organization_id=organization_id)[account.pk]
    daily, day = [], start
    while day <= end:
        row = by_day.get(day, {})
        daily.append({"date": day, **{name: row.get(name, 0) for name in MAILBOX_COUNTERS}})
        day += dt.timedelta(days=1)
    totals = {name: sum(d[name] for d in daily) for name in MAILBOX_COUNTERS}
    sent = totals["sent"]
    totals["bounce_rate"] = round(totals["bounced"] / sent, 4) if sent else 0.0
    totals["reply_rate"] = round(totals["replied"] / sent, 4) if sent else 0.0
    return {
        "email_account": account.pk,
        "daily_limit": account.daily_limit,
        "period": {"start": start, "end": end},
        "totals": totals,
        "daily": daily,
    }


@extend_schema_view(
    stats=extend_schema(parameters=[PeriodSerializer], responses=MailboxStatsSerializer),
)
class EmailAccountViewSet(ReadOnlyScopedViewSet):
    """Sending mailboxes: the organization's own and the shared ones its campaigns send from."""

    model = EmailAccount
    serializer_class = EmailAccountSerializer
    filterset_class = EmailAccountFilter
    ordering_fields = ["email", "status", "warmup_score", "last_used_at", "created_at"]
    ordering = ["email", "id"]
    lookup_value_regex = INT_LOOKUP

    def get_scoped_queryset(self, queryset):
        return queryset.defer("raw", "warmup", "status_message")

    @action(detail=True)
    def stats(self, request, pk=None):
        """Sent, bounced and replied per day over a period, against the daily limit."""
        account = self.get_object()
        start, end = requested_period(request)
        if caller_is_staff(request):
            viewer = None  # the whole mailbox
        elif request.organization is not None:
            viewer = request.organization.pk
        else:
            raise NotFound()
        return Response(mailbox_stats(account, start, end, organization_id=viewer))


# --- contacts and leads ---------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id", "organization", "email", "first_name", "last_name", "full_name",
            "company_name", "custom_variables", "last_activity_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContactViewSet(ReadOnlyScopedViewSet):
    """People the organization writes to (once each, whatever the campaign)."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["email", "last_activity_at", "created_at", "company_name"]
    ordering = ["email", "id"]
    lookup_value_regex = INT_LOOKUP


class LeadContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "email", "first_name", "last_name", "company_name"]
        read_only_fields = fields


class LeadSerializer(serializers.ModelSerializer):
    contact = LeadContactSerializer(read_only=True)
    interest_status = serializers.ChoiceField(
        choices=InterestStatus.choices, allow_blank=True, read_only=True,
        help_text="Empty until the lead shows any interest.",
    )  # fmt: skip
    proposed_interest_status = serializers.ChoiceField(
        choices=InterestStatus.choices, allow_blank=True, read_only=True,
        help_text="What the reply categories propose while `interest_status` is blank.",
    )  # fmt: skip

    class Meta:
        model = Lead
        fields = [
            "id", "organization", "campaign", "contact", "instantly_id", "status", "status_at",
            "interest_status", "interest_label", "interest_status_at",
            "proposed_interest_status", "do_not_contact", "score", "last_activity_at",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "score": {"help_text": "0-100 from opens, clicks, replies and meetings, decaying "
                      "with time; 0 for bounced, unsubscribed and do-not-contact leads."},
        }  # fmt: skip


class InterestRequestSerializer(serializers.Serializer):
    interest_status = serializers.CharField(
        allow_blank=True,
        help_text="One of the interest statuses (`interested`, `meeting_booked`, ...), "
        '`"label:<custom label>"` for one of the organization\'s custom labels, or "" to clear.',
    )


@extend_schema_view(
    interest=extend_schema(
        request=InterestRequestSerializer,
        responses={200: LeadSerializer},
        description="Set the lead's interest: pushed to Instantly first, then recorded as the "
        "newest state (a later stale webhook does not undo it). 502 when Instantly did not take "
        "it, with the reason in plain words; nothing is recorded then.",
    )
)
class LeadViewSet(ReadOnlyScopedViewSet):
    """A contact inside one campaign: its status there, its interest and its score."""

    model = Lead
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    ordering_fields = [
        "last_activity_at", "status_at", "interest_status_at", "created_at", "score",
    ]  # fmt: skip
    ordering = ["-last_activity_at", "-id"]
    lookup_value_regex = INT_LOOKUP

    def get_scoped_queryset(self, queryset):
        return queryset.select_related("contact").defer("raw", "score_counts")

    @action(detail=True, methods=["post"])
    def interest(self, request, pk=None):
        lead = self.get_object()
        params = InterestRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        choice = interest.parse_choice(
            params.validated_data["interest_status"], lead.organization_id
        )
        if choice is None:
            raise ValidationError({"interest_status": ["Not an interest status or custom label."]})
        try:
            interest.set_interest(lead, *choice, user=request.user)
        except interest.InterestNotPushed as exc:
            raise InstantlyRefused(exc.reason) from exc
        return Response(self.get_serializer(lead).data)


class InstantlyRefused(exceptions.APIException):
    """502: Instantly did not carry out the change; nothing was recorded here."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "instantly_refused"


# --- the organization's figures -------------------------------------------------------------


class CampaignCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()


class OrganizationStatsSerializer(PeriodStatsSerializer):
    organization = serializers.UUIDField(
        allow_null=True, help_text="The organization (null: staff, every organization)."
    )
    campaigns = CampaignCountsSerializer()


class OrganizationStatsParams(PeriodSerializer):
    organization = serializers.UUIDField(
        required=False, help_text="Staff: one organization's figures (default: every one)."
    )

    def validate(self, attrs):
        return {**super().validate(attrs), "organization": attrs.get("organization")}


class OrganizationStatsViewSet(ScopedViewSet):
    """The caller's organization in figures (staff: every organization, or `?organization=`)."""

    # Summed per organization and day by PostgreSQL (campaigns.daily_totals): over every
    # organization that is 100 rows a day for 100 organizations, not one per campaign.
    model = OrganizationDailyStat
    filter_backends: list = []

    @extend_schema(parameters=[OrganizationStatsParams], responses=OrganizationStatsSerializer)
    def summary(self, request):
        params = OrganizationStatsParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end, organization = (
            params.validated_data[k] for k in ("start", "end", "organization")
        )
        daily = self.get_queryset()
        campaigns = Campaign.objects.all()
        if organization is not None:
            daily = daily.filter(organization_id=organization)
            campaigns = campaigns.filter(organization_id=organization)
        elif not request.is_agency_staff:
            organization = request.organization.pk
        counts = campaigns.aggregate(
            total=Count("pk"), active=Count("pk", filter=Q(status=CampaignStatus.ACTIVE))
        )
        return Response(
            {"organization": organization, "campaigns": counts, **period_stats(daily, start, end)}
        )
