"""Staff assign a shared-workspace campaign to a customer (or take it back): `assign_campaign`.

A campaign's rows must all live in one organization, or row-level security would show the
customer a campaign without its leads, or its leads in another customer's inbox. So assigning
moves `organization_id` on the campaign and on everything hanging off it, and re-homes the
people involved: each contact is found or created in the new organization (contacts are unique
per organization and email) and the campaign's leads, threads, messages and activities are
pointed at it. A contact left with nothing pointing at it in the old organization is removed, so
the old owner keeps no trace of people who were only in this campaign.

One transaction; running it again with the same organization changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When

from accounts.models import Notification, Organization
from accounts.tenancy import staff_scope
from campaigns.models import (
    Activity,
    Campaign,
    CampaignDailyStat,
    CampaignSender,
    CampaignStepStat,
    Contact,
    Lead,
)
from messaging.models import Message, Thread

CONTACT_BATCH = 500


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
        owner_id = locked.connection.organization_id
        if owner_id is not None and owner_id != org_id:
            # A customer's dedicated workspace belongs to that customer alone.
            raise ValueError(
                f"campaign {locked} is in a customer's own workspace; it cannot be reassigned"
            )
        contacts = _rehome_contacts(locked, org_id, result)
        for label, queryset in _dependents(locked):
            # exclude() spells "IS DISTINCT FROM" correctly for NULL organizations.
            result.moved[label] = queryset.exclude(organization_id=org_id).update(
                organization_id=org_id
            )
        result.contacts_removed = _remove_orphans(contacts)
        moved_campaign = locked.organization_id != org_id
        if moved_campaign:
            locked.organization_id = org_id
            locked.save(update_fields=["organization", "updated_at"])
        result.moved["campaign"] = int(moved_campaign)
    campaign.organization_id = org_id
    return result


def _dependents(campaign: Campaign) -> Iterator[tuple[str, QuerySet]]:
    """Every row whose organization follows the campaign's."""
    yield "senders", CampaignSender.objects.unscoped().filter(campaign=campaign)
    yield "leads", Lead.objects.unscoped().filter(campaign=campaign)
    yield "daily_stats", CampaignDailyStat.objects.unscoped().filter(campaign=campaign)
    yield "step_stats", CampaignStepStat.objects.unscoped().filter(campaign=campaign)
    yield "activities", _activities(campaign)
    yield "threads", Thread.objects.unscoped().filter(campaign=campaign)
    yield "messages", _messages(campaign)
    yield (
        "notifications",
        Notification.objects.unscoped().filter(Q(campaign=campaign) | Q(lead__campaign=campaign)),
    )


def _activities(campaign: Campaign) -> QuerySet:
    return Activity.objects.unscoped().filter(Q(campaign=campaign) | Q(lead__campaign=campaign))


def _messages(campaign: Campaign) -> QuerySet:
    return Message.objects.unscoped().filter(Q(campaign=campaign) | Q(thread__campaign=campaign))


def _with_contacts(campaign: Campaign) -> list[QuerySet]:
    """The campaign's rows that point at a contact."""
    return [
        Lead.objects.unscoped().filter(campaign=campaign),
        Thread.objects.unscoped().filter(campaign=campaign),
        _messages(campaign),
        _activities(campaign),
    ]


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
        for chunk in _chunks(mapping, CONTACT_BATCH):
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
    for model in (Lead, Thread, Message, Activity):
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


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
