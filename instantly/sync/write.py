"""The sync's writer: one workspace's objects into the `campaigns` tables, compared first.

Every step loads what is stored for the connection, asks `values` what each row should hold and
hands both to `salesbrain.bulk.upsert`, which writes only the difference: a second run over the
same data writes nothing. Nothing is deleted: a campaign or mailbox no longer listed gets
`vanished_at` (cleared if it comes back); only sender links, which are derived, are removed.
Each step is one short staff-scoped transaction (`writing`): the sync crosses organizations and
writes the shared workspace's NULL-organization rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection as db_connection
from django.db import models
from django.utils import timezone

from accounts.tenancy import staff_scope
from campaigns.assignment import assign_campaign
from campaigns.models import (
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStepStat,
    EmailAccount,
    EmailAccountDailyStat,
    LeadLabel,
)
from instantly import schemas
from instantly.models import ProviderConnection
from salesbrain import bulk
from salesbrain.bulk import Counts

from .fetch import CampaignFigures
from .results import SyncResult
from .values import (
    ACCOUNT_DAILY_FIELDS,
    CAMPAIGN_DAILY_FIELDS,
    CAMPAIGN_STEP_FIELDS,
    account_values,
    campaign_values,
    figures,
    lead_label_values,
    step_key,
    steps_start_at_zero,
)

# Campaigns whose figures are written per transaction.
FIGURES_BATCH = 100


class WorkspaceMismatchError(RuntimeError):
    """The key now answers for another workspace than the one this connection mirrors."""


@contextmanager
def writing() -> Iterator[None]:
    """A staff-scoped transaction for one batch of sync writes, whose commit does not wait for
    the WAL flush (synchronous_commit off, this transaction only): a crash can lose at most the
    last batches, which the next sync writes again, and dozens of commits per sync stop
    costing seconds. Inside an outer transaction the setting lasts until that one ends."""
    with staff_scope():
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


class WorkspaceWriter:
    """Writes one workspace's objects for one connection, comparing before writing.

    Remembers, between steps, which rows exist for the connection (mailbox and campaign ids by
    their Instantly keys), so later steps link to them without querying again.
    """

    def __init__(self, connection: ProviderConnection, now: dt.datetime | None = None) -> None:
        self.connection = connection
        self.now = now or timezone.now()
        # Set on every row a sync changes: no bulk write stamps them by itself, and staff see
        # when a sync last changed a row.
        self.touch = {"updated_at": self.now, "synced_at": self.now}
        # Mailboxes of the connection: lower-cased email -> (pk, organization_id).
        self.mailboxes: dict[str, tuple[int, Any]] = {}
        # Campaigns listed in this run: Instantly id -> Campaign (pk, organization, analytics).
        self.campaigns: dict[str, Campaign] = {}

    @property
    def dedicated_organization_id(self):
        """The organization every row belongs to, for a customer's own workspace; else None."""
        return None if self.connection.is_shared else self.connection.organization_id

    # --- workspace -----------------------------------------------------------------------

    def save_workspace(self, workspace: schemas.Workspace, result: SyncResult) -> None:
        """Record the workspace id and name; refuse a key that now opens another workspace
        while rows of the old one exist (they would all be marked vanished)."""
        connection = self.connection
        name = (workspace.name or "")[:200]
        result.workspace_id, result.workspace_name = workspace.id, name
        with writing():
            if connection.workspace_id and connection.workspace_id != workspace.id:
                has_rows = (
                    Campaign.objects.unscoped().filter(connection_id=connection.pk).exists()
                    or EmailAccount.objects.unscoped().filter(connection_id=connection.pk).exists()
                )
                if has_rows:
                    raise WorkspaceMismatchError(
                        f"The API key of {connection.name!r} opens workspace {workspace.id} "
                        f"({name or 'unnamed'}), but this connection mirrors workspace "
                        f"{connection.workspace_id}. Use a key of that workspace, or create a "
                        "new connection for the other one."
                    )
            if (connection.workspace_id, connection.workspace_name) != (workspace.id, name):
                connection.workspace_id, connection.workspace_name = workspace.id, name
                ProviderConnection.objects.unscoped().filter(pk=connection.pk).update(
                    workspace_id=workspace.id, workspace_name=name, updated_at=self.now
                )

    # --- mailboxes -----------------------------------------------------------------------

    def save_accounts(self, accounts: Sequence[schemas.EmailAccount]) -> Counts:
        """Upsert every listed mailbox; mark the connection's unlisted ones vanished."""
        with writing():
            stored = {
                row["email"].lower(): row
                for row in EmailAccount.objects.unscoped()
                .filter(connection_id=self.connection.pk)
                .values()
            }
            wanted = {}
            for account in accounts:
                key = account.email.lower()
                row = stored.get(key)
                values = account_values(
                    account, row, now=self.now, organization_id=self.dedicated_organization_id
                )
                if row is None:
                    values = {**self._new_row(), "email": account.email, **values}
                wanted[key] = values
            counts = bulk.upsert(EmailAccount, stored, wanted, touch=self.touch)
            counts.vanished = self._mark_vanished(EmailAccount, stored, wanted)
            self.mailboxes = {
                key: (row["id"], row["organization_id"]) for key, row in stored.items()
            }
        return counts

    # --- campaigns -----------------------------------------------------------------------

    def save_campaigns(self, campaigns: Sequence[schemas.Campaign]) -> tuple[Counts, Counts]:
        """Upsert every listed campaign and its sender links; mark unlisted ones vanished.

        Returns (campaign counts, sender link counts). The organization of an existing campaign
        is never changed here: staff assignments survive every sync.
        """
        with writing():
            stored = {
                row["instantly_id"]: row
                for row in Campaign.objects.unscoped()
                .filter(connection_id=self.connection.pk)
                .values()
            }
            wanted = {}
            for campaign in campaigns:
                row = stored.get(campaign.id)
                values = campaign_values(campaign, row, now=self.now)
                if row is None:
                    values = {**self._new_row(), "instantly_id": campaign.id, **values}
                wanted[campaign.id] = values
            counts = bulk.upsert(Campaign, stored, wanted, touch=self.touch)
            counts.vanished = self._mark_vanished(Campaign, stored, wanted)
            # Later steps need only these columns: the payloads are not kept.
            self.campaigns = {
                iid: Campaign(
                    pk=stored[iid]["id"],
                    connection_id=self.connection.pk,
                    instantly_id=iid,
                    organization_id=stored[iid]["organization_id"],
                    analytics=stored[iid].get("analytics", {}),
                )
                for iid in wanted
            }
            del stored, wanted
            self._rehome_dedicated_campaigns()
            senders = self._save_senders(campaigns)
        return counts, senders

    def _rehome_dedicated_campaigns(self) -> None:
        """A dedicated workspace's campaigns belong to its organization, with every dependent
        row (e.g. placeholders a webhook created before the connection had one)."""
        org_id = self.dedicated_organization_id
        if org_id is None:
            return
        for campaign in self.campaigns.values():
            if campaign.organization_id != org_id:
                assign_campaign(campaign, self.connection.organization)

    def _save_senders(self, campaigns: Sequence[schemas.Campaign]) -> Counts:
        """Link each listed campaign to the mailboxes in its `email_list`; the link's
        organization follows the campaign. Addresses with no mailbox here are skipped; links
        no longer listed are removed."""
        wanted: dict[tuple[Any, int], dict[str, Any]] = {}
        for campaign in campaigns:
            row = self.campaigns[campaign.id]
            for email in campaign.email_list or []:
                mailbox = self.mailboxes.get(str(email).lower())
                if mailbox is not None:
                    wanted[(row.pk, mailbox[0])] = {
                        "campaign_id": row.pk,
                        "email_account_id": mailbox[0],
                        "organization_id": row.organization_id,
                    }
        stored = bulk.rows_by(
            CampaignSender.objects.unscoped().filter(
                campaign_id__in=[row.pk for row in self.campaigns.values()]
            ),
            ("campaign_id", "email_account_id"),
        )
        counts = bulk.upsert(CampaignSender, stored, wanted)
        stale = [row["id"] for key, row in stored.items() if key not in wanted]
        if stale:
            CampaignSender.objects.unscoped().filter(pk__in=stale).delete()
        counts.vanished = len(stale)
        return counts

    # --- analytics -----------------------------------------------------------------------

    def stored_totals(self) -> dict[str, dict[str, Any]]:
        """The analytics totals stored per campaign of the connection (Instantly id -> JSON)."""
        with staff_scope():
            return dict(
                Campaign.objects.unscoped()
                .filter(connection_id=self.connection.pk)
                .values_list("instantly_id", "analytics")
            )

    def record_totals(self, totals: dict[str, schemas.CampaignAnalytics], counts: Counts) -> None:
        """Count the listed campaigns whose totals moved, and clear the totals of those that
        have none any more (no totals row = never sent). Moved totals are written with their
        figures (`save_campaign_figures`)."""
        cleared = []
        for iid, campaign in self.campaigns.items():
            row = totals.get(iid)
            new = row.raw if row is not None else {}
            if new == campaign.analytics:
                counts.unchanged += 1
                continue
            counts.updated += 1
            if row is None:
                campaign.analytics = {}
                cleared.append(campaign)
        if cleared:
            with writing():
                self._write_analytics(cleared)

    def save_campaign_figures(
        self,
        batch: Sequence[CampaignFigures],
        totals: dict[str, schemas.CampaignAnalytics],
        result: SyncResult,
    ) -> None:
        """Write a batch of campaigns' daily and step rows, then their totals, in one
        transaction. Only the columns Instantly reports are set; the others (bounced,
        interested, ...) are the webhooks' to keep."""
        campaigns = [
            self.campaigns[f.instantly_id] for f in batch if f.instantly_id in self.campaigns
        ]
        campaign_pks = [c.pk for c in campaigns]
        daily_wanted: dict[tuple[Any, dt.date], dict[str, Any]] = {}
        step_wanted: dict[tuple[Any, int, int], dict[str, Any]] = {}
        for fetched in batch:
            campaign = self.campaigns.get(fetched.instantly_id)
            if campaign is None:
                continue
            owner = {"campaign_id": campaign.pk, "organization_id": campaign.organization_id}
            for day in fetched.daily:
                if day.date is not None:
                    values = figures(day, CAMPAIGN_DAILY_FIELDS)
                    daily_wanted[(campaign.pk, day.date)] = {**owner, "date": day.date, **values}
            zero_based = steps_start_at_zero(fetched.steps)
            for step in fetched.steps:
                key = step_key(step, zero_based_steps=zero_based)
                if key is not None:
                    values = figures(step, CAMPAIGN_STEP_FIELDS)
                    step_wanted[(campaign.pk, *key)] = {
                        **owner,
                        "step": key[0],
                        "variant": key[1],
                        **values,
                        "raw": step.raw,
                    }
        with writing():
            result.campaign_daily.add(
                self._upsert_stats(
                    CampaignDailyStat, ("campaign_id", "date"), daily_wanted, campaign_pks
                )
            )
            result.campaign_steps.add(
                self._upsert_stats(
                    CampaignStepStat, ("campaign_id", "step", "variant"), step_wanted, campaign_pks
                )
            )
            moved = []
            for campaign in campaigns:
                row = totals.get(campaign.instantly_id)
                new = row.raw if row is not None else {}
                if campaign.analytics != new:
                    campaign.analytics = new
                    moved.append(campaign)
            self._write_analytics(moved)
            self._write_overviews(
                {
                    self.campaigns[f.instantly_id].pk: f.overview.raw
                    for f in batch
                    if f.instantly_id in self.campaigns and f.overview is not None
                }
            )

    def save_account_daily(self, rows: Sequence[schemas.AccountDailyAnalytics]) -> Counts:
        """Write mailbox daily rows (one GET /accounts/analytics/daily answer)."""
        wanted: dict[tuple[int, dt.date], dict[str, Any]] = {}
        for row in rows:
            mailbox = self.mailboxes.get((row.email_account or "").lower())
            if mailbox is None or row.date is None:
                continue
            wanted[(mailbox[0], row.date)] = {
                "email_account_id": mailbox[0],
                "date": row.date,
                "organization_id": mailbox[1],
                **figures(row, ACCOUNT_DAILY_FIELDS),
                "raw": row.raw,
            }
        if not wanted:
            return Counts()
        with writing():
            stored = EmailAccountDailyStat.objects.unscoped().filter(
                email_account_id__in={key[0] for key in wanted},
                date__in={key[1] for key in wanted},
            )
            return bulk.upsert(
                EmailAccountDailyStat, bulk.rows_by(stored, ("email_account_id", "date")), wanted
            )

    # --- helpers -------------------------------------------------------------------------

    def _new_row(self) -> dict[str, Any]:
        """What a mailbox or campaign the sync creates starts with, beside Instantly's values."""
        return {
            "connection_id": self.connection.pk,
            "organization_id": self.dedicated_organization_id,
            "synced_at": self.now,
        }

    def _upsert_stats(
        self,
        model: type[models.Model],
        key_fields: tuple[str, ...],
        wanted: Mapping[tuple, dict[str, Any]],
        campaign_pks: Sequence[Any],
    ) -> Counts:
        """Figures rows of the batch's campaigns, compared with every stored row of theirs."""
        stored = model.objects.unscoped().filter(campaign_id__in=campaign_pks)
        return bulk.upsert(model, bulk.rows_by(stored, key_fields), wanted)

    def _write_overviews(self, overviews: Mapping[Any, dict[str, Any]]) -> None:
        """Store each campaign's GET /campaigns/analytics/overview answer as it came."""
        if overviews:
            bulk.update_rows(
                Campaign,
                [{"id": pk, "analytics_overview": raw} for pk, raw in overviews.items()],
                ("analytics_overview",),
            )

    # --- custom lead labels ----------------------------------------------------------------

    def save_lead_labels(self, labels: Sequence[schemas.LeadLabel]) -> Counts:
        """Upsert the workspace's custom lead labels with their meaning; a label no longer
        listed is marked vanished (a lead may still carry it)."""
        with writing():
            stored = {
                row["instantly_id"]: row
                for row in LeadLabel.objects.unscoped()
                .filter(connection_id=self.connection.pk)
                .values()
            }
            wanted = {}
            for label in labels:
                values = lead_label_values(label)
                if label.id not in stored:
                    values = {
                        "connection_id": self.connection.pk,
                        "organization_id": self.connection.organization_id,
                        "instantly_id": label.id,
                        **values,
                    }
                wanted[label.id] = values
            counts = bulk.upsert(LeadLabel, stored, wanted, touch={"updated_at": self.now})
            counts.vanished = self._mark_vanished(LeadLabel, stored, wanted)
        return counts

    def _write_analytics(self, campaigns: Sequence[Campaign]) -> None:
        bulk.update_rows(
            Campaign,
            [{"id": c.pk, "analytics": c.analytics, **self.touch} for c in campaigns],
            ("analytics", *self.touch),
        )

    def _mark_vanished(
        self,
        model: type[models.Model],
        stored: Mapping[Hashable, dict[str, Any]],
        listed: Mapping[Hashable, Any],
    ) -> int:
        """Stamp `vanished_at` on rows no longer listed upstream (kept, never deleted)."""
        gone = [
            row["id"]
            for key, row in stored.items()
            if key not in listed and row["vanished_at"] is None
        ]
        if not gone:
            return 0
        return (
            model.objects.unscoped()
            .filter(pk__in=gone)
            .update(vanished_at=self.now, updated_at=self.now)
        )
