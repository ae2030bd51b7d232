"""The notifications page: newest first, filtered by kind, each read or unread per user.

Reading is personal: any member may mark their own notifications read, viewers included, and so
may staff viewing the organization (their read state is their own).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from campaigns.views.access import portal_page

from . import notifications
from .models import Notification

PAGE_SIZE = 25


class NotificationFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "All kinds"), *Notification.Kind.choices]
    )
    unread = forms.BooleanField(required=False, label="Unread only")


def _back(request, default: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@portal_page
@require_GET
def notification_list(request):
    form = NotificationFilterForm(request.GET or None)
    kind, unread = "", False
    if form.is_valid():
        kind, unread = form.cleaned_data["kind"], form.cleaned_data["unread"]
    rows = notifications.for_user(request.organization, request.user, kind=kind, unread=unread)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for note in page.object_list:
        note.link = notifications.link(note)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/list.html",
        {"form": form, "page": page, "filtered": bool(kind or unread), "query": query.urlencode()},
    )


@portal_page
@require_POST
def notification_read(request, pk):
    note = get_object_or_404(Notification.objects.filter(organization=request.organization), pk=pk)
    notifications.mark_read(note, request.user)
    return _back(request, "notifications:list")


@portal_page
@require_POST
def notification_read_all(request):
    count = notifications.mark_all_read(
        Notification.objects.filter(organization=request.organization), request.user
    )
    flash.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back(request, "notifications:list")
