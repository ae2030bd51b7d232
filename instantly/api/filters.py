"""Query-string filters of the provider connection and webhook event endpoints."""

from __future__ import annotations

import django_filters

from instantly.models import ProviderConnection, WebhookEvent
from salesbrain.api.filters import DateTimeAfter, DateTimeBefore


class ProviderConnectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProviderConnection.Status.choices)
    organization = django_filters.UUIDFilter(field_name="organization_id")
    is_shared = django_filters.BooleanFilter()

    class Meta:
        model = ProviderConnection
        fields = ["status", "organization", "is_shared"]


class WebhookEventFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=WebhookEvent.Status.choices)
    event_type = django_filters.CharFilter()
    connection = django_filters.UUIDFilter(field_name="connection_id")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    campaign_instantly_id = django_filters.CharFilter()
    received_after = DateTimeAfter("received_at")
    received_before = DateTimeBefore("received_at")

    class Meta:
        model = WebhookEvent
        fields = ["status", "event_type", "connection", "organization", "campaign_instantly_id"]
