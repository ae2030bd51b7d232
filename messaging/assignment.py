"""Threads, messages and notifications follow their campaign when staff assign it to another
organization.

Registered with `campaigns.assignment` from `MessagingConfig.ready()`: the campaigns layer
moves these rows without importing this one.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from campaigns.assignment import Dependent, register_dependent
from campaigns.models import Campaign, Lead

from .models import Message, Notification, Thread


def _threads(campaign: Campaign) -> QuerySet:
    return Thread.objects.unscoped().filter(campaign=campaign)


# The "or its thread's / lead's campaign" half is a subquery, not a join: an UPDATE over a join
# becomes `id IN (SELECT ... JOIN ... OR ...)`, which PostgreSQL planned as a nested loop over
# every message times every message on tables without statistics (4.5 minutes for ~700 rows
# right after a first backfill). With `IN (SELECT id ...)` it is one pass over the table.
def _messages(campaign: Campaign) -> QuerySet:
    threads = _threads(campaign).values("id")
    return Message.objects.unscoped().filter(Q(campaign=campaign) | Q(thread_id__in=threads))


def _notifications(campaign: Campaign) -> QuerySet:
    leads = Lead.objects.unscoped().filter(campaign=campaign).values("id")
    return Notification.objects.unscoped().filter(Q(campaign=campaign) | Q(lead_id__in=leads))


def register() -> None:
    register_dependent(Dependent("threads", Thread, _threads, has_contact=True))
    register_dependent(Dependent("messages", Message, _messages, has_contact=True))
    register_dependent(Dependent("notifications", Notification, _notifications))
