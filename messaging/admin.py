"""Operator console for conversations: threads with their messages, and messages on their own.

Both are mirrored from Instantly and read-only. Message bodies are shown as escaped text,
never rendered as HTML: a lead's email is untrusted markup. Search also covers the bodies,
through the message's full-text index.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.postgres.search import SearchQuery

from accounts.admin_display import MirroredAdmin, ReadOnlyInline, organization_or_shared

from . import search
from .models import CategoryLabel, Message, Notification, ReplySettings, Thread


class ThreadMessageInline(ReadOnlyInline):
    model = Message
    fk_name = "thread"
    fields = [
        "sent_at", "direction", "kind", "category", "from_email", "to_email", "subject", "snippet",
    ]  # fmt: skip
    readonly_fields = fields
    ordering = ["sent_at"]


@admin.register(Thread)
class ThreadAdmin(MirroredAdmin):
    list_display = [
        "__str__",
        "contact",
        "campaign",
        organization_or_shared,
        "message_count",
        "has_reply",
        "is_unread",
        "category",
        "last_message_at",
    ]
    list_filter = ["has_reply", "is_unread", "category", "organization"]
    search_fields = ["subject", "contact__email", "campaign__name", "instantly_thread_id"]
    list_select_related = ["contact", "campaign", "organization"]
    date_hierarchy = "last_message_at"
    inlines = [ThreadMessageInline]


@admin.register(Message)
class MessageAdmin(MirroredAdmin):
    list_display = [
        "__str__",
        "direction",
        "kind",
        "from_email",
        "to_email",
        "campaign",
        organization_or_shared,
        "sent_at",
        "is_unread",
        "category",
        "category_confidence",
    ]
    list_filter = ["direction", "kind", "category", "category_source", "is_unread", "organization"]
    search_fields = ["subject", "from_email", "to_email", "contact__email", "instantly_email_id"]
    list_select_related = ["campaign", "organization"]
    date_hierarchy = "sent_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "subject",
                    "direction",
                    "kind",
                    "from_email",
                    "to_email",
                    "sent_at",
                    "is_unread",
                    "step",
                    "variant",
                ]
            },
        ),
        (
            "Context",
            {
                "fields": [
                    "organization",
                    "thread",
                    "campaign",
                    "contact",
                    "email_account",
                    "instantly_email_id",
                    "source_event_id",
                    "created_at",
                ]
            },
        ),
        (
            "Category",
            {
                "fields": [
                    "category",
                    "category_confidence",
                    "category_source",
                    "returns_on",
                    "referral_pretty",
                    "categorised_at",
                ]
            },
        ),  # fmt: skip
        ("Body", {"fields": ["snippet", "body_text", "body_html"]}),
        ("Raw payload", {"fields": ["raw_pretty"], "classes": ["collapse"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        """Field matches as usual, plus messages whose subject or body match in full text."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip() and search.parse_error(search_term) is None:
            query = SearchQuery(search_term, config="english", search_type="websearch")
            results = results | queryset.filter(search_vector=query)
        return results, may_have_duplicates


class ReadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", "Unread"), ("yes", "Read")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """What customers are told; written by webhook processing, inspected here."""

    list_display = ["title", "kind", "organization", "campaign", "created_at", "is_read"]
    list_filter = ["kind", ReadFilter, "organization"]
    search_fields = ["title", "body", "organization__name"]
    autocomplete_fields = ["organization", "campaign", "lead"]
    list_select_related = ["organization", "campaign"]
    date_hierarchy = "created_at"

    @admin.display(description="Read", boolean=True, ordering="read_at")
    def is_read(self, obj):
        return obj.read_at is not None


@admin.register(CategoryLabel)
class CategoryLabelAdmin(admin.ModelAdmin):
    """People's corrections of reply categories: the labels the evaluation counts."""

    list_display = ["message", "previous_category", "category", "organization", "created_by",
                    "created_at"]  # fmt: skip
    list_filter = ["category", "previous_category", "organization"]
    list_select_related = ["message", "organization", "created_by"]
    readonly_fields = ["message", "category", "previous_category", "previous_confidence",
                       "created_by", "created_at", "organization"]  # fmt: skip
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False


@admin.register(ReplySettings)
class ReplySettingsAdmin(admin.ModelAdmin):
    """Each organization's reply actions and scoring points (customers edit theirs in the
    portal; staff may here)."""

    list_display = ["organization", "block_do_not_contact", "block_min_confidence",
                    "notify_positive_replies", "propose_interest_status",
                    "score_half_life_days", "updated_at"]  # fmt: skip
    autocomplete_fields = ["organization"]
