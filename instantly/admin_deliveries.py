"""The connection page's delivery health: last delivery received, deliveries missed in
Instantly's log and recovered, the history backfill, the last test delivery (and the action that
sends one); and the lists of missed deliveries and test deliveries.

A mixin of `admin.ProviderConnectionAdmin` rather than more code in it: each figure is a
read-only field computed from `instantly.reconcile`, `instantly.delivery_test` and
`HistoryBackfill`.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_display import MirroredAdmin, badge, truncated

from .delivery_test import WAIT_SECONDS, latest_test, run_test_delivery
from .models import HistoryBackfill, MissedDelivery, WebhookTest
from .reconcile import delivery_figures

TEST_TONES = {
    WebhookTest.Outcome.WAITING: "idle",
    WebhookTest.Outcome.ARRIVED: "good",
    WebhookTest.Outcome.MISSING: "bad",
    WebhookTest.Outcome.FAILED: "bad",
}
DELIVERY_FIELDS = [
    "last_delivery_received",
    "deliveries_missed",
    "last_test_delivery",
    "history_backfill",
]


def _when(moment) -> str:
    if moment is None:
        return "never"
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S}"


class DeliveryHealthMixin:
    """Read-only fields and the test-delivery action of the connection admin."""

    @admin.display(description="Last delivery received")
    def last_delivery_received(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return _when(delivery_figures(obj)["last_received_at"])

    @admin.display(description="Deliveries missed / recovered")
    def deliveries_missed(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        figures = delivery_figures(obj)
        url = (
            reverse("admin:instantly_misseddelivery_changelist")
            + f"?connection__id__exact={obj.pk}"
        )
        text = f"{figures['missed']} missed in Instantly's log, {figures['recovered']} recovered"
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description="Last test delivery")
    def last_test_delivery(self, obj):
        test = latest_test(obj) if obj is not None and obj.pk else None
        if test is None:
            return "never sent"
        return format_html(
            "{} {} ({})",
            badge(test.get_outcome_display(), TEST_TONES.get(test.outcome, "idle")),
            _when(test.requested_at),
            truncated(test.detail, 120),
        )

    @admin.display(description="History backfill")
    def history_backfill(self, obj):
        state = (
            HistoryBackfill.objects.unscoped().filter(connection_id=obj.pk).first()
            if obj is not None and obj.pk
            else None
        )
        if state is None:
            return "not started (the next sync starts it)"
        emails = f"{state.emails_written:,} email(s) stored of {state.emails_fetched:,} read"
        if state.emails_pass_open:
            emails += f", in progress ({state.emails_pages:,} page(s) so far; resumes next sync)"
        elif state.emails_first_done_at:
            emails += f", complete since {_when(state.emails_first_done_at)}"
        leads = f"{state.leads_fetched:,} lead(s) listed {_when(state.leads_synced_at)}"
        return f"{emails}; {leads}; log reconciled {_when(state.deliveries_reconciled_at)}"

    @admin.action(description="Send a test delivery (waits up to 30 s)", permissions=["view"])
    def send_test_delivery(self, request, queryset):
        def call(connection):
            test = run_test_delivery(connection, wait=WAIT_SECONDS)
            return test.outcome == WebhookTest.Outcome.ARRIVED, test.detail

        self._run_for_each(request, queryset, "test delivery", call)


@admin.register(MissedDelivery)
class MissedDeliveryAdmin(MirroredAdmin):
    """Deliveries Instantly logged as failed that never reached us, and their replay."""

    list_display = [
        "found_at",
        "connection",
        "event_type",
        "logged_at",
        "status_code",
        "retry_count",
        "recovered",
        "error_short",
    ]
    list_filter = ["connection"]
    list_select_related = ["connection"]
    date_hierarchy = "found_at"

    @admin.display(description="Recovered", boolean=True)
    def recovered(self, obj):
        return obj.recovered_event_id is not None

    @admin.display(description="Error")
    def error_short(self, obj):
        return truncated(obj.error_message) or "-"


@admin.register(WebhookTest)
class WebhookTestAdmin(MirroredAdmin):
    """Every test delivery asked of Instantly and whether it arrived."""

    list_display = ["requested_at", "connection", "outcome", "arrived_at", "detail"]
    list_filter = ["outcome", "connection"]
    list_select_related = ["connection"]
