"""The unified inbox: every reply thread of the organization, and one conversation in full.

Read state is triage, not content: any member may mark a thread read or unread, viewers
included (they are often the people who go through replies), and so may staff viewing the
organization. Nothing synced from Instantly is changed by it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from campaigns.models import Campaign, InterestStatus
from campaigns.views.access import portal_page

from .models import Message, Thread

PAGE_SIZE = 25


class InboxFilterForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.unscoped().none(), required=False)
    interest = forms.ChoiceField(
        required=False, choices=[("", "Any interest"), ("none", "Not set"), *InterestStatus.choices]
    )
    unread = forms.BooleanField(required=False, label="Unread only")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization).only(
            "id", "name", "instantly_id"
        )
        self.fields["campaign"].empty_label = "All campaigns"


def _get_thread_for_user(request, pk) -> Thread:
    """The thread when it belongs to the organization the page acts for; 404 otherwise."""
    return get_object_or_404(
        Thread.objects.filter(organization=request.organization).select_related(
            "campaign", "contact", "lead"
        ),
        pk=pk,
    )


def _latest_reply_preview():
    """The text of a thread's newest inbound message, for the list (one subquery, no N+1)."""
    latest = (
        Message.objects.filter(thread=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("-sent_at", "-pk")
        .annotate(
            preview=Coalesce(NullIf("snippet", Value("")), Substr("body_text", 1, 240)),
        )
        .values("preview")[:1]
    )
    return Subquery(latest)


@portal_page
@require_GET
def inbox(request):
    """Reply threads across campaigns, newest reply first, unread ones marked."""
    org = request.organization
    form = InboxFilterForm(request.GET or None, organization=org)
    threads = (
        Thread.objects.filter(organization=org, has_reply=True)
        .select_related("campaign", "contact", "lead")
        # Only what the list shows: fewer columns to fetch, parse and turn into models.
        .only(
            "organization_id",
            "subject",
            "message_count",
            "is_unread",
            "last_inbound_at",
            "campaign__name",
            "campaign__instantly_id",
            "contact__email",
            "contact__first_name",
            "contact__last_name",
            "contact__company_name",
            "lead__interest_status",
        )  # fmt: skip
        .annotate(preview=_latest_reply_preview())
        .order_by(F("last_inbound_at").desc(nulls_last=True), "-pk")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["campaign"]:
            threads = threads.filter(campaign=data["campaign"])
        if data["interest"] == "none":
            threads = threads.filter(lead__interest_status__in=["", None])
        elif data["interest"]:
            threads = threads.filter(lead__interest_status=data["interest"])
        if data["unread"]:
            threads = threads.filter(is_unread=True)
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inbox/inbox.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(query)},
    )


@portal_page
@require_GET
def thread_detail(request, pk):
    """The whole conversation, oldest message first."""
    thread = _get_thread_for_user(request, pk)
    conversation = (
        Message.objects.filter(organization=request.organization, thread=thread)
        .select_related("email_account")
        .defer("raw", "search_vector", "email_account__raw", "email_account__warmup")
        .order_by("sent_at", "pk")
    )
    # The inbox filters to go back to: a query string appended to the inbox's own path.
    back = request.GET.get("back", "").lstrip("?")
    return render(
        request,
        "inbox/thread.html",
        {"thread": thread, "conversation": conversation, "back": back},
    )


def _set_read_state(request, pk, *, unread: bool):
    thread = _get_thread_for_user(request, pk)
    Thread.objects.filter(organization=request.organization, pk=thread.pk).update(is_unread=unread)
    if not unread:
        Message.objects.filter(
            organization=request.organization, thread=thread, is_unread=True
        ).update(is_unread=False)
    flash.success(request, f"Marked {'unread' if unread else 'read'}.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("inbox:thread", pk=thread.pk)


@portal_page
@require_POST
def mark_read(request, pk):
    return _set_read_state(request, pk, unread=False)


@portal_page
@require_POST
def mark_unread(request, pk):
    return _set_read_state(request, pk, unread=True)
