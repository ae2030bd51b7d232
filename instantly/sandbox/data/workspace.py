"""`SandboxWorkspace`: the whole fake Instantly workspace, built lazily, read and written.

Campaigns and mailboxes are built up front (cheap); each campaign's leads, Unibox emails and
activity are built on first use from their own seeded RNG, so a workspace of thousands of
campaigns starts at once and the data never depends on the order in which it is read. Pure
stdlib and not thread-safe; the sandbox server serialises access to it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import analytics, volume
from .accounts import make_account, make_workspace
from .campaigns import make_campaign, not_sending_status
from .common import ANCHOR, Activity, CampaignData, Clock, NotFound, html_of, text_of, uuid7
from .emails import UE_MANUAL, build_emails, unibox_row
from .leads import (
    BLOCKED_DOMAINS,
    CUSTOM_LABELS,
    EMAIL_RE,
    build_leads,
    check_new_lead,
    is_flat,
    new_lead,
)
from .subscriptions import apply_webhook_fields, new_webhook

# Overview interest totals -> the lt_interest_status each counts.
OVERVIEW_INTEREST_TOTALS = {
    "total_interested": 1,
    "total_meeting_booked": 2,
    "total_meeting_completed": 3,
    "total_closed": 4,
}


class SandboxWorkspace:
    """A whole fake Instantly workspace: campaigns, mailboxes, leads, Unibox, analytics, hooks.

    Same seed and sizes give byte-identical data (see `export`). `emails_per_campaign` caps how
    many Unibox rows each campaign lists, oldest first (None lists every email the lead stories
    produce; activity and analytics are not capped). `now` moves every timestamp, no id.
    `history_days` adds that many days of sending volume to the analytics (see `volume`).
    """

    def __init__(
        self,
        seed: int = 1,
        campaigns: int = 20,
        accounts: int = 50,
        leads_per_campaign: int = 20,
        emails_per_campaign: int | None = None,
        now: datetime | None = None,
        history_days: int | None = None,
    ) -> None:
        if campaigns < 0 or accounts < 1 or leads_per_campaign < 0:
            raise ValueError("need campaigns >= 0, accounts >= 1 and leads_per_campaign >= 0")
        self.seed = seed
        self.leads_per_campaign = leads_per_campaign
        self.emails_per_campaign = emails_per_campaign
        self.history_days = history_days
        self._volumes: dict[str, list[volume.VolumeDay]] = {}
        self.now = (now or ANCHOR).astimezone(UTC)
        self._clock = clock = Clock(self.now - ANCHOR)
        rng = random.Random(f"{seed}:workspace")
        self.workspace = make_workspace(rng, clock)
        tag_ids = [uuid7(rng, ANCHOR - timedelta(days=400 - i)) for i in range(5)]
        account_list = [make_account(rng, i, self.workspace, clock) for i in range(accounts)]
        self._accounts = {a["email"]: a for a in sorted(account_list, key=lambda a: a["email"])}
        account_emails = [a["email"] for a in account_list]
        made = [
            make_campaign(
                rng,
                index,
                workspace=self.workspace,
                account_emails=account_emails,
                tag_ids=tag_ids,
                clock=clock,
            )
            for index in range(campaigns)
        ]
        for index, campaign in enumerate(made):
            campaign["not_sending_status"] = not_sending_status(campaign, index)
        # Generation number seeds each campaign's leads; listings go in id (= creation) order.
        self._campaign_index = {campaign["id"]: index for index, campaign in enumerate(made)}
        self._campaigns = {c["id"]: c for c in sorted(made, key=lambda c: c["id"])}
        self._data: dict[str, CampaignData] = {}
        self._lead_campaign: dict[str, str] = {}
        self._email_index: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.block_list: dict[str, dict[str, Any]] = {}
        self._mutation_rng = random.Random(f"{seed}:mutations")
        self._mutations = 0

    def _new_id(self) -> tuple[str, datetime, str]:
        """Id, shifted time and timestamp for an object created through the API.

        Ids sort after every generated one, so cursors keep working after writes."""
        self._mutations += 1
        at = ANCHOR + timedelta(milliseconds=self._mutations)
        return uuid7(self._mutation_rng, at), at + self._clock.shift, self._clock.ts(at)

    def _campaign_data(self, campaign_id: str) -> CampaignData:
        """Build (once) the leads and activity of one campaign from its own RNG."""
        data = self._data.get(campaign_id)
        if data is None:
            rng = random.Random(f"{self.seed}:campaign:{self._campaign_index[campaign_id]}")
            campaign = self._campaigns[campaign_id]
            data = build_leads(rng, campaign, self.leads_per_campaign, self.workspace, self._clock)
            for lead_id in data.leads:
                self._lead_campaign[lead_id] = campaign_id
            self._data[campaign_id] = data
        return data

    def _campaign_emails(self, campaign_id: str) -> list[dict[str, Any]]:
        """Build (once) a campaign's Unibox rows from its activity, oldest first."""
        data = self._campaign_data(campaign_id)
        if data.emails is None:
            campaign = self._campaigns[campaign_id]
            data.emails = build_emails(data, campaign, self._accounts, self._clock)
            for row in data.emails:
                self._email_index[row["id"]] = row
        return data.emails

    def _build_all(self) -> None:
        for campaign_id in self._campaigns:
            self._campaign_data(campaign_id)

    # --- reading ---------------------------------------------------------------------------

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign, in id (= creation) order."""
        return list(self._campaigns.values())

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Every sending mailbox, in email order (the accounts cursor is the email)."""
        return list(self._accounts.values())

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        try:
            return self._campaigns[campaign_id]
        except KeyError:
            raise NotFound(f"Campaign {campaign_id} not found")

    def account(self, email: str) -> dict[str, Any]:
        try:
            return self._accounts[email]
        except KeyError:
            raise NotFound(f"Account {email} not found")

    def leads(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Leads of one campaign, or of all, in id order."""
        if campaign_id is not None:
            return list(self._campaign_data(self.campaign(campaign_id)["id"]).leads.values())
        leads = [
            lead for cid in self._campaigns for lead in self._campaign_data(cid).leads.values()
        ]
        return sorted(leads, key=lambda lead: lead["id"])

    def lead(self, lead_id: str) -> dict[str, Any]:
        self._build_all()
        campaign_id = self._lead_campaign.get(lead_id)
        if campaign_id is None:
            raise NotFound(f"Lead {lead_id} not found")
        return self._data[campaign_id].leads[lead_id]

    def emails(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Unibox rows of one campaign, or of all, oldest first (ids sort by time)."""
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        cap = self.emails_per_campaign
        rows = [e for cid in ids for e in self._campaign_emails(cid)[:cap]]
        return rows if campaign_id is not None else sorted(rows, key=lambda e: e["id"])

    def email(self, email_id: str) -> dict[str, Any]:
        """One Unibox row by id (rows hidden by `emails_per_campaign` included)."""
        if email_id not in self._email_index:
            for campaign_id in self._campaigns:
                self._campaign_emails(campaign_id)
        try:
            return self._email_index[email_id]
        except KeyError:
            raise NotFound(f"Email {email_id} not found")

    def activity(self, campaign_id: str) -> list[Activity]:
        """A campaign's activity log, in time order."""
        return self._campaign_data(self.campaign(campaign_id)["id"]).activity

    def stories(self, campaign_id: str) -> list[tuple[dict[str, Any], str, list[Activity]]]:
        """Every generated lead of a campaign with its Unibox thread id and its activity.

        Leads come in generation order, each one's activity in time order; the campaign's
        Unibox rows are built too, so `email()` finds every email an activity points to."""
        campaign_id = self.campaign(campaign_id)["id"]
        self._campaign_emails(campaign_id)
        data = self._data[campaign_id]
        by_lead: dict[str, list[Activity]] = {lead_id: [] for lead_id in data.stories}
        for a in data.activity:
            by_lead[a.lead_id].append(a)
        return [
            (lead, thread, by_lead[lead_id]) for lead_id, (lead, thread) in data.stories.items()
        ]

    def materialize(self) -> SandboxWorkspace:
        """Build every campaign's leads and Unibox now (benchmarks warm up before timing)."""
        for campaign_id in self._campaigns:
            self._campaign_emails(campaign_id)
        return self

    def export(self) -> dict[str, Any]:
        """Everything the workspace holds, as JSON-ready data (for determinism checks)."""
        return {
            "workspace": self.workspace,
            "campaigns": self.campaigns,
            "accounts": self.accounts,
            "leads": self.leads(),
            "emails": self.emails(),
            "campaign_analytics": self.campaign_analytics(),
            "campaign_daily_analytics": self.campaign_daily_analytics(),
            "campaign_step_analytics": self.campaign_step_analytics(),
            "account_daily_analytics": self.account_daily_analytics(),
            "webhooks": list(self.webhooks.values()),
        }

    # --- analytics -------------------------------------------------------------------------

    def campaign_analytics(
        self,
        ids: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[dict[str, Any]]:
        """Totals per campaign; a campaign that never sent has no row (as in Instantly)."""
        wanted = list(self._campaigns) if ids is None else [i for i in ids if i in self._campaigns]
        rows = []
        for cid in wanted:
            row = analytics.campaign_row(self._campaigns[cid], self._campaign_data(cid), start, end)
            if row is not None:
                volume.add_totals(row, self._volume_of(cid, start, end))
                rows.append(row)
        return rows

    def campaign_analytics_overview(
        self, campaign_id: str, start: date | None = None, end: date | None = None
    ) -> dict[str, Any]:
        """GET /campaigns/analytics/overview for one campaign: its totals plus the interest
        totals, each lead counted once per status it reached (Instantly's default, without
        expand_crm_events). Zeros for a campaign that never sent (unconfirmed)."""
        campaign = self.campaign(campaign_id)
        data = self._campaign_data(campaign["id"])
        row = analytics.campaign_row(campaign, data, start, end) or {}
        if row:
            volume.add_totals(row, self._volume_of(campaign["id"], start, end))
        overview = {name: value for name, value in row.items() if not name.startswith("campaign_")}
        reached: dict[int, set[str]] = {}
        for a in data.activity:
            day = a.at.date()
            if (
                a.kind == "interest"
                and (start is None or day >= start)
                and (end is None or day <= end)
            ):
                reached.setdefault(a.value, set()).add(a.lead_id)
        for name, code in OVERVIEW_INTEREST_TOTALS.items():
            overview[name] = len(reached.get(code, ()))
        return overview

    def lead_labels(self) -> list[dict[str, Any]]:
        """The workspace's custom lead labels, as GET /lead-labels lists them."""
        created = self._clock.ts(ANCHOR - timedelta(days=200))
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, self.workspace["id"])
        return [
            {
                "id": str(uuid.uuid5(namespace, label["label"])),
                "timestamp_created": created,
                "created_by": self.workspace["owner"],
                "organization_id": self.workspace["id"],
                **label,
                "description": None,
                "use_with_ai": False,
            }
            for label in CUSTOM_LABELS
        ]

    def campaign_daily_analytics(
        self, campaign_id: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """One row per day with activity, for one campaign or the whole workspace."""
        rows = analytics.daily_rows(self._activity_of(campaign_id), start, end)
        if not self.history_days:
            return rows
        by_day = {row["date"]: row for row in rows}
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        for cid in ids:
            for v in self._volume_of(cid, start, end):
                key = v.day.isoformat()
                volume.add_daily(by_day.setdefault(key, {"date": key}), v)
        return [by_day[day] for day in sorted(by_day)]

    def campaign_step_analytics(
        self,
        campaign_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
        include_opportunities: bool = True,
    ) -> list[dict[str, Any]]:
        """One row per (step, variant): `step` as webhooks number it, `variant` from 0."""
        return analytics.step_rows(
            self._activity_of(campaign_id), start, end, include_opportunities
        )

    def account_daily_analytics(
        self,
        emails: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[dict[str, Any]]:
        """One row per (day, mailbox) with activity, optionally for some mailboxes only."""
        wanted = None if emails is None else set(emails)
        self._build_all()
        activity = [
            a
            for data in self._data.values()
            for a in data.activity
            if wanted is None or a.eaccount in wanted
        ]
        rows = analytics.account_daily_rows(activity, start, end)
        if not self.history_days:
            return rows
        by_key = {(row["date"], row["email_account"]): row for row in rows}
        for cid, campaign in self._campaigns.items():
            senders = campaign["email_list"]
            for v in self._volume_of(cid, start, end):
                for email, counts in volume.split_over_mailboxes(v, senders).items():
                    if wanted is not None and email not in wanted:
                        continue
                    key = (v.day.isoformat(), email)
                    row = by_key.setdefault(key, {"date": key[0], "email_account": email})
                    for name, value in counts.items():
                        row[name] = row.get(name, 0) + value
        return [by_key[key] for key in sorted(by_key)]

    def _volume_of(self, campaign_id: str, start: date | None, end: date | None):
        """The campaign's volume days between `start` and `end` (none without history_days)."""
        if not self.history_days:
            return []
        days = self._volumes.get(campaign_id)
        if days is None:
            days = self._volumes[campaign_id] = volume.campaign_volume(
                self._campaigns[campaign_id],
                self.seed,
                self._campaign_index[campaign_id],
                self.now.date(),
                self.history_days,
            )
        return [
            v for v in days if (start is None or v.day >= start) and (end is None or v.day <= end)
        ]

    def _activity_of(self, campaign_id: str | None) -> list[Activity]:
        """The activity of one campaign, or of all, campaign after campaign."""
        ids = list(self._campaigns) if campaign_id is None else [self.campaign(campaign_id)["id"]]
        return [a for cid in ids for a in self._campaign_data(cid).activity]

    # --- writes ----------------------------------------------------------------------------

    def add_lead(self, campaign_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create one lead as POST /leads does; ValueError on bad input, NotFound on campaign."""
        check_new_lead(fields)
        data = self._campaign_data(self.campaign(campaign_id)["id"])
        lead_id, _, ts = self._new_id()
        lead = new_lead(
            fields, lead_id=lead_id, ts=ts, campaign_id=campaign_id, workspace=self.workspace
        )
        data.leads[lead_id] = lead
        self._lead_campaign[lead_id] = campaign_id
        return lead

    def add_leads(
        self,
        campaign_id: str,
        leads: list[Any],
        skip_if_in_workspace: bool = False,
    ) -> dict[str, Any]:
        """Bulk add as POST /leads/add does: count what was uploaded and why the rest was not."""
        data = self._campaign_data(self.campaign(campaign_id)["id"])
        in_campaign = {lead["email"] for lead in data.leads.values()}
        in_workspace = {lead["email"] for lead in self.leads()} if skip_if_in_workspace else set()
        counts = dict.fromkeys(
            ("in_blocklist", "duplicated_leads", "invalid_email_count", "skipped_count"), 0
        )
        created = []
        for index, item in enumerate(leads):
            email = item.get("email") if isinstance(item, dict) else None
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                counts["invalid_email_count"] += 1
                continue
            email = email.lower()
            if email.split("@")[1] in BLOCKED_DOMAINS:
                counts["in_blocklist"] += 1
            elif email in in_campaign:
                counts["duplicated_leads"] += 1
            elif email in in_workspace or not is_flat(item.get("custom_variables") or {}):
                counts["skipped_count"] += 1
            else:
                lead = self.add_lead(campaign_id, {**item, "email": email})
                in_campaign.add(email)
                created.append({"id": lead["id"], "email": email, "index": index})
        return {
            "status": "success",
            "total_sent": len(leads),
            "leads_uploaded": len(created),
            "blocklist_used": bool(counts["in_blocklist"]),
            **counts,
            "created_leads": created,
        }

    def delete_lead(self, lead_id: str) -> dict[str, Any]:
        lead = self.lead(lead_id)
        del self._data[self._lead_campaign.pop(lead_id)].leads[lead_id]
        return lead

    def reply(
        self, reply_to_uuid: str, eaccount: str, subject: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Record a manual reply (ue_type 3) in the thread of `reply_to_uuid`."""
        original = self.email(reply_to_uuid)
        self.account(eaccount)
        text, html = body.get("text"), body.get("html")
        if not isinstance(text, str) and not isinstance(html, str):
            raise ValueError("body/body must have a text or an html string")
        email_id, at, _ = self._new_id()
        campaign = self._campaigns[original["campaign_id"]]
        lead = {"id": original["lead_id"], "email": original["lead"]}
        text = text if isinstance(text, str) else text_of(html)
        row = unibox_row(
            email_id,
            at - self._clock.shift,
            campaign,
            lead,
            original["thread_id"],
            UE_MANUAL,
            sender=eaccount,
            to=original["lead"],
            subject=subject,
            text=text,
            html=html if isinstance(html, str) else html_of(text),
            step=None,
            clock=self._clock,
        )
        self._campaign_emails(campaign["id"]).append(row)
        self._email_index[email_id] = row
        return row

    def update_interest(
        self, lead_email: str, interest_value: int | None, campaign_id: str | None
    ) -> dict[str, Any]:
        """Set `lt_interest_status` of the lead(s) with this email (in one campaign if given),
        as POST /leads/update-interest-status does; NotFound when no lead has the email."""
        leads = self.leads(campaign_id) if campaign_id else self.leads()
        matching = [lead for lead in leads if lead["email"].lower() == lead_email.lower()]
        if not matching:
            raise NotFound(f"Lead {lead_email} not found")
        for lead in matching:
            lead["lt_interest_status"] = interest_value
        return {"message": "Lead interest status update background job submitted"}

    # --- webhook subscriptions ---------------------------------------------------------------

    def webhook(self, webhook_id: str) -> dict[str, Any]:
        try:
            return self.webhooks[webhook_id]
        except KeyError:
            raise NotFound(f"Webhook {webhook_id} not found")

    def create_webhook(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Subscribe a URL; the server has already checked `event_type` against the list."""
        webhook_id, _, ts = self._new_id()
        webhook = new_webhook(webhook_id, ts, self.workspace["id"])
        apply_webhook_fields(webhook, fields, self._campaign_id)
        if not webhook["target_hook_url"]:
            raise ValueError("body must have required property 'target_hook_url'")
        self.webhooks[webhook_id] = webhook
        return webhook

    def update_webhook(self, webhook_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        webhook = self.webhook(webhook_id)
        updated = dict(webhook)
        apply_webhook_fields(updated, fields, self._campaign_id)
        updated["timestamp_updated"] = self._new_id()[2]
        webhook.update(updated)
        return webhook

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self.webhooks.pop(self.webhook(webhook_id)["id"])

    def set_webhook_status(self, webhook_id: str, active: bool) -> dict[str, Any]:
        """Resume (active) or disable a subscription, as Instantly does after failed deliveries."""
        webhook = self.webhook(webhook_id)
        ts = self._new_id()[2]
        webhook["status"] = 1 if active else -1
        webhook["timestamp_error"] = None if active else ts
        webhook["timestamp_updated"] = ts
        return webhook

    def _campaign_id(self, campaign_id: str) -> str:
        return self.campaign(campaign_id)["id"]

    # --- block list ------------------------------------------------------------------------

    def add_block_list_entry(self, value: str) -> dict[str, Any]:
        """Block an address or a domain, as POST /block-lists-entries does (idempotent here:
        unconfirmed whether Instantly answers a duplicate with the existing entry)."""
        value = value.strip().lower()
        for entry in self.block_list.values():
            if entry["bl_value"] == value:
                return entry
        entry_id, _, ts = self._new_id()
        entry = {
            "id": entry_id,
            "bl_value": value,
            "is_domain": "@" not in value,
            "organization_id": self.workspace["id"],
            "timestamp_created": ts,
        }
        self.block_list[entry_id] = entry
        return entry

    def delete_block_list_entry(self, entry_id: str) -> dict[str, Any]:
        try:
            return self.block_list.pop(entry_id)
        except KeyError:
            raise NotFound(f"Block list entry {entry_id} not found")
