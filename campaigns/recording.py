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
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from salesbrain.bulk import (
    columns,
    ensure,
    execute,
    increment,
    insert_rows,
    key_order,
    lock_rows,
    plain,
)

from .models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStatus,
    Contact,
    EmailAccount,
    EmailAccountDailyStat,
    Lead,
    LeadLabel,
    MailboxCampaignDailyStat,
)

MAILBOX_COUNTERS = ("sent", "bounced", "replied")


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
    found = ensure(
        Campaign,
        ("connection_id", "instantly_id"),
        {
            key: {"name": name[:300], "organization_id": org, "is_placeholder": True}
            for key, (name, org) in wanted.items()
        },
        returning=("id", "organization_id", "is_placeholder"),
    )
    return {key: CampaignRef(*row) for key, row in found.items()}


def ensure_mailboxes(wanted: Mapping[tuple[Any, str], Any]) -> dict[tuple[Any, str], int]:
    """(connection id, address) -> mailbox id; an address no sync has seen yet is created with
    status unknown (the next sync fills it). Values of `wanted` are the new row's organization."""
    return ensure(
        EmailAccount,
        ("connection_id", "email"),
        {key: {"organization_id": org} for key, org in wanted.items()},
    )


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
    found = ensure(
        Contact,
        ("organization_id", "email"),
        {
            key: {
                "first_name": details.first_name[:120],
                "last_name": details.last_name[:120],
                "company_name": details.company_name[:200],
                "custom_variables": details.custom_variables,
            }
            for key, details in wanted.items()
        },
        returning=("id", "first_name", "last_name", "company_name"),
    )
    _fill_contact_names(found, wanted)
    return {key: row[0] for key, row in found.items()}


def _fill_contact_names(
    found: Mapping[tuple[Any, str], tuple[int, str, str, str]],
    wanted: Mapping[tuple[Any, str], ContactDetails],
) -> None:
    rows = []
    for key, (pk, *names) in found.items():
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
    return ensure(
        Lead,
        ("campaign_id", "contact_id"),
        {key: {"organization_id": org} for key, org in wanted.items()},
    )


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


def label_meanings(wanted: Iterable[tuple[Any, str]]) -> dict[tuple[Any, str], str]:
    """Meaning (positive, negative, neutral) of each (connection id, custom label name) that
    the connection's lead labels know; names compare without case or surrounding space."""
    wanted = {(connection_id, name.strip().lower()) for connection_id, name in wanted}
    if not wanted:
        return {}
    rows = LeadLabel.objects.unscoped().filter(
        connection_id__in={connection_id for connection_id, _ in wanted}
    )
    meanings = {}
    for connection_id, label, meaning in rows.values_list("connection_id", "label", "meaning"):
        key = (connection_id, label.strip().lower())
        if key in wanted:
            meanings[key] = meaning
    return meanings


def record_activities(activities: Sequence[Mapping[str, Any]]) -> set[tuple[int, str]]:
    """Insert activities (dicts of `Activity` fields); answer the (source event, kind) pairs
    that were new."""
    return set(insert_rows(Activity, activities, returning=("source_event_id", "kind")))


def add_campaign_counts(
    counts: Mapping[tuple[Any, dt.date], Counter], organization_of: Mapping[Any, Any]
) -> None:
    """Add to per-campaign daily counters: one upsert statement for the whole batch."""
    _add_counts(
        CampaignDailyStat, "campaign_id", CampaignDailyStat.COUNTERS, counts, organization_of
    )


def add_mailbox_counts(
    counts: Mapping[tuple[int, Any, dt.date], Counter], organization_of: Mapping[Any, Any]
) -> None:
    """Add to the daily counters of each (mailbox, campaign) and of each whole mailbox.

    `counts` is keyed by (mailbox, campaign, day); `organization_of` gives each campaign's
    organization, which the per-campaign row takes: it is what that customer may see of a
    mailbox shared with others. The whole mailbox's row (`sent` is compared with its daily
    limit) belongs to the mailbox's own organization: staff only for the agency's pool.
    """
    if not counts:
        return
    per_campaign: dict[tuple[Any, dt.date], Counter] = {}
    per_mailbox: dict[tuple[Any, dt.date], Counter] = defaultdict(Counter)
    campaign_of: dict[tuple[Any, dt.date], Any] = {}
    for (mailbox, campaign, day), tally in counts.items():
        per_campaign[((mailbox, campaign), day)] = tally
        campaign_of[((mailbox, campaign), day)] = campaign
        per_mailbox[(mailbox, day)].update(tally)
    rows = [
        {
            "organization_id": organization_of.get(campaign),
            "email_account_id": mailbox,
            "campaign_id": campaign,
            "date": day,
            **{name: tally.get(name, 0) for name in MAILBOX_COUNTERS},
        }
        for ((mailbox, campaign), day), tally in sorted(
            per_campaign.items(), key=lambda item: key_order(item[0])
        )
        if any(tally.values())
    ]
    increment(
        MailboxCampaignDailyStat,
        rows,
        ("email_account_id", "campaign_id", "date"),
        MAILBOX_COUNTERS,
    )
    owners = dict(
        EmailAccount.objects.unscoped()
        .filter(pk__in={mailbox for mailbox, _day in per_mailbox})
        .values_list("id", "organization_id")
    )
    _add_counts(EmailAccountDailyStat, "email_account_id", MAILBOX_COUNTERS, per_mailbox, owners)


def _by_key_and_day(item):
    (key, day), _tally = item
    return (str(key), day)


def _add_counts(
    model: type[models.Model],
    key_field: str,
    counters: Sequence[str],
    counts: Mapping[tuple[Any, dt.date], Counter],
    organization_of: Mapping[Any, Any],
) -> None:
    rows = [
        {
            "organization_id": organization_of.get(key),
            key_field: key,
            "date": day,
            **{name: tally.get(name, 0) for name in counters},
        }
        for (key, day), tally in sorted(counts.items(), key=_by_key_and_day)
        if any(tally.values())
    ]
    increment(model, rows, (key_field, "date"), counters)


def customers_of_mailboxes(mailbox_ids: Iterable[int]) -> dict[int, set[Any]]:
    """The organizations whose campaigns send from each mailbox: who a mailbox problem
    concerns, whatever organization owns the mailbox itself (often the shared workspace)."""
    ids = [i for i in set(mailbox_ids) if i]
    found: dict[int, set[Any]] = {i: set() for i in ids}
    if ids:
        rows = (
            CampaignSender.objects.unscoped()
            .filter(email_account_id__in=ids, organization_id__isnull=False)
            .values_list("email_account_id", "organization_id")
            .distinct()
        )
        for mailbox_id, organization_id in rows:
            found[mailbox_id].add(organization_id)
    return found
