"""The organization's reply settings page: what categories do, and the lead-scoring points.

Owners and admins (and staff) change them; other members may read them. Saving new points or
a new half-life recomputes the organization's scores at once, so the lists never mix rules.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.roles import MemberRole
from campaigns.models import Lead
from campaigns.views.access import portal_page

from .models import ReplySettings
from .scoring import engine
from .scoring import store as scoring

POINT_LABELS = {
    engine.OPENED: "Opened (first 5 count)",
    engine.CLICKED: "Clicked (first 5 count)",
    engine.MEETING_BOOKED: "Meeting booked",
    engine.MEETING_COMPLETED: "Meeting held",
    "reply:interested": "Replied: interested",
    "reply:meeting_request": "Replied: meeting request",
    "reply:information_request": "Replied: information request",
    "reply:not_interested": "Replied: not interested",
    "reply:wrong_person": "Replied: wrong person",
    "reply:out_of_office": "Replied: out of office",
    "reply:auto_reply": "Replied: automatic reply",
    "reply:": "Replied (not categorised)",
}
MANAGER_ROLES = frozenset({MemberRole.OWNER, MemberRole.ADMIN})


def _point_field(kind: str) -> str:
    return "points_" + (kind.replace("reply:", "reply_") or "reply").rstrip("_")


class ReplySettingsForm(forms.ModelForm):
    class Meta:
        model = ReplySettings
        fields = ["notify_positive_replies", "propose_interest_status", "block_do_not_contact",
                  "block_min_confidence", "score_half_life_days"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["block_min_confidence"].widget.attrs.update(min=0.5, max=1, step=0.01)
        self.fields["score_half_life_days"].widget.attrs.update(min=1, max=365, step=0.5)
        points = {**engine.DEFAULT_POINTS, **(self.instance.score_points or {})}
        for kind, label in POINT_LABELS.items():
            self.fields[_point_field(kind)] = forms.IntegerField(
                label=label, min_value=-100, max_value=100, initial=points[kind]
            )

    def clean_block_min_confidence(self):
        value = self.cleaned_data["block_min_confidence"]
        if not 0.5 <= value <= 1.0:
            raise forms.ValidationError("Between 0.5 and 1.")
        return value

    def clean_score_half_life_days(self):
        value = self.cleaned_data["score_half_life_days"]
        if not 1 <= value <= 365:
            raise forms.ValidationError("Between 1 and 365 days.")
        return value

    def point_fields(self):
        return [self[_point_field(kind)] for kind in POINT_LABELS]

    def save(self, commit=True):
        self.instance.score_points = {
            kind: self.cleaned_data[_point_field(kind)]
            for kind in POINT_LABELS
            if self.cleaned_data[_point_field(kind)] != engine.DEFAULT_POINTS[kind]
        }
        return super().save(commit)


def _can_manage(request) -> bool:
    membership = getattr(request, "membership", None)
    return bool(request.is_agency_staff or (membership and membership.role in MANAGER_ROLES))


@portal_page
def reply_settings(request):
    org = request.organization
    current = ReplySettings.objects.filter(organization=org).first() or ReplySettings(
        organization=org
    )
    can_manage = _can_manage(request)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only owners and admins change these settings.")
        before = scoring.rules_from(current)
        form = ReplySettingsForm(request.POST, instance=current)
        if form.is_valid():
            saved = form.save()
            if scoring.rules_from(saved) != before:
                leads = list(Lead.objects.filter(organization=org).values_list("pk", flat=True))
                scoring.recompute_scores(timezone.now(), lead_ids=leads)
            flash.success(request, "Settings saved.")
            return redirect("inbox:settings")
    else:
        form = ReplySettingsForm(instance=current)
    return render(request, "inbox/settings.html", {"form": form, "can_manage": can_manage})
