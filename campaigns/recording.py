"""Recording what happened to campaigns, mailboxes, contacts and leads, a batch at a time.

The webhook processor (in `instantly`) translates provider payloads into these calls; nothing
here knows a provider spelling. Every function takes a whole batch and costs a fixed number of
statements, and every write is safe to repeat:

- rows are looked up or inserted with `ON CONFLICT DO NOTHING` (concurrent workers race safely);
- lead and contact rows are locked in id order before their activity is counted, so two
  workers never count the same "first open" twice and never deadlock each other;
- states move only forward in time (`status_at`, `interest_status_at`, `last_error_at`);
- counters are added with one `INSERT ... ON CONFLICT DO UPDATE SET x = x + EXCLUDED.x` per
  batch, rows sorted by key.

The caller runs them inside one `staff_scope()` transaction: processing crosses organizations.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection as default_connection
from django.db import models
from django.utils import timezone

from .models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    Contact,
    EmailAccount,
    Lead,
)

ROWS_PER_STATEMENT = 5_000
MAILBOX_COUNTERS = ("sent", "bounced", "replied")


# --- small SQL helpers (shared with messaging.recording and the webhook processor) -----------
# A batch travels as one binary array per column (`unnest(%b::type[], ...)`), bound server-side:
# the statement text is the same whatever the batch size, and nothing is quoted into SQL text.


def execute(sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
    """Run one statement in the current transaction; answer its rows (if any)."""
    if isinstance(params, Mapping):
        params = {name: plain(value) for name, value in params.items()}
    else:
        params = [plain(value) for value in params]
    default_connection.ensure_connection()
    with psycopg.Cursor(default_connection.connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def plain(value: Any) -> Any:
    """Choices enums as their values (psycopg would write an Enum's name)."""
    return value.value if isinstance(value, enum.Enum) else value


def unnest_sql(casts: Sequence[str]) -> str:
    """`unnest(%b::type[], ...)` for columns of the given SQL types."""
    return "unnest(" + ", ".join(f"%b::{cast}[]" for cast in casts) + ")"


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows given as tuples -> one list per column: the parameters of an `unnest(...)`."""
    return [[plain(v) for v in column] for column in zip(*rows, strict=True)] or [
        [] for _ in range(width)
    ]


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any] | models.Model],
    *,
    on_conflict: str = "ON CONFLICT DO NOTHING",
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """INSERT rows (dicts by attname, or unsaved instances); answer the `returning` columns of
    the rows written. Fields a dict leaves out get their model default.

    With the default `ON CONFLICT DO NOTHING`, rows that already existed are simply not in the
    answer: that is how callers learn what is new.
    """
    if not rows:
        return []
    fields, insert_select = _insert_sql(model)
    quote = default_connection.ops.quote_name
    sql = f"{insert_select} {on_conflict} RETURNING {', '.join(quote(c) for c in returning)}"
    getters = [_getter(f) for f in fields]
    written: list[tuple] = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        written.extend(execute(sql, [[get(row) for row in chunk] for get in getters]))
    return written


@functools.cache
def _insert_sql(model: type[models.Model]) -> tuple[list[models.Field], str]:
    """The fields `insert_rows` writes for a model and its `INSERT ... SELECT FROM unnest`."""
    quote = default_connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.generated and not f.db_returning]
    casts, selects = [], []
    for f in fields:
        is_json = isinstance(f, models.JSONField)
        casts.append("text" if is_json else f.db_type(default_connection))
        selects.append(f"{quote(f.column)}::jsonb" if is_json else quote(f.column))
    names = ", ".join(quote(f.column) for f in fields)
    return fields, (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 - names from models
        f"SELECT {', '.join(selects)} FROM {unnest_sql(casts)} AS u({names})"
    )


def _getter(f: models.Field):
    """How to read field `f` from a row (dict or instance): defaults filled, JSON encoded."""
    name = f.attname
    per_row = f.has_default() and callable(f.default) and (f.primary_key or f.unique)
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        default = timezone.now()
    else:
        default = None if per_row else f.get_default()
    encode = isinstance(f, models.JSONField)

    def get(row):
        if isinstance(row, models.Model):
            value = getattr(row, name)
        elif name in row:
            value = row[name]
        else:
            value = f.get_default() if per_row else default
        if encode and value is not None:
            return json.dumps(value, cls=f.encoder)
        return value.value if isinstance(value, enum.Enum) else value

    return get


def lock_rows(model: type[models.Model], ids: Iterable[Any]) -> None:
    """Lock rows in id order: the one order every batch uses, so workers cannot deadlock.

    `FOR NO KEY UPDATE`, the lock an UPDATE of non-key columns takes anyway: it excludes other
    writers but not foreign-key checks (`FOR KEY SHARE`) of rows inserted elsewhere, which
    would otherwise deadlock with it at commit.
    """
    ids = sorted(set(ids))
    if ids:
        execute(
            f"SELECT id FROM {model._meta.db_table} "  # noqa: S608 - a model's table
            "WHERE id = ANY(%b::bigint[]) ORDER BY id FOR NO KEY UPDATE",
            [ids],
        )


def _keys(keys: Iterable[tuple]) -> tuple[set, list, list]:
    keys = set(keys)
    return keys, sorted({k[0] for k in keys}, key=str), sorted({k[1] for k in keys}, key=str)


# --- campaigns and mailboxes -----------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRef:
    """A campaign as processing needs it."""

    id: Any
    organization_id: Any
    is_placeholder: bool = False


def ensure_campaigns(
    wanted: Mapping[tuple[Any, str], tuple[str, Any]],
) -> dict[tuple[Any, str], CampaignRef]:
    """(connection id, Instantly id) -> campaign; unknown ones are created as placeholders.

    `wanted` maps each key to (name, organization of a new placeholder). A placeholder is
    filled in by the next sync; its organization is the connection's (NULL = shared).
    """
    found = _find_campaigns(wanted)
    missing = sorted(set(wanted) - set(found), key=str)
    if missing:
        insert_rows(
            Campaign,
            [
                {
                    "id": uuid.uuid4(),
                    "connection_id": connection_id,
                    "instantly_id": instantly_id,
                    "name": wanted[(connection_id, instantly_id)][0][:300],
                    "organization_id": wanted[(connection_id, instantly_id)][1],
                    "is_placeholder": True,
                }
                for connection_id, instantly_id in missing
            ],
        )
        found.update(_find_campaigns(missing))
    return found


def _find_campaigns(keys: Iterable[tuple[Any, str]]) -> dict[tuple[Any, str], CampaignRef]:
    keys, connections, instantly_ids = _keys(keys)
    if not keys:
        return {}
    rows = execute(
        "SELECT id, connection_id, instantly_id, organization_id, is_placeholder "
        "FROM campaigns_campaign "
        "WHERE connection_id = ANY(%b::uuid[]) AND instantly_id = ANY(%b::text[])",
        [connections, instantly_ids],
    )
    return {
        (c_id, i_id): CampaignRef(pk, org, placeholder)
        for pk, c_id, i_id, org, placeholder in rows
        if (c_id, i_id) in keys
    }


def ensure_mailboxes(wanted: Mapping[tuple[Any, str], Any]) -> dict[tuple[Any, str], int]:
    """(connection id, address) -> mailbox id; an address no sync has seen yet is created with
    status unknown (the next sync fills it). Values of `wanted` are the new row's organization."""
    found = _find_mailboxes(wanted)
    missing = sorted(set(wanted) - set(found), key=str)
    if missing:
        insert_rows(
            EmailAccount,
            [
                {"connection_id": c_id, "email": email, "organization_id": wanted[(c_id, email)]}
                for c_id, email in missing
            ],
        )
        found.update(_find_mailboxes(missing))
    return found


def _find_mailboxes(keys: Iterable[tuple[Any, str]]) -> dict[tuple[Any, str], int]:
    keys, connections, emails = _keys(keys)
    if not keys:
        return {}
    rows = execute(
        "SELECT id, connection_id, email FROM campaigns_emailaccount "
        "WHERE connection_id = ANY(%b::uuid[]) AND email = ANY(%b::text[])",
        [connections, emails],
    )
    return {(c_id, email): pk for pk, c_id, email in rows if (c_id, email) in keys}


def link_senders(pairs: Mapping[tuple[Any, int], Any]) -> None:
    """Remember that a mailbox sends for a campaign ((campaign, mailbox) -> campaign's org):
    it is how a customer gets to see a shared mailbox."""
    insert_rows(
        CampaignSender,
        [
            {"campaign_id": c_id, "email_account_id": m_id, "organization_id": org}
            for (c_id, m_id), org in sorted(pairs.items(), key=lambda item: str(item[0]))
        ],
    )


def record_campaign_status(campaign_id: Any, status: str, at: dt.datetime) -> bool:
    """Move a campaign to `status` unless a later completion says otherwise.

    Campaigns have no status timestamp, so `completed_at` is the only clock: completion is
    recorded with the latest time seen, and an older start or pause never reopens a campaign
    completed after it.
    """
    changes: dict[str, Any] = {"status": status}
    if status == CampaignStatus.COMPLETED:
        changes["completed_at"] = at
    not_completed_later = models.Q(completed_at__isnull=True) | models.Q(completed_at__lt=at)
    return bool(
        Campaign.objects.unscoped().filter(not_completed_later, pk=campaign_id).update(**changes)
    )


def mark_mailbox_error(
    mailbox_id: int,
    *,
    status: str,
    message: str,
    status_message: dict | None,
    at: dt.datetime,
) -> bool:
    """Put a mailbox in error, unless a later error was already recorded."""
    return bool(
        EmailAccount.objects.unscoped()
        .filter(pk=mailbox_id)
        .filter(models.Q(last_error_at__isnull=True) | models.Q(last_error_at__lt=at))
        .update(
            status=status,
            last_error=message,
            last_error_at=at,
            status_message=status_message,
        )
    )


# --- contacts and leads ----------------------------------------------------------------------


@dataclass
class ContactDetails:
    """What a delivery tells about a person; blanks never overwrite what is known."""

    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    custom_variables: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: ContactDetails) -> None:
        self.first_name = self.first_name or other.first_name
        self.last_name = self.last_name or other.last_name
        self.company_name = self.company_name or other.company_name
        self.custom_variables = {**other.custom_variables, **self.custom_variables}


def ensure_contacts(wanted: Mapping[tuple[Any, str], ContactDetails]) -> dict[tuple[Any, str], int]:
    """(organization, address) -> contact id, creating missing contacts with their names and
    filling names an existing contact lacks. Addresses are expected lower-cased."""
    found = _find_contacts(wanted)
    missing = sorted(set(wanted) - set(found), key=lambda k: (str(k[0]), k[1]))
    if missing:
        insert_rows(
            Contact,
            [
                {
                    "organization_id": org,
                    "email": email,
                    "first_name": wanted[(org, email)].first_name[:120],
                    "last_name": wanted[(org, email)].last_name[:120],
                    "company_name": wanted[(org, email)].company_name[:200],
                    "custom_variables": wanted[(org, email)].custom_variables,
                }
                for org, email in missing
            ],
        )
        found.update(_find_contacts(missing))
    _fill_contact_names(found, wanted)
    return {key: pk for key, (pk, _names) in found.items()}


def _find_contacts(keys: Iterable[tuple[Any, str]]) -> dict[tuple[Any, str], tuple[int, tuple]]:
    keys, orgs, emails = _keys(keys)
    if not keys:
        return {}
    rows = execute(
        "SELECT id, organization_id, email, first_name, last_name, company_name "
        "FROM campaigns_contact WHERE email = ANY(%b::text[]) "
        "AND (organization_id = ANY(%b::uuid[]) OR (%s AND organization_id IS NULL))",
        [emails, [o for o in orgs if o is not None], None in orgs],
    )
    return {
        (org, email): (pk, (first, last, company))
        for pk, org, email, first, last, company in rows
        if (org, email) in keys
    }


def _fill_contact_names(
    found: Mapping[tuple[Any, str], tuple[int, tuple]],
    wanted: Mapping[tuple[Any, str], ContactDetails],
) -> None:
    rows = []
    for key, (pk, names) in found.items():
        details = wanted[key]
        new = (details.first_name[:120], details.last_name[:120], details.company_name[:200])
        if any(not have and offered for have, offered in zip(names, new, strict=True)):
            rows.append((pk, *new))
    if not rows:
        return
    execute(
        "UPDATE campaigns_contact c SET "
        "first_name = CASE WHEN c.first_name = '' THEN v.first ELSE c.first_name END, "
        "last_name = CASE WHEN c.last_name = '' THEN v.last ELSE c.last_name END, "
        "company_name = CASE WHEN c.company_name = '' THEN v.company ELSE c.company_name END, "
        "updated_at = now() "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[]) "
        "AS v(id, first, last, company) WHERE c.id = v.id AND c.id = ANY(%b::bigint[])",
        [*columns(sorted(rows), 4), [row[0] for row in rows]],
    )


def ensure_leads(wanted: Mapping[tuple[Any, int], Any]) -> dict[tuple[Any, int], int]:
    """(campaign id, contact id) -> lead id; values of `wanted` are the campaign's organization."""
    found = _find_leads(wanted)
    missing = sorted(set(wanted) - set(found), key=lambda k: (str(k[0]), k[1]))
    if missing:
        insert_rows(
            Lead,
            [
                {"campaign_id": c_id, "contact_id": p_id, "organization_id": wanted[(c_id, p_id)]}
                for c_id, p_id in missing
            ],
        )
        found.update(_find_leads(missing))
    return found


def _find_leads(keys: Iterable[tuple[Any, int]]) -> dict[tuple[Any, int], int]:
    keys, campaigns, contacts = _keys(keys)
    if not keys:
        return {}
    rows = execute(
        "SELECT id, campaign_id, contact_id FROM campaigns_lead "
        "WHERE campaign_id = ANY(%b::uuid[]) AND contact_id = ANY(%b::bigint[])",
        [campaigns, contacts],
    )
    return {(c_id, p_id): pk for pk, c_id, p_id in rows if (c_id, p_id) in keys}


def touch_leads(last_activity: Mapping[int, dt.datetime]) -> None:
    """Lock the batch's leads (id order) and move their `last_activity_at` forward.

    Taking these locks first is what makes "is this the lead's first open?" answerable: a
    second worker with the same lead waits here until the first one has committed.
    """
    _touch(Lead, last_activity)


def touch_contacts(last_activity: Mapping[int, dt.datetime]) -> None:
    _touch(Contact, last_activity)


def _touch(model: type[models.Model], last_activity: Mapping[int, dt.datetime]) -> None:
    if not last_activity:
        return
    lock_rows(model, last_activity)
    execute(
        f"UPDATE {model._meta.db_table} t SET last_activity_at = v.at, "  # noqa: S608
        "updated_at = now() FROM unnest(%b::bigint[], %b::timestamptz[]) AS v(id, at) "
        "WHERE t.id = v.id AND t.id = ANY(%b::bigint[]) "
        "AND (t.last_activity_at IS NULL OR t.last_activity_at < v.at)",
        [*columns(sorted(last_activity.items()), 2), list(last_activity)],
    )


def advance_lead_status(changes: Mapping[int, tuple[str, dt.datetime]]) -> None:
    """Set each lead's status unless a later one is already recorded (forward-only)."""
    if not changes:
        return
    rows = sorted((lead_id, status, at) for lead_id, (status, at) in changes.items())
    execute(
        "UPDATE campaigns_lead l SET status = v.status, status_at = v.at, updated_at = now() "
        "FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[]) AS v(id, status, at) "
        "WHERE l.id = v.id AND l.id = ANY(%b::bigint[]) "
        "AND (l.status_at IS NULL OR l.status_at < v.at)",
        [*columns(rows, 3), list(changes)],
    )


def advance_lead_interest(changes: Mapping[int, tuple[str, str, dt.datetime]]) -> None:
    """Set each lead's interest status (and custom label) unless a later one is recorded."""
    if not changes:
        return
    rows = sorted((lead_id, *change) for lead_id, change in changes.items())
    execute(
        "UPDATE campaigns_lead l SET interest_status = v.interest, interest_label = v.label, "
        "interest_status_at = v.at, updated_at = now() "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::timestamptz[]) "
        "AS v(id, interest, label, at) "
        "WHERE l.id = v.id AND l.id = ANY(%b::bigint[]) "
        "AND (l.interest_status_at IS NULL OR l.interest_status_at < v.at)",
        [*columns(rows, 4), list(changes)],
    )


# --- activity and counters -------------------------------------------------------------------


def leads_with_activity(lead_ids: Iterable[int], kinds: Iterable[str]) -> set[tuple[int, str]]:
    """(lead, kind) pairs already recorded: a lead's first open/click is its unique one."""
    lead_ids = sorted(set(lead_ids))
    if not lead_ids:
        return set()
    rows = execute(
        "SELECT DISTINCT lead_id, kind FROM campaigns_activity "
        "WHERE lead_id = ANY(%b::bigint[]) AND kind = ANY(%b::text[])",
        [lead_ids, [plain(kind) for kind in kinds]],
    )
    return set(rows)


def record_activities(activities: Sequence[Mapping[str, Any]]) -> set[tuple[int, str]]:
    """Insert activities (dicts of `Activity` fields); answer the (source event, kind) pairs
    that were new."""
    return set(insert_rows(Activity, activities, returning=("source_event_id", "kind")))


def add_campaign_counts(
    counts: Mapping[tuple[Any, dt.date], Counter], organization_of: Mapping[Any, Any]
) -> None:
    """Add to per-campaign daily counters: one upsert statement for the whole batch."""
    _add_counts(
        "campaigns_campaigndailystat",
        "campaign_id",
        "uuid",
        CampaignDailyStat.COUNTERS,
        counts,
        organization_of,
        extra=(),
    )


def add_mailbox_counts(
    counts: Mapping[tuple[int, dt.date], Counter], organization_of: Mapping[int, Any]
) -> None:
    """Add to per-mailbox daily counters (`sent` is compared with the mailbox's daily limit)."""
    _add_counts(
        "campaigns_emailaccountdailystat",
        "email_account_id",
        "bigint",
        MAILBOX_COUNTERS,
        counts,
        organization_of,
        extra=(("raw", "'{}'::jsonb"),),
    )


def _by_key_and_day(item):
    (key, day), _tally = item
    return (str(key), day)


def _add_counts(
    table: str,
    key_column: str,
    key_cast: str,
    counters: Sequence[str],
    counts: Mapping[tuple[Any, dt.date], Counter],
    organization_of: Mapping[Any, Any],
    *,
    extra: Sequence[tuple[str, str]],
) -> None:
    rows = [
        (organization_of.get(key), key, day, *(tally.get(name, 0) for name in counters))
        for (key, day), tally in sorted(counts.items(), key=_by_key_and_day)
        if any(tally.values())
    ]
    if not rows:
        return
    names = ("organization_id", key_column, "date", *counters)
    values = unnest_sql(("uuid", key_cast, "date", *["integer"] * len(counters)))
    updates = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in counters)
    execute(
        f"INSERT INTO {table} ({', '.join(names)}{''.join(f', {n}' for n, _ in extra)}) "  # noqa: S608
        f"SELECT {', '.join(names)}{''.join(f', {v}' for _, v in extra)} "
        f"FROM {values} AS v({', '.join(names)}) "
        f"ON CONFLICT ({key_column}, date) DO UPDATE SET {updates}",
        columns(rows, len(names)),
    )
