"""The connection form of the operator console: API keys can be set, never read back.

The keys are stored encrypted (`ProviderConnection.api_key`); the form only has write-only
password fields that start empty and are never re-rendered with what was typed, so a key
cannot leak through the page, a failed validation, or the admin history (which records field
names, not values).
"""

from __future__ import annotations

from django import forms

from .models import ProviderConnection

KEY_FIELDS = ("new_api_key", "new_api_key_v1")


class ProviderConnectionForm(forms.ModelForm):
    new_api_key = forms.CharField(
        label="New API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Instantly API v2 key. Leave empty to keep the current key; it is stored "
        "encrypted and never shown again.",
    )
    new_api_key_v1 = forms.CharField(
        label="New API v1 key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Optional legacy v1 key. Leave empty to keep the current one.",
    )

    class Meta:
        model = ProviderConnection
        fields = ["name", "organization", "is_shared", "workspace_id", "workspace_name", "status"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.api_key_encrypted and not cleaned.get("new_api_key"):
            self.add_error("new_api_key", "A new connection needs an API key.")
        if cleaned.get("is_shared") and cleaned.get("organization"):
            self.add_error(
                "organization", "The shared workspace belongs to the agency, not to a customer."
            )
        return cleaned

    def save(self, commit=True):
        connection = super().save(commit=False)
        if self.cleaned_data.get("new_api_key"):
            connection.api_key = self.cleaned_data["new_api_key"]
        if self.cleaned_data.get("new_api_key_v1"):
            connection.api_key_v1 = self.cleaned_data["new_api_key_v1"]
        if commit:
            connection.save()
        return connection
