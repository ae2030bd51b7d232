"""Instantly webhooks: receive and store (`views`, `auth`, `ingest`), normalise (`events`),
queue and process in Celery (`tasks`, `queue`), apply to the domain (`effects`, `apply`),
replay (`reprocess`).

Persist, then acknowledge, then process: a delivery that authenticates is written to
`WebhookEvent` before the 2xx answer, and every later step can be repeated without effect.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from accounts.tenancy import TenantContext, current_tenant, staff_scope


@contextmanager
def within_staff_scope() -> Iterator[TenantContext]:
    """The caller's staff scope if there is one, else a new one: the receiver identifies and
    stores a delivery in one transaction (round trips are most of its cost)."""
    context = current_tenant()
    if context is not None and context.bypass:
        yield context
    else:
        with staff_scope() as context:
            yield context
