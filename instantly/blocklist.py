"""Do-not-contact replies acted on in Instantly: the lead unsubscribed, the address blocked.

`messaging` categorises replies and sends `reply_categorised`; it never imports this layer.
The receiver here decides, per organization setting (`ReplySettings.block_do_not_contact`
and its minimum confidence; a person's correction counts as certain), whether to act. In the
processing transaction it marks the lead unsubscribed and writes a `BlocklistAction`; on commit
a task adds the address to the workspace's block list (`POST /api/v2/block-lists-entries`)
through the Instantly client. Staff see every action in the console and can undo it: the entry
is deleted and the lead gets its previous status back.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Lead, LeadStatus
from messaging import reply_categories as categorised
from messaging.categorise.categories import ReplyCategory
from messaging.scoring import store as scoring
from salesbrain.bulk import execute

from .connections import using_client
from .errors import InstantlyError, InstantlyNotFoundError
from .models import BlocklistAction, ProviderConnection

logger = logging.getLogger(__name__)


def on_reply_categorised(sender, replies: list, **kwargs) -> None:
    """Act on do-not-contact replies sure enough for their organization's settings."""
    wanted = [r for r in replies if r.category == ReplyCategory.DO_NOT_CONTACT and r.lead_id]
    if not wanted:
        return
    settings = categorised.settings_for({r.organization_id for r in wanted})
    connections = dict(
        Campaign.objects.unscoped()
        .filter(pk__in={r.campaign_id for r in wanted})
        .values_list("pk", "connection_id")
    )
    now = timezone.now()
    created = []
    for reply in wanted:
        rules = settings[reply.organization_id]
        sure = reply.by_person or reply.confidence >= rules.block_min_confidence
        connection_id = connections.get(reply.campaign_id)
        if not (rules.block_do_not_contact and sure and connection_id and reply.email):
            continue
        if BlocklistAction.objects.unscoped().filter(
            connection_id=connection_id, email__iexact=reply.email,
            status__in=[BlocklistAction.Status.PENDING, BlocklistAction.Status.BLOCKED],
        ).exists():  # fmt: skip
            continue  # already blocked (another reply, a reprocessed event)
        lead = Lead.objects.unscoped().filter(pk=reply.lead_id).only("status").first()
        if lead is None:
            continue
        action = BlocklistAction.objects.unscoped().create(
            organization_id=reply.organization_id, connection_id=connection_id,
            lead_id=reply.lead_id, message_id=reply.message_id, email=reply.email.lower(),
            confidence=reply.confidence, by_person=reply.by_person,
            previous_lead_status=lead.status, created_at=now,
        )  # fmt: skip
        execute(
            "UPDATE campaigns_lead SET status = %b, status_at = GREATEST(status_at, %b) "
            "WHERE id = %b",
            [LeadStatus.UNSUBSCRIBED.value, now, reply.lead_id],
        )
        created.append(action.pk)
    # (The lead's score is already 0: the do-not-contact flag zeroes it.)
    if created:
        transaction.on_commit(lambda: _enqueue(created))


def _enqueue(action_ids: list[int]) -> None:
    # Imported here: `tasks` imports this module (the task calls `push`).
    from .tasks import push_blocklist_actions

    try:
        push_blocklist_actions.delay(action_ids)
    except Exception:  # noqa: BLE001 - a dead broker: the actions stay pending, staff retry
        logger.warning("could not enqueue block-list actions %s; they stay pending", action_ids)


def push(action: BlocklistAction, client=None) -> BlocklistAction:
    """Add the action's address to its workspace's block list (call in a staff scope)."""
    connection = ProviderConnection.objects.unscoped().get(pk=action.connection_id)
    try:
        with using_client(connection, client) as api:
            entry = api.create_block_list_entry(action.email)
    except InstantlyError as exc:
        action.status, action.error = BlocklistAction.Status.FAILED, str(exc)[:2000]
        action.save(update_fields=["status", "error"])
        logger.warning("block-list entry for action %s failed: %s", action.pk, exc)
        return action
    action.status, action.error = BlocklistAction.Status.BLOCKED, ""
    action.instantly_entry_id, action.blocked_at = entry.id[:64], timezone.now()
    action.save(update_fields=["status", "error", "instantly_entry_id", "blocked_at"])
    return action


def undo(action: BlocklistAction, user=None, client=None) -> BlocklistAction:
    """Remove the block-list entry and give the lead its previous status back (staff scope).
    The lead's do-not-contact flag is cleared: staff judged the reply otherwise."""
    if action.status == BlocklistAction.Status.UNDONE:
        return action
    if action.instantly_entry_id:
        connection = ProviderConnection.objects.unscoped().get(pk=action.connection_id)
        try:
            with using_client(connection, client) as api:
                api.delete_block_list_entry(action.instantly_entry_id)
        except InstantlyNotFoundError:
            pass  # someone removed it in Instantly already
    now = timezone.now()
    with transaction.atomic():
        if action.lead_id:
            execute(
                "UPDATE campaigns_lead SET status = %b, status_at = %b WHERE id = %b "
                "AND status = %b",
                [action.previous_lead_status or LeadStatus.ACTIVE.value, now, action.lead_id,
                 LeadStatus.UNSUBSCRIBED.value],
            )  # fmt: skip
            execute("UPDATE campaigns_lead SET do_not_contact = false WHERE id = %b",
                    [action.lead_id])  # fmt: skip
            scoring.apply_events([], now, refresh=[action.lead_id])
        action.status, action.undone_at = BlocklistAction.Status.UNDONE, now
        action.undone_by = user if user is not None and user.is_authenticated else None
        action.save(update_fields=["status", "undone_at", "undone_by"])
    return action


def register() -> None:
    """Listen to the messaging layer's categorised replies (called from the app's ready())."""
    categorised.reply_categorised.connect(on_reply_categorised, dispatch_uid="instantly_blocklist")
