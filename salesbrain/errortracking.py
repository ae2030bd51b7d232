"""Error tracking with Sentry, when `SENTRY_DSN` is set, and what it must never receive.

Every event passes `Scrubber.event` (`before_send`) before it leaves: API keys, webhook
secrets, passwords, tokens, session ids, cookies, `Authorization` and every other request header
not on a short list of harmless ones, request bodies (a webhook body is an email) and email
bodies wherever they appear, and the literal values of the secrets in the settings. Local
variables of stack frames are not sent at all: they hold keys and email bodies under names no
rule can predict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from salesbrain import logs

FILTERED = "[Filtered]"

# A key whose value is secret or is an email's content (Instantly's `reply_text`, `email_html`,
# our `body_text`, ...), whatever dict it appears in.
SENSITIVE_KEY = re.compile(
    r"api[-_]?key|secret|passw|token|auth|cookie|session|csrf|signature|credential|dsn"
    r"|private|body|_text$|_html$|^text$|^html$|snippet",
    re.IGNORECASE,
)
# Secrets recognisable by their shape, wherever they appear in a string.
AUTH_SCHEME = re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
URL_PASSWORD = re.compile(r"(?i)\b(postgres(?:ql)?|redis|rediss|amqp)://([^:/@\s]+):[^@\s]+@")
OPAQUE_SECRETS = (
    re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"),  # a Fernet token: an encrypted secret
    re.compile(r"\bsb_[A-Za-z0-9_-]{20,}"),  # one of our API tokens (accounts.api_tokens)
)
# `key: 'value'` / `key=value` inside a string (an exception message with a dict's repr, a
# URL's query): the value goes when the key is sensitive.
KEY_VALUE_IN_TEXT = re.compile(
    r"""(?P<key>[A-Za-z_][\w-]*)(?P<kq>["']?)(?P<sep>\s*[:=]\s*)"""
    r"""(?:(?P<q>["'])(?P<quoted>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<bare>[^\s&,;'"}\])]+))"""
)
SAFE_HEADERS = frozenset(
    {"accept", "content-length", "content-type", "host", "user-agent", "x-request-id"}
)


def _key_value_replacement(match: re.Match) -> str:
    if not SENSITIVE_KEY.search(match.group("key")):
        return match.group(0)
    quote = match.group("q") or ""
    return f"{match.group('key')}{match.group('kq')}{match.group('sep')}{quote}{FILTERED}{quote}"


class Scrubber:
    """Removes secrets from a Sentry event; `literals` are secret values to find anywhere."""

    def __init__(self, literals: Iterable[str] = ()) -> None:
        # Short values would blank out ordinary words; real secrets are long.
        self.literals = sorted({s for s in literals if s and len(s) >= 8}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for literal in self.literals:
            if literal in value:
                value = value.replace(literal, FILTERED)
        value = AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {FILTERED}", value)
        value = URL_PASSWORD.sub(lambda m: f"{m.group(1)}://{m.group(2)}:{FILTERED}@", value)
        for shape in OPAQUE_SECRETS:
            value = shape.sub(FILTERED, value)
        return KEY_VALUE_IN_TEXT.sub(_key_value_replacement, value)

    def value(self, value: Any, key: str = "") -> Any:
        if key and SENSITIVE_KEY.search(key):
            return FILTERED if value not in (None, "", [], {}) else value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        request = dict(request)
        request.pop("data", None)
        request.pop("cookies", None)
        headers = request.get("headers") or {}
        request["headers"] = {
            name: (self.text(v) if name.lower() in SAFE_HEADERS else FILTERED)
            for name, v in headers.items()
        }
        request.pop("env", None)  # REMOTE_ADDR and server names: not needed to fix a bug
        return self.value(request)

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        event = dict(event)
        if isinstance(event.get("request"), dict):
            event["request"] = self.request(event["request"])
        for frame in _frames(event):
            frame.pop("vars", None)
        event.pop("user", None)  # ids are in the tags; no email or address leaves
        return {k: (v if k == "request" else self.value(v, k)) for k, v in event.items()}


def _frames(event: dict[str, Any]) -> Iterable[dict[str, Any]]:
    containers = [event.get("exception"), event.get("threads")]
    for container in containers:
        for item in (container or {}).get("values", []) or []:
            yield from (item.get("stacktrace") or {}).get("frames", []) or []


def scrub_literals(settings_module: Any) -> list[str]:
    """The secret values in the settings, to be found and removed anywhere in an event."""
    names = (
        "SECRET_KEY",
        "APP_DB_PASSWORD",
        "INSTANTLY_API_KEY",
        "INSTANTLY_API_KEY_V1",
        "METRICS_TOKEN",
        "BACKUP_S3_SECRET_ACCESS_KEY",
    )
    values = [getattr(settings_module, name, "") for name in names]
    values += list(getattr(settings_module, "SECRETS_ENCRYPTION_KEYS", []))
    values.append((getattr(settings_module, "DATABASE_OWNER", {}) or {}).get("PASSWORD", ""))
    return [v for v in values if isinstance(v, str)]


def make_before_send(scrubber: Scrubber):
    def before_send(event, hint):
        # The log context's ids (request, user, organization, task, event, sync) as tags: the
        # way from a Sentry issue to the log lines around it. Runs where the error happened.
        ids = {key: str(value) for key, value in logs.current_context().items()}
        event["tags"] = {**ids, **(event.get("tags") or {})}
        return scrubber.event(event)

    return before_send


def init_sentry(
    *,
    dsn: str,
    environment: str,
    release: str,
    traces_sample_rate: float,
    literals: Iterable[str],
    transport: Any = None,
) -> None:
    """Start the SDK with the Django, Celery and logging integrations (ERROR lines become
    events, INFO and up breadcrumbs), personal data off, every event scrubbed."""
    import logging

    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    scrubber = Scrubber(literals)
    before_send = make_before_send(scrubber)
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        # What the integrations collect at all; `before_send` scrubs what is left.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(SAFE_HEADERS)}},
            "http_bodies": [],
            "url_query_params": {"mode": "denylist"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        include_local_variables=False,
        max_request_body_size="never",
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        before_send=before_send,
        before_send_transaction=before_send,
        **options,
    )
