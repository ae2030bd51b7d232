"""Reading notifications and their per-user read state (see `NotificationRead`).

A notification is the organization's; whether it was read is each member's own. Every function
takes the organization explicitly: staff viewing an organization run with the row-level
security bypass, so the explicit filter is what keeps them inside it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from .models import Notification, NotificationRead, Thread


def _read_by(user) -> Exists:
    return Exists(NotificationRead.objects.filter(notification=OuterRef("pk"), user=user))


def with_thread(queryset: QuerySet) -> QuerySet:
    """Notifications annotated with `thread_id` (the lead's latest conversation, for the
    link), newest first."""
    thread = Thread.objects.filter(
        organization_id=OuterRef("organization_id"), lead_id=OuterRef("lead_id")
    ).order_by("-last_message_at", "-pk")
    return (
        queryset.annotate(thread_id=Subquery(thread.values("pk")[:1]))
        .select_related("campaign", "lead__contact")
        .order_by("-created_at", "-pk")
    )


def with_read_state(queryset: QuerySet, user) -> QuerySet:
    """`with_thread`, and `is_read` (by this user)."""
    return with_thread(queryset).annotate(is_read=_read_by(user))


def for_user(organization, user, *, kind: str = "", unread: bool = False) -> QuerySet:
    """The organization's notifications as `user` sees them, optionally filtered."""
    queryset = with_read_state(Notification.objects.filter(organization=organization), user)
    if kind:
        queryset = queryset.filter(kind=kind)
    if unread:
        queryset = queryset.filter(is_read=False)
    return queryset


def unread_count(organization, user) -> int:
    """One query: the bell's number."""
    return Notification.objects.filter(organization=organization).exclude(_read_by(user)).count()


def link(notification) -> str:
    """The conversation with the lead when there is one, else the lead in the leads list."""
    thread_id = getattr(notification, "thread_id", None)
    if thread_id:
        return reverse("inbox:thread", args=[thread_id])
    if notification.lead_id:
        return reverse("portal:leads") + "?" + urlencode({"q": notification.lead.contact.email})
    return reverse("portal:leads")


def mark_read(notification, user) -> None:
    NotificationRead.objects.get_or_create(
        organization_id=notification.organization_id,
        notification=notification,
        user=user,
    )


def mark_all_read(queryset: QuerySet, user) -> int:
    """Every notification of `queryset` read by `user` (what is already read stays as it is).
    Answers how many were newly marked."""
    unread = queryset.exclude(_read_by(user)).values_list("pk", "organization_id")
    now = timezone.now()
    rows = [
        NotificationRead(notification_id=pk, organization_id=org, user=user, read_at=now)
        for pk, org in unread
    ]
    NotificationRead.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)
