"""A mailbox's daily figures as the viewer may see them.

Staff see the whole mailbox (`EmailAccountDailyStat`, synced from Instantly and counted from
webhooks). A customer sees a mailbox of its own whole too, but of a mailbox it shares with
other customers (the agency's pool) only the sends of its own campaigns
(`MailboxCampaignDailyStat`): another customer's volume is not its business. Row-level security
agrees: a customer cannot read a shared mailbox's whole-mailbox rows at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Sum

from .models import EmailAccount, EmailAccountDailyStat, MailboxCampaignDailyStat

COUNTERS = ("sent", "bounced", "replied")


def mailbox_days(
    mailboxes: Iterable[EmailAccount],
    start: dt.date,
    end: dt.date,
    *,
    organization_id: Any,
) -> dict[int, dict[dt.date, dict[str, int]]]:
    """mailbox id -> day -> {"sent", "bounced", "replied"} for days with figures.

    `organization_id` is the customer looking, None for staff (the whole mailbox).
    """
    mailboxes = list(mailboxes)
    whole = [
        m.pk for m in mailboxes if organization_id is None or m.organization_id == organization_id
    ]
    partial = [m.pk for m in mailboxes if m.pk not in set(whole)]
    days: dict[int, dict[dt.date, dict[str, int]]] = defaultdict(dict)
    rows = EmailAccountDailyStat.objects.filter(
        email_account_id__in=whole, date__gte=start, date__lte=end
    ).values("email_account_id", "date", *COUNTERS)
    for row in rows:
        days[row["email_account_id"]][row["date"]] = {name: row[name] for name in COUNTERS}
    if partial:
        own = (
            MailboxCampaignDailyStat.objects.filter(
                organization_id=organization_id,
                email_account_id__in=partial,
                date__gte=start,
                date__lte=end,
            )
            .values("email_account_id", "date")
            .annotate(**{name: Sum(name) for name in COUNTERS})
            .order_by()
        )
        for row in own:
            days[row["email_account_id"]][row["date"]] = {name: row[name] for name in COUNTERS}
    return days
