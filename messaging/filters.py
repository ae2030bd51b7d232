"""Query-string filters of the thread, message and message-search endpoints.

Foreign keys are filtered by id: an id of another organization matches nothing (see
`campaigns.filters` for why not ModelChoiceFilter).
"""

from __future__ import annotations

import django_filters
from django import forms

from salesbrain.api.filters import DateTimeAfter, DateTimeBefore

from . import search, triage
from .categorise.categories import ReplyCategory
from .models import Message, Thread


class ThreadFilter(django_filters.FilterSet):
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    lead = django_filters.NumberFilter(field_name="lead_id")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    has_reply = django_filters.BooleanFilter()
    is_unread = django_filters.BooleanFilter()
    category = django_filters.MultipleChoiceFilter(choices=ReplyCategory.choices)
    last_message_after = DateTimeAfter("last_message_at")
    last_message_before = DateTimeBefore("last_message_at")
    last_inbound_after = DateTimeAfter("last_inbound_at")
    last_inbound_before = DateTimeBefore("last_inbound_at")
    is_done = django_filters.BooleanFilter(method="filter_done")
    awaiting_our_reply = django_filters.BooleanFilter(
        method="filter_awaiting", label="The last message is the lead's."
    )
    email_account = django_filters.NumberFilter(
        method="filter_mailbox", label="A sending mailbox that wrote or received in the thread."
    )

    class Meta:
        model = Thread
        fields = ["campaign", "contact", "lead", "organization", "has_reply", "is_unread"]

    def filter_done(self, queryset, name, value):
        return triage.done(queryset, value)

    def filter_awaiting(self, queryset, name, value):
        awaiting = triage.awaiting_our_reply(queryset)
        return awaiting if value else queryset.exclude(pk__in=awaiting.values("pk"))

    def filter_mailbox(self, queryset, name, value):
        return triage.via_mailbox(queryset, value)


class MessageFilter(django_filters.FilterSet):
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    thread = django_filters.NumberFilter(field_name="thread_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    email_account = django_filters.NumberFilter(field_name="email_account_id")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Message.Kind.choices)
    is_unread = django_filters.BooleanFilter()
    category = django_filters.MultipleChoiceFilter(choices=ReplyCategory.choices)
    min_confidence = django_filters.NumberFilter(
        field_name="category_confidence", lookup_expr="gte"
    )
    sent_after = DateTimeAfter("sent_at")
    sent_before = DateTimeBefore("sent_at")

    class Meta:
        model = Message
        fields = [
            "campaign", "thread", "contact", "email_account", "organization", "direction", "kind",
            "is_unread",
        ]  # fmt: skip


class SearchTextField(forms.CharField):
    """Text PostgreSQL can parse as a web-search query (else a 400 on `q`, not a 500)."""

    def validate(self, value):
        super().validate(value)
        if value and (problem := search.parse_error(value)):
            raise forms.ValidationError(problem, code="invalid")


class SearchTextFilter(django_filters.CharFilter):
    field_class = SearchTextField


class MessageSearchFilter(MessageFilter):
    """The message filters plus the required full-text query `q`."""

    q = SearchTextFilter(
        method="filter_q",
        required=True,
        max_length=200,
        label='Words to find (web-search syntax: "exact phrase", or, -word).',
    )

    class Meta(MessageFilter.Meta):
        fields = ["q", *MessageFilter.Meta.fields]

    # Filters that leave at most a campaign's messages: match those directly (see search).
    NARROWING = ("campaign", "thread", "contact")

    def filter_q(self, queryset, name, value):
        data = self.form.cleaned_data
        narrowed = any(data.get(field) not in (None, "") for field in self.NARROWING)
        return search.search_messages(
            queryset, value, indexed=not narrowed, only_org=data.get("organization")
        )
