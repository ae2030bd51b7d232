"""Reprocessing failed or ignored deliveries (admin action, API, `manage.py instantly_reprocess`).

The rows go back to `pending` with their attempts reset and are enqueued after commit; if the
broker is down the sweeper takes them. Processing is idempotent, so replaying an event whose
rows partly exist only adds what is missing. An ignored event is normalised again, so a spelling
added to `events.EVENT_TYPES` since it arrived is processed this time.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent

from . import tasks

REPROCESSABLE = (WebhookEvent.Status.FAILED, WebhookEvent.Status.IGNORED)


def reprocess_events(events: QuerySet[WebhookEvent] | Iterable[int | WebhookEvent]) -> int:
    """Queue failed/ignored events (a queryset, instances or ids) again; answer how many.

    Events in any other status are left alone: pending ones are already queued, processed ones
    are done.
    """
    with staff_scope():
        if isinstance(events, QuerySet):
            ids = list(events.values_list("pk", flat=True))
        else:
            ids = [e.pk if isinstance(e, WebhookEvent) else int(e) for e in events]
        chosen = list(
            WebhookEvent.objects.unscoped()
            .filter(pk__in=ids, status__in=REPROCESSABLE)
            .values_list("pk", flat=True)
        )
        WebhookEvent.objects.unscoped().filter(pk__in=chosen).update(
            status=WebhookEvent.Status.PENDING, attempts=0, claimed_at=None, last_error=""
        )
        transaction.on_commit(lambda: tasks.enqueue_events(chosen), robust=True)
    return len(chosen)
