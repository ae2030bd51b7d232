"""What a customer does in Salesbrain that Instantly must carry out: send a reply, set interest.

Registered from `InstantlyConfig.ready()` as `messaging.replies`' sender and
`campaigns.interest`' pusher, so those layers act without importing this one. Each action uses
the campaign's own workspace connection, makes one attempt (a person is waiting, and a reply
must never go out twice: no retry of an ambiguous answer), and turns every Instantly failure
into a sentence the customer can act on.
"""

from __future__ import annotations

from accounts.tenancy import staff_scope
from campaigns import interest
from campaigns.interest import InterestNotPushed
from campaigns.models import Campaign, InterestStatus, Lead, LeadLabel
from instantly.codes import INTEREST_STATUS
from instantly.connections import client_for
from instantly.errors import (
    InstantlyAuthenticationError,
    InstantlyConnectionError,
    InstantlyError,
    InstantlyMissingScopeError,
    InstantlyNotFoundError,
    InstantlyPaymentRequiredError,
    InstantlyRateLimitedError,
    InstantlyServerError,
    InstantlyValidationError,
)
from instantly.models import ProviderConnection
from messaging import replies
from messaging.models import Message
from messaging.replies import ReplyFailed
from salesbrain.parsing import as_int

# Interest status -> Instantly's `lt_interest_status` code (the inverse of codes.INTEREST_STATUS).
INTEREST_CODES: dict[str, int | None] = {status: code for code, status in INTEREST_STATUS.items()}
INTEREST_CODES[""] = None  # back to plain "Lead"

# Words in Instantly's 400/404 messages that mean the sending mailbox is the problem.
_MAILBOX_WORDS = ("eaccount", "email account", "account not found", "disconnected", "mailbox")


def failure_reason(exc: InstantlyError) -> str:
    """One plain sentence per failure class: quota, auth, mailbox, rate limit, outage."""
    server_words = f" Instantly said: {exc.message}" if exc.message else ""
    text = (exc.message or "").lower()
    if isinstance(exc, InstantlyPaymentRequiredError):
        return "Quota: the Instantly workspace has no active plan or has used up its quota."
    if isinstance(exc, InstantlyAuthenticationError | InstantlyMissingScopeError):
        return (
            "Authorisation: Instantly refused Salesbrain's API key for this workspace; "
            "ask the agency to renew the connection."
        )
    if isinstance(exc, InstantlyRateLimitedError):
        return "Rate limited: Instantly is busy with this workspace; try again in a minute."
    if isinstance(exc, InstantlyValidationError | InstantlyNotFoundError) and any(
        word in text for word in _MAILBOX_WORDS
    ):
        return (
            "Mailbox disconnected: the sending mailbox is not connected in Instantly; "
            "reconnect it there, then send again." + server_words
        )
    if isinstance(exc, InstantlyServerError | InstantlyConnectionError):
        return (
            "Instantly did not answer clearly, so the outcome is unknown: check the "
            "conversation in Instantly before sending again."
        )
    return "Instantly refused the request." + server_words


def _connection_of(campaign_id) -> ProviderConnection:
    with staff_scope():
        connection_id = (
            Campaign.objects.unscoped().values_list("connection_id", flat=True).get(pk=campaign_id)
        )
        return ProviderConnection.objects.unscoped().get(pk=connection_id)


def send_reply(message: Message, reply_to: Message) -> str:
    """Send `message` through `POST /api/v2/emails/reply`; Instantly's email id of it."""
    if not message.campaign_id or not reply_to.instantly_email_id:
        raise ReplyFailed("This conversation is not linked to an Instantly email to answer.")
    connection = _connection_of(message.campaign_id)
    if connection.status == ProviderConnection.Status.DISABLED:
        raise ReplyFailed("The Instantly connection for this campaign is switched off.")
    try:
        with client_for(connection, max_attempts=1) as client:
            sent = client.reply_to_email(
                reply_to.instantly_email_id,
                eaccount=message.from_email,
                subject=message.subject,
                text=message.body_text,
                html=message.body_html,
            )
    except InstantlyError as exc:
        raise ReplyFailed(failure_reason(exc)) from exc
    return sent.id if sent is not None and sent.id else ""


def push_interest(lead: Lead, status: str, label: str) -> None:
    """Set the lead's interest in Instantly (`POST /api/v2/leads/update-interest-status`)."""
    value = INTEREST_CODES.get(status, "unknown")
    if status == InterestStatus.CUSTOM:
        value = _custom_label_value(lead, label)
    if value == "unknown":
        raise InterestNotPushed(f"Instantly has no interest status for {status!r}.")
    with staff_scope():
        contact_email = (
            Lead.objects.unscoped().values_list("contact__email", flat=True).get(pk=lead.pk)
        )
        campaign_instantly_id = (
            Campaign.objects.unscoped()
            .values_list("instantly_id", flat=True)
            .get(pk=lead.campaign_id)
        )
    connection = _connection_of(lead.campaign_id)
    try:
        with client_for(connection, max_attempts=1) as client:
            client.update_lead_interest(contact_email, value, campaign_instantly_id)
    except InstantlyError as exc:
        raise InterestNotPushed(failure_reason(exc)) from exc


def _custom_label_value(lead: Lead, label: str) -> int | str:
    """A custom label's value: the `interest_status` GET /lead-labels gave it for the lead's
    workspace, else as Instantly sent it on a lead that carries the label."""
    with staff_scope():
        synced = (
            LeadLabel.objects.unscoped()
            .filter(
                connection_id=Campaign.objects.unscoped()
                .filter(pk=lead.campaign_id)
                .values("connection_id")[:1],
                label__iexact=label.strip(),
                interest_value__isnull=False,
                vanished_at__isnull=True,
            )
            .values_list("interest_value", flat=True)
            .first()
        )
        if synced is not None:
            return synced
        raws = (
            Lead.objects.unscoped()
            .filter(
                organization_id=lead.organization_id,
                interest_status=InterestStatus.CUSTOM,
                interest_label=label,
            )
            .values_list("raw", flat=True)[:20]
        )
        for raw in raws:
            value = as_int((raw or {}).get("lt_interest_status"))
            if value is not None:
                return value
    raise InterestNotPushed(
        f"Instantly's value for the label {label!r} is not known yet: set it once in Instantly."
    )


def register() -> None:
    replies.register_sender(send_reply)
    interest.register_pusher(push_interest)
