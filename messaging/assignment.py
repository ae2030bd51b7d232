"""Threads, messages and notifications follow their campaign when staff assign it to another
organization.

Registered with `campaigns.assignment` from `MessagingConfig.ready()`: the campaigns layer
moves these rows without importing this one.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from campaigns.assignment import Dependent, register_dependent
from campaigns.models import Campaign

from .models import Message, Notification, Thread


def _threads(campaign: Campaign) -> QuerySet:
    return Thread.objects.unscoped().filter(campaign=campaign)


def _messages(campaign: Campaign) -> QuerySet:
    return Message.objects.unscoped().filter(Q(campaign=campaign) | Q(thread__campaign=campaign))


def _notifications(campaign: Campaign) -> QuerySet:
    return Notification.objects.unscoped().filter(Q(campaign=campaign) | Q(lead__campaign=campaign))


def register() -> None:
    register_dependent(Dependent("threads", Thread, _threads, has_contact=True))
    register_dependent(Dependent("messages", Message, _messages, has_contact=True))
    register_dependent(Dependent("notifications", Notification, _notifications))
