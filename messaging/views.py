"""The unified inbox: every reply thread of the organization, and one conversation in full.

Read and done are triage, not content: any member may mark a thread read, unread or done,
viewers included (they are often the people who go through replies), and so may staff viewing
the organization; opening a thread marks it read for everyone. Replying writes to the lead, so
it takes a role that may write (owner, admin, member) or staff: viewers get no reply box and a
403 from the reply URL.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from campaigns import interest
from campaigns.models import Campaign, EmailAccount, InterestStatus
from campaigns.views.access import portal_page
from campaigns.views.mailboxes import mailboxes_for
from campaigns.views.period import without_period

from . import replies, reply_categories, search, triage
from .categorise.categories import ReplyCategory
from .filters import SearchTextField
from .models import Message, Thread

PAGE_SIZE = 25


STATES = [
    ("", "Open"),
    ("awaiting", "Awaiting our reply"),
    ("done", "Done"),
    ("all", "All"),
]


class InboxFilterForm(forms.Form):
    q = SearchTextField(required=False, max_length=200, label="Search")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.unscoped().none(), required=False)
    mailbox = forms.ModelChoiceField(
        queryset=EmailAccount.objects.unscoped().none(), required=False
    )
    interest = forms.ChoiceField(
        required=False, choices=[("", "Any interest"), ("none", "Not set"), *InterestStatus.choices]
    )
    state = forms.ChoiceField(required=False, choices=STATES)
    category = forms.ChoiceField(
        required=False, choices=[("", "Any category"), *ReplyCategory.choices]
    )
    unread = forms.BooleanField(required=False, label="Unread only")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization).only(
            "id", "name", "instantly_id"
        )
        self.fields["campaign"].empty_label = "All campaigns"
        self.fields["mailbox"].queryset = mailboxes_for(organization).only("id", "email")
        self.fields["mailbox"].empty_label = "All mailboxes"


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), max_length=replies.MAX_BODY_LENGTH,
        label="Reply",
    )  # fmt: skip
    idempotency_key = forms.CharField(widget=forms.HiddenInput, min_length=8, max_length=64)


def can_reply(request) -> bool:
    membership = getattr(request, "membership", None)
    return bool(request.is_agency_staff or (membership is not None and membership.can_write))


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
            "last_message_at",
            "done_at",
            "lead_id",
            "campaign__name",
            "campaign__instantly_id",
            "contact__email",
            "contact__first_name",
            "contact__last_name",
            "contact__company_name",
            "lead__interest_status",
            "lead__interest_label",  # a custom label's name (one query per row without it)
            "category",
            "category_confidence",
            "returns_on",
        )  # fmt: skip
        .annotate(preview=_latest_reply_preview())
        .order_by(F("last_inbound_at").desc(nulls_last=True), "-pk")
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and form.has_error("q"):
        threads = threads.none()  # a search PostgreSQL cannot parse finds nothing
    if data.get("campaign"):
        threads = threads.filter(campaign=data["campaign"])
    if data.get("mailbox"):
        threads = triage.via_mailbox(threads, data["mailbox"].pk)
    if data.get("interest") == "none":
        threads = threads.filter(lead__interest_status__in=["", None])
    elif data.get("interest"):
        threads = threads.filter(lead__interest_status=data["interest"])
    if data.get("category"):
        threads = threads.filter(category=data["category"])
    if data.get("unread"):
        threads = threads.filter(is_unread=True)
    state = data.get("state", "")
    if state in ("", "awaiting"):
        threads = triage.done(threads, False)
    if state == "awaiting":
        threads = triage.awaiting_our_reply(threads)
    elif state == "done":
        threads = triage.done(threads, True)
    if data.get("q"):
        threads = _best_match_first(threads, org, data["q"], narrowed=bool(data.get("campaign")))
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    for thread in page.object_list:
        thread.headline = search.render_headline(getattr(thread, "headline_raw", ""))
    return render(
        request,
        "inbox/inbox.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            # Where a thread's "← Inbox" leads back to: these filters and this page.
            "back": request.GET.urlencode(),
            "filtered": bool(without_period(query)),
            "searching": bool(data.get("q")),
        },
    )


def _best_match_first(threads, org, text: str, *, narrowed: bool = False):
    """Threads with a message matching `text`, best match first, with its highlighted words.

    Which threads match is one lookup in the search index (`thread IN (...)`); the rank and
    the snippet are then computed per matching thread. (Filtering on the rank subquery instead
    made PostgreSQL run it for every thread of the inbox, twice.) Within one campaign every
    match counts; otherwise the newest matches do (see `messaging.search`).
    """
    messages = Message.objects.filter(organization=org)
    matching = search.search_messages(messages, text, indexed=not narrowed)
    best = matching.filter(thread=OuterRef("pk")).order_by("-rank", "-sent_at")
    return (
        threads.filter(pk__in=matching.values("thread_id"))
        .annotate(
            rank=Subquery(best.values("rank")[:1]),
            headline_raw=Subquery(best.values("headline_raw")[:1]),
        )
        .order_by("-rank", F("last_inbound_at").desc(nulls_last=True), "-pk")
    )


@portal_page
@require_GET
def thread_detail(request, pk):
    """The whole conversation, oldest message first; opening it marks it read for everyone."""
    thread = _get_thread_for_user(request, pk)
    if thread.is_unread:
        triage.set_read(thread, unread=False)
    return _render_thread(request, thread)


def _render_thread(request, thread, reply_form=None, status=200):
    conversation = (
        Message.objects.filter(organization=request.organization, thread=thread)
        .select_related("email_account", "sent_by")
        .defer("raw", "search_vector", "email_account__raw", "email_account__warmup")
        .order_by("sent_at", "pk")
    )
    writer = can_reply(request)
    if writer and reply_form is None:
        reply_form = ReplyForm(initial={"idempotency_key": uuid.uuid4().hex})
    # The inbox filters and page to go back to: a query string appended to the inbox's path.
    back = request.GET.get("back", request.POST.get("back", "")).lstrip("?")
    return render(
        request,
        "inbox/thread.html",
        {
            "thread": thread,
            "conversation": conversation,
            "back": back,
            "reply_form": reply_form if writer else None,
            "can_write": writer,
            "interest_choices": interest.SETTABLE,
            "custom_labels": interest.custom_labels(request.organization.pk) if writer else [],
            # One click corrects a reply's category (a label the evaluation counts).
            "categories": ReplyCategory.choices,
        },
        status=status,
    )


@portal_page
@require_POST
def reply(request, pk):
    """Send the reply; on failure the page comes back with the draft and why it failed."""
    thread = _get_thread_for_user(request, pk)
    if not can_reply(request):
        raise PermissionDenied("Your role in this organization is read-only.")
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_thread(request, thread, form, status=400)
    try:
        message, _ = replies.reply(
            thread,
            user=request.user,
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except replies.CannotReply as exc:
        form.add_error(None, str(exc))
        return _render_thread(request, thread, form, status=400)
    if message.status == Message.Status.FAILED:
        flash.error(request, f"Not sent. {message.failure_reason} Your draft is kept below.")
        # A new compose: the same draft may be sent again once the cause is fixed.
        draft = ReplyForm(initial={"body": message.body_text, "idempotency_key": uuid.uuid4().hex})
        return _render_thread(request, thread, draft)
    flash.success(request, "Reply sent." if message.status == Message.Status.SENT else
                  "Reply is being sent.")  # fmt: skip
    return _back_to_thread(request, thread)


def _back_to_thread(request, thread):
    back = request.POST.get("back", "")
    target = reverse("inbox:thread", args=[thread.pk])
    return redirect(f"{target}?{urlencode({'back': back})}" if back else target)


@portal_page
@require_POST
def mark_done(request, pk):
    thread = _get_thread_for_user(request, pk)
    done = request.POST.get("done", "1") == "1"
    triage.set_done(thread, done=done)
    flash.success(request, "Marked done." if done else "Reopened.")
    return _redirect_next(request, thread)


def _set_read_state(request, pk, *, unread: bool):
    thread = _get_thread_for_user(request, pk)
    triage.set_read(thread, unread=unread)
    flash.success(request, f"Marked {'unread' if unread else 'read'}.")
    return _redirect_next(request, thread)


def _redirect_next(request, thread):
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


@portal_page
@require_POST
def correct_category(request, pk):
    """A member's one-click correction of an inbound message's category (stored as a label)."""
    message = get_object_or_404(
        Message.objects.filter(
            organization=request.organization, direction=Message.Direction.INBOUND
        ),
        pk=pk,
    )
    if not can_reply(request):
        raise PermissionDenied("Your role in this organization is read-only.")
    category = request.POST.get("category", "")
    if category not in ReplyCategory.values:
        flash.error(request, "Unknown category.")
    elif category != message.category:
        reply_categories.correct_category(message, category, request.user)
        flash.success(request, f"Category set to {ReplyCategory(category).label}.")
    return redirect("inbox:thread", pk=message.thread_id)
