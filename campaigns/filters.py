"""Query-string filters of the campaign, mailbox, contact, lead and statistics endpoints.

Foreign keys are filtered by id (`UUIDFilter`/`NumberFilter`), not `ModelChoiceFilter`: the
latter validates ids against a queryset built at import time, outside any tenant scope; an id
of another organization simply matches nothing.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from salesbrain.api.filters import DateTimeAfter, DateTimeBefore

from .models import (
    Campaign,
    CampaignStatus,
    Contact,
    EmailAccount,
    InterestStatus,
    Lead,
    LeadStatus,
    MailboxStatus,
    MailProvider,
    WarmupStatus,
)


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains.")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    unassigned = django_filters.BooleanFilter(
        field_name="organization", lookup_expr="isnull",
        label="Shared-workspace campaigns not yet assigned to a customer (staff).",
    )  # fmt: skip
    connection = django_filters.UUIDFilter(field_name="connection_id")
    vanished = django_filters.BooleanFilter(
        field_name="vanished_at", lookup_expr="isnull", exclude=True,
        label="Campaigns no longer listed by Instantly (true) or still listed (false).",
    )  # fmt: skip
    created_after = DateTimeAfter("created_at")
    created_before = DateTimeBefore("created_at")

    class Meta:
        model = Campaign
        fields = ["status", "name", "organization", "unassigned", "connection", "vanished"]


class EmailAccountFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=MailboxStatus.choices)
    warmup_status = django_filters.MultipleChoiceFilter(choices=WarmupStatus.choices)
    provider = django_filters.ChoiceFilter(choices=MailProvider.choices)
    email = django_filters.CharFilter(lookup_expr="icontains", label="Address contains.")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    connection = django_filters.UUIDFilter(field_name="connection_id")
    campaign = django_filters.UUIDFilter(
        field_name="campaign_links__campaign_id", distinct=True,
        label="Mailboxes sending for this campaign.",
    )  # fmt: skip

    class Meta:
        model = EmailAccount
        fields = ["status", "warmup_status", "provider", "email", "organization", "connection"]


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label="Email, name or company contains (case-insensitive)."
    )
    email = django_filters.CharFilter(lookup_expr="iexact")
    company_name = django_filters.CharFilter(lookup_expr="icontains")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    campaign = django_filters.UUIDFilter(
        field_name="leads__campaign_id", distinct=True, label="Contacts that are leads there."
    )
    last_activity_after = DateTimeAfter("last_activity_at")
    last_activity_before = DateTimeBefore("last_activity_at")

    class Meta:
        model = Contact
        fields = ["q", "email", "company_name", "organization", "campaign"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(company_name__icontains=value)
        )


class LeadFilter(django_filters.FilterSet):
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    email = django_filters.CharFilter(field_name="contact__email", lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    interest_status = django_filters.MultipleChoiceFilter(choices=InterestStatus.choices)
    has_interest = django_filters.BooleanFilter(
        method="filter_interest", label="Leads with an interest status (true) or none (false)."
    )
    organization = django_filters.UUIDFilter(field_name="organization_id")
    last_activity_after = DateTimeAfter("last_activity_at")
    last_activity_before = DateTimeBefore("last_activity_at")
    min_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", label="Leads scoring at least this (0-100)."
    )
    do_not_contact = django_filters.BooleanFilter()

    class Meta:
        model = Lead
        fields = ["campaign", "contact", "email", "status", "interest_status", "organization"]

    def filter_interest(self, queryset, name, value):
        with_interest = queryset.exclude(interest_status="")
        return with_interest if value else queryset.filter(interest_status="")
