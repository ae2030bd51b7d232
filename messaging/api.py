"""API for threads and messages, and full-text message search.

Customers see their organization's conversations; staff see all. Members and above may mark a
thread or a message read or unread, mark a thread done, reply to a lead (sent through
Instantly by `replies`; viewers get 403, another organization's thread is a 404), and correct
an inbound message's category (`reply_categories`).
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from campaigns.models import Campaign
from salesbrain.api.pagination import WindowCountPagination
from salesbrain.api.viewsets import INT_LOOKUP, ReadOnlyScopedViewSet, ScopedViewSet

from . import replies, reply_categories, search, triage
from .categorise.categories import ReplyCategory
from .filters import MessageFilter, MessageSearchFilter, ThreadFilter
from .models import CategorySource, Message, Thread


class ContactBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="full_name")


# --- threads --------------------------------------------------------------------------------


def category_field():
    return serializers.ChoiceField(
        choices=ReplyCategory.choices, allow_blank=True, read_only=True,
        help_text="The reply category (inbound messages; empty until categorised).",
    )  # fmt: skip


class ThreadSerializer(serializers.ModelSerializer):
    contact = ContactBriefSerializer(read_only=True)
    category = category_field()
    confidence = serializers.FloatField(
        source="category_confidence", read_only=True, allow_null=True,
        help_text="How sure the categoriser was of `category` (0-1; 1 when a person set it).",
    )  # fmt: skip

    class Meta:
        model = Thread
        fields = [
            "id", "organization", "campaign", "contact", "lead", "subject", "message_count",
            "has_reply", "is_unread", "is_done", "awaits_our_reply", "done_at",
            "last_message_at", "last_inbound_at", "category", "confidence", "returns_on",
            "created_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("is_unread", "is_done")]

    is_done = serializers.BooleanField(read_only=True)
    awaits_our_reply = serializers.BooleanField(
        read_only=True, help_text="The last message is the lead's."
    )


class ReadStateSerializer(serializers.Serializer):
    is_unread = serializers.BooleanField()


class TriageSerializer(serializers.Serializer):
    is_unread = serializers.BooleanField(required=False)
    is_done = serializers.BooleanField(
        required=False, help_text="Done (archived); a new message from the lead reopens it."
    )


class ReplyRequestSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=replies.MAX_BODY_LENGTH,
        help_text="Plain text; blank lines make paragraphs, **bold**, *italic*, links.",
    )
    idempotency_key = serializers.CharField(
        min_length=8, max_length=64,
        help_text="One per compose (e.g. a UUID): the same key again answers the same message "
        "and never sends twice.",
    )  # fmt: skip


class ReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id", "thread", "direction", "kind", "subject", "body_text", "from_email", "to_email",
            "sent_at", "status", "failure_reason", "sent_by", "idempotency_key",
            "instantly_email_id",
        ]  # fmt: skip
        read_only_fields = fields


# What a list never shows: the bodies, the raw payload and the search index's own column.
LIST_DEFERRED = ("body_text", "body_html", "raw", "search_vector")


@extend_schema_view(
    partial_update=extend_schema(
        request=TriageSerializer,
        description="Mark the thread read (`is_unread: false`, which also marks its messages "
        "read) or unread, and done (`is_done: true`) or open again.",
    ),
    reply=extend_schema(
        request=ReplyRequestSerializer,
        responses={202: ReplySerializer},
        description="Reply to the lead through Instantly from the mailbox that received their "
        "latest email. Answers 202 with the message: `status` is `sent`, or `failed` with "
        "`failure_reason` in plain words (quota, authorisation, mailbox disconnected, rate "
        "limited); `sending` while another request with the same key is still at it. The same "
        "`idempotency_key` again answers the same message and sends nothing.",
    ),
)
class ThreadViewSet(ReadOnlyScopedViewSet):
    """Conversations with leads; the inbox is `?has_reply=true`, newest reply first."""

    model = Thread
    lookup_value_regex = INT_LOOKUP
    serializer_class = ThreadSerializer
    filterset_class = ThreadFilter
    ordering_fields = ["last_message_at", "last_inbound_at", "created_at", "message_count"]
    ordering = ["-last_message_at", "-id"]

    def get_scoped_queryset(self, queryset):
        return queryset.select_related("contact")

    def partial_update(self, request, *args, **kwargs):
        thread = self.get_object()
        params = TriageSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        with transaction.atomic():
            if "is_unread" in data:
                triage.set_read(thread, unread=data["is_unread"])
            if "is_done" in data:
                triage.set_done(thread, done=data["is_done"])
        return Response(self.get_serializer(thread).data)

    @action(detail=True, methods=["post"], serializer_class=ReplySerializer)
    def reply(self, request, pk=None):
        thread = self.get_object()
        params = ReplyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            message, _ = replies.reply(
                thread,
                user=request.user,
                body=params.validated_data["body"],
                idempotency_key=params.validated_data["idempotency_key"],
            )
        except replies.CannotReply as exc:
            raise ValidationError({"thread": [str(exc)]}) from exc
        return Response(ReplySerializer(message).data, status=status.HTTP_202_ACCEPTED)


# --- messages -------------------------------------------------------------------------------


class ReferralSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    category = category_field()
    category_source = serializers.ChoiceField(
        choices=CategorySource.choices, allow_blank=True, read_only=True,
        help_text="Who set the category: a rule, the model, the LLM or a person.",
    )  # fmt: skip
    confidence = serializers.FloatField(
        source="category_confidence", read_only=True, allow_null=True,
        help_text="How sure the categoriser was of `category` (0-1; 1 when a person set it).",
    )  # fmt: skip
    referral = ReferralSerializer(
        read_only=True, allow_null=True,
        help_text="`wrong_person` replies: the contact they point to, where given.",
    )  # fmt: skip

    class Meta:
        model = Message
        fields = [
            "id", "organization", "thread", "campaign", "contact", "email_account", "direction",
            "kind", "subject", "snippet", "from_email", "to_email", "step", "variant", "sent_at",
            "is_unread", "category", "confidence", "category_source", "returns_on", "referral",
        ]  # fmt: skip
        read_only_fields = fields


class CategorySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ReplyCategory.choices)


class MessageDetailSerializer(MessageSerializer):
    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "body_text", "body_html", "created_at"]
        read_only_fields = fields


class MessageSearchResultSerializer(MessageSerializer):
    rank = serializers.FloatField(read_only=True, help_text="Relevance; higher is better.")
    headline = serializers.SerializerMethodField(
        help_text="Escaped HTML excerpt with the matching words in <mark>."
    )

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "rank", "headline"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_headline(self, message) -> str:
        return search.render_headline(getattr(message, "headline_raw", ""))


@extend_schema_view(
    partial_update=extend_schema(
        request=ReadStateSerializer, responses=MessageDetailSerializer,
        description="Mark the message read or unread.",
    ),
    category=extend_schema(
        request=CategorySerializer, responses=MessageDetailSerializer,
        description="Correct an inbound message's category (members and above). Stored as a "
        "label; the thread, the lead's flags and score follow.",
    ),
    search=extend_schema(
        responses=MessageSearchResultSerializer(many=True),
        description="Full-text search, best matches first; `q` uses web-search syntax "
        '(`"exact phrase"`, `or`, `-word`). Every message filter applies too.',
    ),
)  # fmt: skip
class MessageViewSet(ReadOnlyScopedViewSet):
    """Every email sent or received; `?campaign=`, `?thread=`, `?direction=`... narrow it."""

    model = Message
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    ordering_fields = ["sent_at"]
    ordering = ["-sent_at", "-id"]
    lookup_value_regex = INT_LOOKUP

    def get_serializer_class(self):
        if self.action in ("retrieve", "partial_update"):
            return MessageDetailSerializer
        return super().get_serializer_class()

    def get_scoped_queryset(self, queryset):
        if self.action in ("list", "search"):
            # Bodies can be long; a list shows subject and snippet.
            return queryset.defer(*LIST_DEFERRED)
        return queryset

    def partial_update(self, request, *args, **kwargs):
        message = self.get_object()
        params = ReadStateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        message.is_unread = params.validated_data["is_unread"]
        with transaction.atomic():
            message.save(update_fields=["is_unread"])
            thread_unread = Message.objects.filter(thread_id=message.thread_id, is_unread=True)
            Thread.objects.filter(pk=message.thread_id).update(is_unread=thread_unread.exists())
        return Response(MessageDetailSerializer(message).data)

    @action(detail=True, methods=["post"], url_path="category", serializer_class=CategorySerializer)
    def category(self, request, pk=None):
        message = self.get_object()
        if message.direction != Message.Direction.INBOUND:
            raise ValidationError({"category": ["Only inbound messages have a category."]})
        params = CategorySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if params.validated_data["category"] != message.category:
            reply_categories.correct_category(
                message, params.validated_data["category"], request.user
            )
        return Response(MessageDetailSerializer(message).data)

    @action(
        detail=False,
        filterset_class=MessageSearchFilter,
        serializer_class=MessageSearchResultSerializer,
        pagination_class=WindowCountPagination,
        ordering_fields=["rank", "sent_at"],
        ordering=["-rank", "-sent_at", "-id"],
    )
    def search(self, request):
        messages = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The campaign's id."
            )
        ],
        description="The campaign's messages, newest first (every message filter applies).",
    )
)
class CampaignMessagesViewSet(mixins.ListModelMixin, ScopedViewSet):
    """`/api/v1/campaigns/{id}/messages/`: served here, not by the campaign viewset, because
    messages sit a layer above campaigns; a campaign this caller cannot see answers 404."""

    model = Message
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    ordering_fields = ["sent_at"]
    ordering = ["-sent_at", "-id"]

    def get_scoped_queryset(self, queryset):
        campaign = get_object_or_404(Campaign.objects.only("pk"), pk=self.kwargs["pk"])
        return queryset.filter(campaign=campaign).defer(*LIST_DEFERRED)
