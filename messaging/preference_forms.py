"""Forms of the notification settings page: a member's email choices, the Slack URL."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django import forms

from . import slack
from .models import Notification, NotificationPreference


@cache
def _zones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class PreferenceForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        required=False,
        choices=Notification.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every kind.",
    )
    digest_hour = forms.TypedChoiceField(
        coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)], label="Digest at"
    )
    time_zone = forms.ChoiceField(choices=(), label="Time zone")

    class Meta:
        model = NotificationPreference
        fields = ["email", "kinds", "digest_hour", "time_zone"]
        labels = {"email": "Email me"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = _zones()


class SlackForm(forms.Form):
    url = forms.CharField(
        label="Slack incoming-webhook URL",
        max_length=500,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_url(self):
        return slack.validate_url(self.cleaned_data["url"])
