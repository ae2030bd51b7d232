"""The workspace record and its sending mailboxes (Instantly "accounts").

Coverage order: mailbox number i < len(values) gets values[i], so even a small workspace shows
every status, warmup status and provider code; later ones draw from the weights.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from .common import ANCHOR, FIRST_NAMES, LAST_NAMES, Clock, cover, uuid7

ACCOUNT_STATUSES = (1, 2, -1, -2, -3)
ACCOUNT_STATUS_WEIGHTS = (82, 6, 5, 4, 3)
WARMUP_STATUSES = (1, 0, -1, -2, -3)
WARMUP_STATUS_WEIGHTS = (75, 15, 3, 4, 3)
PROVIDER_CODES = (2, 3, 1, 4)
PROVIDER_CODE_WEIGHTS = (45, 35, 15, 5)
SENDER_DOMAINS = tuple(
    (
        "salesbrain-mail.example getsalesbrain.example trysalesbrain.example "
        "salesbrainhq.example meetsalesbrain.example"
    ).split()
)

ACCOUNT_ERRORS = {
    -1: {
        "code": "EAUTH",
        "command": "AUTH PLAIN",
        "response": "535-5.7.8 Username and Password not accepted.",
        "e_message": "Invalid login: 535-5.7.8 Username and Password not accepted.",
        "responseCode": 535,
    },
    -2: {
        "code": "EENVELOPE",
        "command": "RCPT TO",
        "response": "452 4.2.2 The email account that you tried to reach is over quota.",
        "e_message": "Soft bounce rate too high: sending paused for this account.",
        "responseCode": 452,
    },
    -3: {
        "code": "EMESSAGE",
        "command": "DATA",
        "response": "550 5.4.5 Daily user sending quota exceeded.",
        "e_message": "Message failed: 550 5.4.5 Daily user sending quota exceeded.",
        "responseCode": 550,
    },
}


def make_workspace(rng: random.Random, clock: Clock) -> dict[str, Any]:
    created = ANCHOR - timedelta(days=500)
    return {
        "id": uuid7(rng, created),
        "name": "Salesbrain Agency (sandbox)",
        "owner": uuid7(rng, created),
        "plan_id": "pid_hg_v1",
        "plan_id_leadfinder": None,
        "plan_id_verification": None,
        "add_on_resell": False,
        "org_logo_url": None,
        "org_client_domain": "app.salesbrain.example",
        "default_opportunity_value": 1000,
        "timestamp_created": clock.ts(created),
        "timestamp_updated": clock.ts(ANCHOR - timedelta(days=3)),
    }


def make_account(
    rng: random.Random, index: int, workspace: dict[str, Any], clock: Clock
) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    domain = SENDER_DOMAINS[index % len(SENDER_DOMAINS)]
    # The index keeps addresses unique however many mailboxes are asked for.
    email = f"{first.lower()}.{last.lower()}{index // len(SENDER_DOMAINS) + 1}@{domain}"
    status = cover(rng, index, ACCOUNT_STATUSES, ACCOUNT_STATUS_WEIGHTS)
    warmup_status = cover(rng, index, WARMUP_STATUSES, WARMUP_STATUS_WEIGHTS)
    provider = cover(rng, index, PROVIDER_CODES, PROVIDER_CODE_WEIGHTS)
    created = ANCHOR - timedelta(days=rng.uniform(45, 400))
    account = {
        "email": email,
        "timestamp_created": clock.ts(created),
        "timestamp_updated": clock.ts(ANCHOR - timedelta(hours=rng.uniform(1, 72))),
        "first_name": first,
        "last_name": last,
        "organization": workspace["id"],
        "warmup_status": warmup_status,
        "provider_code": provider,
        "setup_pending": False,
        "is_managed_account": rng.random() < 0.2,
        "warmup": {
            "limit": rng.choice((10, 20, 30, 40)),
            "increment": rng.choice(("disabled", 1, 2)),
            "reply_rate": rng.choice((20, 30, 40)),
            "warmup_custom_ftag": "sbw",
            "advanced": {
                "warm_ctd": False,
                "open_rate": 0.95,
                "important_rate": 0.8,
                "read_emulation": True,
                "spam_save_rate": 0.02,
                "weekday_only": rng.random() < 0.5,
            },
        },
        "status": status,
        "daily_limit": rng.choice((20, 30, 40, 50)),
        "sending_gap": rng.choice((5, 10, 15)),
        "signature": f"{first} {last}",
        "tracking_domain_name": f"track.{domain}" if rng.random() < 0.5 else None,
        "tracking_domain_status": "active",
        "stat_warmup_score": rng.randint(0, 40) if warmup_status < 0 else rng.randint(70, 100),
        "timestamp_warmup_start": clock.ts(created + timedelta(days=1)),
        "timestamp_last_used": clock.ts(ANCHOR - timedelta(minutes=rng.uniform(5, 4000))),
    }
    if status in ACCOUNT_ERRORS:
        account["status_message"] = dict(ACCOUNT_ERRORS[status])
    return account
