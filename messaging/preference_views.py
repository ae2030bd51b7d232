"""Notification settings: each member's email choices, the organization's Slack URL (owners
and admins), and the signed unsubscribe link that works without logging in."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import MemberRole
from accounts.tenancy import staff_scope
from campaigns.views.access import portal_page

from . import emails, slack
from .models import NotificationPreference, SlackWebhook
from .preference_forms import PreferenceForm, SlackForm

SLACK_ROLES = frozenset({MemberRole.OWNER, MemberRole.ADMIN})


def _may_manage_slack(request) -> bool:
    membership = getattr(request, "membership", None)
    return bool(request.is_agency_staff or (membership and membership.role in SLACK_ROLES))


def _preference(request) -> NotificationPreference:
    return NotificationPreference.objects.filter(
        organization=request.organization, user=request.user
    ).first() or NotificationPreference(organization=request.organization, user=request.user)


@portal_page
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    preference = _preference(request)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        flash.success(request, "Notification settings saved.")
        return redirect("notifications:settings")
    hook = SlackWebhook.objects.filter(organization=request.organization).first()
    return render(
        request,
        "notifications/settings.html",
        {
            "form": form,
            "slack_form": SlackForm(),
            "hook": hook,
            "may_manage_slack": _may_manage_slack(request),
        },
    )


@portal_page
@require_POST
def slack_settings(request):
    if not _may_manage_slack(request):
        raise PermissionDenied("Only an owner or admin may change the Slack webhook.")
    action = request.POST.get("action", "save")
    hook = SlackWebhook.objects.filter(organization=request.organization).first()
    if action == "remove" and hook:
        hook.delete()
        flash.success(request, "Slack webhook removed.")
    elif action == "test" and hook:
        # One try, at once: the person clicking waits for the answer.
        ok = slack.post(
            hook,
            f"Salesbrain test message for {request.organization}.",
            subject_key="test",
            tries=1,
        )
        if ok:
            flash.success(request, "Test message sent to Slack.")
        else:
            flash.error(request, "Slack did not accept the test message; check the URL.")
    elif action == "save":
        form = SlackForm(request.POST)
        if form.is_valid():
            slack.save(request.organization, form.cleaned_data["url"])
            flash.success(request, "Slack webhook saved.")
        else:
            flash.error(request, " ".join(form.errors.get("url", ["Invalid URL."])))
    return redirect("notifications:settings")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks (mail scanners follow links), POST turns the emails off. No login: the
    signed token is the proof, which is also why no CSRF token is asked for (mail clients'
    one-click unsubscribe, RFC 8058, POSTs without one)."""
    found = emails.read_unsubscribe_token(token)
    if found is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    user_id, organization_id = found
    done = False
    if request.method == "POST":
        with staff_scope():
            NotificationPreference.objects.filter(
                user_id=user_id, organization_id=organization_id
            ).update(email=NotificationPreference.Email.OFF)
        done = True
    return render(request, "notifications/unsubscribe.html", {"done": done})
