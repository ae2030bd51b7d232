"""Small display helpers shared by every app's admin: pretty JSON, coloured badges, and a base
class for objects mirrored from Instantly.

Kept in one module so the operator console looks the same everywhere and so the escaping of
provider data (raw payloads, error texts) is done in one place, by `format_html`.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.html import format_html

# Badge colours by meaning, not by model: every status of every model maps to one of these.
BADGE_COLOURS = {
    "good": "#2e7d32",
    "warn": "#b26a00",
    "bad": "#c62828",
    "idle": "#616161",
}

BADGE_STYLE = (
    "display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;"
    "font-size:11px;font-weight:600;white-space:nowrap;background:{}"
)


def badge(label: str, tone: str) -> str:
    """A coloured pill; `tone` is one of BADGE_COLOURS (unknown tones render grey)."""
    colour = BADGE_COLOURS.get(tone, BADGE_COLOURS["idle"])
    return format_html('<span style="' + BADGE_STYLE + '">{}</span>', colour, label)


def pretty_json(value) -> str:
    """Provider JSON indented in a <pre>; escaped, so a payload cannot inject markup."""
    if value in (None, "", {}, []):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html(
        '<pre style="max-height:32em;overflow:auto;white-space:pre-wrap;margin:0">{}</pre>',
        text,
    )


def truncated(text: str, length: int = 80) -> str:
    """One line of a long text (errors) for a changelist column."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def truncated_with_title(text: str, length: int = 48) -> str:
    """A long text cut for a narrow column, the whole of it in the tooltip (escaped)."""
    short = truncated(text, length)
    if not short:
        return "-"
    return format_html('<span title="{}">{}</span>', " ".join(text.split()), short)


def short_datetime(value) -> str:
    """A date and time in the reader's time zone (see `accounts.timezones`), short enough for
    a list column ("Mar 12, 14:05"); the full date with its zone in the tooltip."""
    if value is None:
        return "-"
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        local.strftime("%b %d, %H:%M"),
    )


def short_datetime_column(name: str, description: str):
    """A list column showing the model field `name` with `short_datetime`."""

    @admin.display(description=description, ordering=name)
    def column(obj):
        return short_datetime(getattr(obj, name))

    column.__name__ = f"{name}_short"
    return column


@admin.display(description="Organization", ordering="organization__name")
def organization_or_shared(obj) -> str:
    """A tenant row's organization, or a marker for the agency's shared workspace (NULL);
    a changelist column as is (`list_display = [..., organization_or_shared]`)."""
    return str(obj.organization) if obj.organization_id else "— shared / unassigned —"


def _json_display(field):
    """An admin display callable that shows one JSON field pretty (see MirroredAdmin)."""

    def display(obj):
        return pretty_json(getattr(obj, field.name))

    display.short_description = field.verbose_name
    return display


class MirroredAdmin(admin.ModelAdmin):
    """Base admin for rows Salesbrain mirrors from Instantly (campaigns, mailboxes, events...).

    Such rows are written by the sync and by webhook processing: adding one by hand would
    invent an object Instantly does not know, editing a synced column would be overwritten by
    the next sync, and deleting one would cascade away a customer's history (vanished objects
    are kept, never deleted). So nothing can be added or deleted, every model field is
    read-only (JSON fields shown pretty as `<name>_pretty`), and the change page has no save
    buttons unless a subclass lists in `editable_fields` the few columns that belong to
    Salesbrain rather than to Instantly.
    """

    editable_fields: tuple[str, ...] = ()
    show_full_result_count = False  # the extra COUNT(*) is wasted on big mirrored tables

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                setattr(self, f"{field.name}_pretty", _json_display(field))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_exclude(self, request, obj=None):
        # The raw JSON columns are shown through their `_pretty` twins, never as form fields.
        json_names = [
            f.name
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.JSONField) and f.name not in self.editable_fields
        ]
        return [*(super().get_exclude(request, obj) or ()), *json_names]

    def get_readonly_fields(self, request, obj=None):
        names = []
        for field in self.model._meta.concrete_fields:
            if field.name in self.editable_fields or isinstance(field, models.GeneratedField):
                continue
            is_json = isinstance(field, models.JSONField)
            names.append(f"{field.name}_pretty" if is_json else field.name)
        return [*super().get_readonly_fields(request, obj), *names]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.editable_fields:
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
            }
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """An inline that lists related mirrored rows without offering to add, edit or delete."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
