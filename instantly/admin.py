"""Operator console for the Instantly boundary: connections, the webhook log, alerts.

Connection actions (test, sync, webhook subscription) call the services of this app and report
each connection's outcome as a message. API keys are write-only here (see admin_forms).
Campaigns and mailboxes (a layer below, which holds the workspace as a plain id) get their
"workspace" filter from here (a filter, not a column: the lists must fit the screen), and a
connection in use cannot be deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_display import (
    MirroredAdmin,
    badge,
    organization_or_shared,
    short_datetime_column,
    truncated,
    truncated_with_title,
)
from accounts.models import Organization
from campaigns.admin import CampaignAdmin as BaseCampaignAdmin
from campaigns.admin import EmailAccountAdmin as BaseEmailAccountAdmin
from campaigns.models import Campaign, EmailAccount

from . import alert_delivery, blocklist
from .admin_deliveries import DELIVERY_FIELDS, DeliveryHealthMixin
from .admin_forms import KEY_FIELDS, ProviderConnectionForm
from .checks import check_connection
from .connections import explain_error, redact
from .errors import InstantlyError
from .models import (
    Alert,
    BlocklistAction,
    ProviderConnection,
    SubscriptionState,
    SyncRun,
    WebhookEvent,
)
from .subscriptions import SubscriptionNotFound, register_webhook, resume_webhook
from .sync.run import SyncAlreadyRunning, sync_workspace
from .sync.write import WorkspaceMismatchError
from .webhooks.reprocess import REPROCESSABLE, reprocess_events

logger = logging.getLogger(__name__)

CONNECTION_TONES = {
    ProviderConnection.Status.ACTIVE: "good",
    ProviderConnection.Status.ERROR: "bad",
    ProviderConnection.Status.DISABLED: "idle",
}
EVENT_TONES = {
    WebhookEvent.Status.PENDING: "idle",
    WebhookEvent.Status.PROCESSING: "warn",
    WebhookEvent.Status.PROCESSED: "good",
    WebhookEvent.Status.IGNORED: "idle",
    WebhookEvent.Status.FAILED: "bad",
}
SUBSCRIPTION_TONES = {
    SubscriptionState.UNKNOWN: "idle",
    SubscriptionState.ACTIVE: "good",
    SubscriptionState.DISABLED: "bad",
    SubscriptionState.MISSING: "bad",
}
SYNC_TONES = {
    SyncRun.Outcome.RUNNING: "idle",
    SyncRun.Outcome.OK: "good",
    SyncRun.Outcome.FAILED: "bad",
}
SEVERITY_TONES = {
    Alert.Severity.INFO: "idle",
    Alert.Severity.WARNING: "warn",
    Alert.Severity.CRITICAL: "bad",
}


def describe_sync(result) -> str:
    """A sync result as "campaigns created 3, accounts unchanged 2, requests 5" (non-zero
    counts only), from `SyncResult.counts`."""
    parts = [f"{name.replace('_', ' ')} {n}" for name, n in result.counts.items() if n]
    return ", ".join(parts) or "nothing to do"


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(DeliveryHealthMixin, admin.ModelAdmin):
    """Instantly workspaces. sb_operator views them and runs the actions; only those with the
    change permission (sb_admin) edit them or set a key, and nobody can read a key back."""

    form = ProviderConnectionForm
    list_display = [
        "name",
        organization_or_shared,
        "is_shared",
        "workspace_name",
        "status_badge",
        "api_key_hint",
        "webhook_state",
        "last_delivery_received",
        "last_synced_at",
        "last_error_short",
    ]
    list_filter = ["status", "is_shared", "organization"]
    search_fields = ["name", "workspace_id", "workspace_name", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    readonly_fields = [
        "api_key_hint",
        "webhook_subscription_id",
        "webhook_subscription_state",
        "webhook_checked_at",
        "last_synced_at",
        "last_error",
        "created_at",
        "updated_at",
        *DELIVERY_FIELDS,
    ]
    actions = ["test_connection", "sync_now", "register_or_resume_webhook", "send_test_delivery"]

    def get_deleted_objects(self, objs, request):
        """Django's delete confirmation, with the campaigns and mailboxes that protect a
        connection listed (they hold it as a plain id, which Django's collector cannot see)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = [*protected, *(str(row) for obj in objs for row in obj.rows_using())]
        return deleted, counts, perms_needed, protected

    def get_fieldsets(self, request, obj=None):
        may_set_keys = (
            self.has_add_permission(request)
            if obj is None
            else self.has_change_permission(request, obj)
        )
        key_fields = ["api_key_hint", *KEY_FIELDS] if may_set_keys else ["api_key_hint"]
        return [
            (
                None,
                {
                    "fields": [
                        "name",
                        "organization",
                        "is_shared",
                        "workspace_id",
                        "workspace_name",
                        "status",
                    ]
                },
            ),
            ("API keys", {"fields": key_fields}),
            (
                "Sync and webhook",
                {
                    "fields": [
                        "webhook_subscription_id",
                        "webhook_subscription_state",
                        "webhook_checked_at",
                        "last_synced_at",
                        "last_error",
                        "created_at",
                        "updated_at",
                    ]
                },
            ),
            ("Deliveries and history", {"fields": DELIVERY_FIELDS}),
        ]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), CONNECTION_TONES.get(obj.status, "idle"))

    @admin.display(description="API key")
    def api_key_hint(self, obj):
        # The last four characters only: enough to tell two keys apart, useless to an attacker.
        return f"…{obj.api_key_last4}" if obj and obj.api_key_last4 else "-"

    @admin.display(description="Webhook", ordering="webhook_subscription_state")
    def webhook_state(self, obj):
        if not obj.webhook_subscription_id:
            return badge("not registered", "warn")
        state = obj.webhook_subscription_state
        if state == SubscriptionState.UNKNOWN:
            return badge("subscribed", "good")
        return badge(obj.get_webhook_subscription_state_display(), SUBSCRIPTION_TONES[state])

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return truncated(obj.last_error) or "-"

    # --- actions -------------------------------------------------------------------------
    def _run_for_each(
        self,
        request,
        queryset,
        what: str,
        call: Callable[[ProviderConnection], tuple[bool, str]],
        expected: tuple[type[Exception], ...] = (),
    ) -> None:
        """Run `call` on every connection, each in its own savepoint, and report each outcome.

        Instantly errors and the `expected` ones (already running, no subscription...) become
        error messages inside the savepoint, so what the service recorded about the failure
        (status, last error, alert) is kept. Anything else rolls the savepoint back and is
        reported too: one broken workspace must not hide the others' results nor 500 the page.
        """
        for connection in queryset:
            try:
                with transaction.atomic():
                    try:
                        ok, text = call(connection)
                    except InstantlyError as exc:
                        ok, text = False, explain_error(exc)
                    except expected as exc:
                        ok, text = False, str(exc)
            except Exception as exc:  # noqa: BLE001 - an operator action reports, never 500s
                logger.exception("%s failed for connection %s", what, connection.pk)
                ok, text = False, f"unexpected {type(exc).__name__}, see the server log"
            text = redact(text, connection)  # a key quoted in an error must not reach the page
            level = messages.SUCCESS if ok else messages.ERROR
            verdict = "" if ok else " failed"
            self.message_user(request, f"{connection}: {what}{verdict}: {text}", level)

    @admin.action(description="Test connection", permissions=["view"])
    def test_connection(self, request, queryset):
        def call(connection):
            result = check_connection(connection)
            return result.ok, result.message

        self._run_for_each(request, queryset, "connection test", call)

    @admin.action(description="Sync now", permissions=["view"])
    def sync_now(self, request, queryset):
        def call(connection):
            return True, describe_sync(sync_workspace(connection))

        expected = (SyncAlreadyRunning, WorkspaceMismatchError)
        self._run_for_each(request, queryset, "sync", call, expected)

    @admin.action(description="Register or resume webhook subscription", permissions=["view"])
    def register_or_resume_webhook(self, request, queryset):
        """Resume the subscription Instantly disabled; register one where there is none (or
        where Instantly no longer knows the stored one)."""

        def call(connection):
            if connection.webhook_subscription_id:
                try:
                    resume_webhook(connection)
                    return True, f"subscription {connection.webhook_subscription_id} resumed"
                except SubscriptionNotFound:
                    pass  # gone at Instantly (the service cleared the id): register anew
            webhook = register_webhook(connection)
            return True, f"subscription {webhook.id} registered"

        expected = (SubscriptionNotFound, ImproperlyConfigured)
        self._run_for_each(request, queryset, "webhook subscription", call, expected)


class ReprocessableFilter(admin.SimpleListFilter):
    """Shortcut to the events the reprocess action applies to."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Failed or ignored")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=REPROCESSABLE)
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(MirroredAdmin):
    """The delivery log, exactly as received; failed or ignored events can be re-queued."""

    list_display = [
        "id",
        "event",
        "status_badge",
        organization_or_shared,
        "campaign_short",
        "attempts",
        short_datetime_column("received_at", "Received"),
        "last_error_short",
    ]
    list_filter = [ReprocessableFilter, "status", "event_type", "event_type_raw", "connection"]
    search_fields = [
        "event_type_raw",
        "event_type",
        "dedupe_key",
        "campaign_instantly_id",
        "last_error",
        "request_id",
    ]
    list_select_related = ["connection", "organization"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "event_type",
                    "event_type_raw",
                    "status",
                    "connection",
                    "organization",
                    "campaign_instantly_id",
                    "dedupe_key",
                ]
            },
        ),
        (
            "Processing",
            {
                "fields": [
                    "occurred_at",
                    "received_at",
                    "attempts",
                    "claimed_at",
                    "processed_at",
                    "last_error",
                ]
            },
        ),
        ("Payload", {"fields": ["payload_pretty"]}),
    ]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), EVENT_TONES.get(obj.status, "idle"))

    @admin.display(description="Event", ordering="event_type")
    def event(self, obj):
        """Instantly's name of the event; Salesbrain's normalised type in the tooltip."""
        return format_html(
            '<span title="{}">{}</span>', obj.event_type, obj.event_type_raw or obj.event_type
        )

    @admin.display(description="Campaign", ordering="campaign_instantly_id")
    def campaign_short(self, obj):
        return truncated_with_title(obj.campaign_instantly_id, 13)

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return truncated_with_title(obj.last_error)

    @admin.action(description="Reprocess failed or ignored events", permissions=["change"])
    def reprocess(self, request, queryset):
        """Re-queue what the service accepts (failed or ignored) and say what it skipped."""
        selected = queryset.count()
        requeued = reprocess_events(queryset)
        self.message_user(
            request, f"{requeued} event(s) re-queued for processing.", messages.SUCCESS
        )
        if selected > requeued:
            self.message_user(
                request,
                f"{selected - requeued} selected event(s) skipped: only failed or ignored "
                "events are reprocessed.",
                messages.WARNING,
            )


class UnresolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", "Unresolved"), ("yes", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class AlertOrganizationFilter(admin.SimpleListFilter):
    """Alerts of an organization: its own, and those about shared mailboxes that send for its
    campaigns (`Alert.customer_ids`)."""

    title = "organization"
    parameter_name = "concerns"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Organization.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(organization_id=self.value()) | Q(customer_ids__contains=[self.value()])
            )
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """What staff must look at; resolved alerts are kept, with when they were resolved."""

    list_display = [
        "title",
        "kind",
        "severity_badge",
        organization_or_shared,
        "customers",
        "connection",
        "email_account",
        "created_at",
        "is_resolved",
        "notified_at",
    ]
    list_filter = [UnresolvedFilter, AlertOrganizationFilter, "kind", "severity", "connection"]
    search_fields = ["title", "message", "email_account__email", "connection__name"]
    autocomplete_fields = ["organization", "connection", "email_account", "source_event"]
    list_select_related = ["organization", "connection", "email_account"]
    date_hierarchy = "created_at"
    actions = ["mark_resolved"]

    @admin.display(description="Severity", ordering="severity")
    def severity_badge(self, obj):
        return badge(obj.get_severity_display(), SEVERITY_TONES.get(obj.severity, "idle"))

    @admin.display(description="Sends for")
    def customers(self, obj):
        return ", ".join(alert_delivery.customers(obj)) or "–"

    @admin.display(description="Resolved", boolean=True, ordering="resolved_at")
    def is_resolved(self, obj):
        return obj.resolved_at is not None

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        # Already-resolved alerts keep their original resolution time.
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"{count} alert(s) marked resolved.", messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(MirroredAdmin):
    """Every sync: when, how it ended, what it cost. Written by the sync only."""

    list_display = [
        "id",
        "connection",
        "started_at",
        "outcome_badge",
        "duration_seconds",
        "requests",
        "throttled",
        "error_short",
    ]
    list_filter = ["outcome", "connection", "full"]
    list_select_related = ["connection"]
    date_hierarchy = "started_at"

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, obj):
        return badge(obj.get_outcome_display(), SYNC_TONES.get(obj.outcome, "idle"))

    @admin.display(description="Error")
    def error_short(self, obj):
        return truncated(obj.error) or "-"


@admin.register(BlocklistAction)
class BlocklistActionAdmin(admin.ModelAdmin):
    """Every do-not-contact reply acted on: the lead unsubscribed and the address blocked in
    Instantly. Undo removes the block-list entry and gives the lead its status back."""

    list_display = ["email", "status", organization_or_shared, "connection", "confidence",
                    "by_person", "created_at", "blocked_at", "undone_at", "undone_by"]  # fmt: skip
    list_filter = ["status", "by_person", "connection", "organization"]
    search_fields = ["email", "instantly_entry_id"]
    list_select_related = ["organization", "connection", "undone_by"]
    readonly_fields = [f.name for f in BlocklistAction._meta.fields]
    date_hierarchy = "created_at"
    actions = ["undo", "retry"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Undo: unblock and restore the lead", permissions=["view"])
    def undo(self, request, queryset):
        done = 0
        for action in queryset.exclude(status=BlocklistAction.Status.UNDONE):
            try:
                blocklist.undo(action, user=request.user)
                done += 1
            except InstantlyError as exc:
                self.message_user(request, f"{action.email}: {explain_error(exc)}", messages.ERROR)
        self.message_user(request, f"{done} action(s) undone.", messages.SUCCESS)

    @admin.action(description="Retry failed or pending", permissions=["view"])
    def retry(self, request, queryset):
        statuses = [BlocklistAction.Status.FAILED, BlocklistAction.Status.PENDING]
        results = [blocklist.push(a).status for a in queryset.filter(status__in=statuses)]
        blocked = results.count(BlocklistAction.Status.BLOCKED)
        self.message_user(request, f"{blocked} of {len(results)} blocked.", messages.INFO)


# --- campaigns and mailboxes: their workspace, seen from this layer ---------------------------


class WorkspaceFilter(admin.SimpleListFilter):
    """Rows of one workspace connection (the lower layer keeps it as `connection_id`)."""

    title = "workspace"
    parameter_name = "connection"

    def lookups(self, request, model_admin):
        names = ProviderConnection.objects.unscoped().order_by("name").values_list("pk", "name")
        return [(str(pk), name) for pk, name in names]

    def queryset(self, request, queryset):
        return queryset.filter(connection_id=self.value()) if self.value() else queryset


admin.site.unregister(Campaign)
admin.site.unregister(EmailAccount)


@admin.register(Campaign)
class CampaignAdmin(BaseCampaignAdmin):
    list_filter = [*BaseCampaignAdmin.list_filter, WorkspaceFilter]


@admin.register(EmailAccount)
class EmailAccountAdmin(BaseEmailAccountAdmin):
    list_filter = [*BaseEmailAccountAdmin.list_filter, WorkspaceFilter]
