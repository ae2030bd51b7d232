"""Staff assign a shared-workspace campaign to a customer (or take it back): `assign_campaign`.

A campaign's rows must all live in one organization, or row-level security would show the
customer a campaign without its leads, or its leads in another customer's inbox. So assigning
moves `organization_id` on the campaign and on everything hanging off it, and re-homes the
people involved: each contact is found or created in the new organization (contacts are unique
per organization and email) and the campaign's leads, threads, messages and activities are
pointed at it. A contact left with nothing pointing at it in the old organization is removed, so
the old owner keeps no trace of people who were only in this campaign.

One transaction; running it again with the same organization changes nothing.

Rows of higher layers (threads and messages in `messaging`) and the rule that a customer's own
workspace cannot be reassigned (`instantly` knows workspaces) are registered from above with
`register_dependent` and `register_check`, as django-anymail's core never imports a provider:
this module imports nothing above `campaigns`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.db.models import Case, Q, QuerySet, Value, When

from accounts.models import Organization
from accounts.tenancy import staff_scope
from campaigns.models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStepStat,
    Contact,
    Lead,
    MailboxCampaignDailyStat,
)
from salesbrain.bulk import chunks

CONTACT_BATCH = 500


@dataclasses.dataclass(frozen=True)
class Dependent:
    """Rows whose organization follows their campaign's.

    `rows(campaign)` selects them (unscoped); `model` has a `contact_id` column when
    `has_contact`, and those rows are re-pointed at the new organization's contacts."""

    label: str
    model: type[models.Model]
    rows: Callable[[Campaign], QuerySet]
    has_contact: bool = False


_DEPENDENTS: list[Dependent] = []
_CHECKS: list[Callable[[Campaign, Any], None]] = []


def register_dependent(dependent: Dependent) -> None:
    """Make assignment move `dependent`'s rows too (called from an app's `ready()`)."""
    if all(d.label != dependent.label for d in _DEPENDENTS):
        _DEPENDENTS.append(dependent)


def register_check(check: Callable[[Campaign, Any], None]) -> None:
    """`check(campaign, organization_id)` raises ValueError to refuse an assignment."""
    if check not in _CHECKS:
        _CHECKS.append(check)


@dataclasses.dataclass
class AssignmentResult:
    """How many rows moved to the new organization, per kind (0 everywhere = nothing to do)."""

    organization_id: Any
    moved: dict[str, int] = dataclasses.field(default_factory=dict)
    contacts_created: int = 0
    contacts_removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(sum(self.moved.values()) or self.contacts_created or self.contacts_removed)


def assign_campaign(campaign: Campaign, organization: Organization | None) -> AssignmentResult:
    """Give `campaign` and all its rows to `organization` (None = back to the shared pool).

    Staff-only server code: runs in `staff_scope()` and locks the campaign row, so a
    concurrent sync or a second assignment waits instead of interleaving.
    """
    org_id = organization.pk if organization is not None else None
    result = AssignmentResult(organization_id=org_id)
    with staff_scope():
        locked = Campaign.objects.unscoped().select_for_update().get(pk=campaign.pk)
        for check in _CHECKS:
            check(locked, org_id)
        contacts = _rehome_contacts(locked, org_id, result)
        for dependent in _DEPENDENTS:
            # exclude() spells "IS DISTINCT FROM" correctly for NULL organizations.
            result.moved[dependent.label] = (
                dependent.rows(locked)
                .exclude(organization_id=org_id)
                .update(organization_id=org_id)
            )
        result.contacts_removed = _remove_orphans(contacts)
        moved_campaign = locked.organization_id != org_id
        if moved_campaign:
            locked.organization_id = org_id
            locked.save(update_fields=["organization", "updated_at"])
        result.moved["campaign"] = int(moved_campaign)
    campaign.organization_id = org_id
    return result


def _activities(campaign: Campaign) -> QuerySet:
    # A subquery, not a join: see messaging.assignment (an UPDATE over a join plans badly).
    leads = Lead.objects.unscoped().filter(campaign=campaign).values("id")
    return Activity.objects.unscoped().filter(Q(campaign=campaign) | Q(lead_id__in=leads))


def _unscoped(model: type[models.Model]) -> Callable[[Campaign], QuerySet]:
    return lambda campaign: model.objects.unscoped().filter(campaign=campaign)


for _dependent in (
    Dependent("senders", CampaignSender, _unscoped(CampaignSender)),
    Dependent("leads", Lead, _unscoped(Lead), has_contact=True),
    Dependent("daily_stats", CampaignDailyStat, _unscoped(CampaignDailyStat)),
    Dependent("step_stats", CampaignStepStat, _unscoped(CampaignStepStat)),
    Dependent("mailbox_stats", MailboxCampaignDailyStat, _unscoped(MailboxCampaignDailyStat)),
    Dependent("activities", Activity, _activities, has_contact=True),
):
    register_dependent(_dependent)


def _with_contacts(campaign: Campaign) -> list[QuerySet]:
    """The campaign's rows that point at a contact."""
    return [d.rows(campaign) for d in _DEPENDENTS if d.has_contact]


def _rehome_contacts(campaign: Campaign, org_id: Any, result: AssignmentResult) -> list[int]:
    """Point the campaign's rows at contacts of `org_id`, creating those missing.

    Returns the ids of the contacts they pointed at before (candidates for removal).
    """
    used: set[int] = set()
    for queryset in _with_contacts(campaign):
        used.update(
            queryset.exclude(contact_id=None).values_list("contact_id", flat=True).distinct()
        )
    old = list(Contact.objects.unscoped().filter(pk__in=used).exclude(organization_id=org_id))
    if not old:
        return []
    in_org = Contact.objects.unscoped().filter(organization_id=org_id)  # None: IS NULL
    emails = {contact.email for contact in old}
    target = {c.email: c for c in in_org.filter(email__in=emails)}
    missing = {}
    for contact in old:
        if contact.email not in target and contact.email not in missing:
            missing[contact.email] = Contact(
                organization_id=org_id,
                email=contact.email,
                first_name=contact.first_name,
                last_name=contact.last_name,
                company_name=contact.company_name,
                custom_variables=contact.custom_variables,
                last_activity_at=contact.last_activity_at,
            )
    if missing:
        # ignore_conflicts: a webhook may create the same contact meanwhile; re-read below.
        Contact.objects.unscoped().bulk_create(missing.values(), ignore_conflicts=True)
        target = {c.email: c for c in in_org.filter(email__in=emails)}
        result.contacts_created = len(missing)
    _fill_blanks(old, target)
    mapping = [(contact.pk, target[contact.email].pk) for contact in old]
    for queryset in _with_contacts(campaign):
        for chunk in chunks(mapping, CONTACT_BATCH):
            queryset.filter(contact_id__in=[old_id for old_id, _ in chunk]).update(
                contact_id=Case(*(When(contact_id=o, then=Value(n)) for o, n in chunk))
            )
    return [contact.pk for contact in old]


def _fill_blanks(old: Sequence[Contact], target: dict[str, Contact]) -> None:
    """An existing contact in the new organization keeps its own details; blanks are filled
    from the moved one, and the latest activity wins."""
    changed = {}
    for contact in old:
        new = target[contact.email]
        for name in ("first_name", "last_name", "company_name"):
            if not getattr(new, name) and getattr(contact, name):
                setattr(new, name, getattr(contact, name))
                changed[new.pk] = new
        if contact.last_activity_at and (
            new.last_activity_at is None or contact.last_activity_at > new.last_activity_at
        ):
            new.last_activity_at = contact.last_activity_at
            changed[new.pk] = new
    if changed:
        Contact.objects.unscoped().bulk_update(
            changed.values(), ["first_name", "last_name", "company_name", "last_activity_at"]
        )


def _remove_orphans(contact_ids: list[int]) -> int:
    """Delete the given contacts that nothing points at any more."""
    if not contact_ids:
        return 0
    referenced: set[int] = set()
    for model in {d.model for d in _DEPENDENTS if d.has_contact}:
        referenced.update(
            model.objects.unscoped()
            .filter(contact_id__in=contact_ids)
            .values_list("contact_id", flat=True)
            .distinct()
        )
    orphans = [pk for pk in contact_ids if pk not in referenced]
    if not orphans:
        return 0
    deleted, _ = Contact.objects.unscoped().filter(pk__in=orphans).delete()
    return deleted
