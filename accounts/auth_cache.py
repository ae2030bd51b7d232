"""Who a request is, cached per process for a few seconds: token, memberships, staff groups.

Every authenticated request used to spend three queries before its tenant scope opened: the
token (with its user), the user's memberships, and the staff groups. They change rarely and are
read on every request, so this process keeps them for `API_AUTH_CACHE_SECONDS` (default 5):

- **At once in this process**: saving or deleting a token, membership, user, group or
  organization (and changing a user's groups) clears the cache, through the signals connected
  in `AccountsConfig.ready()`; a lookup that raced with such a change is not stored.
- **Within `API_AUTH_CACHE_SECONDS` in every other process** (other gunicorn workers): there is
  no cross-process message, on purpose. Asking Redis or PostgreSQL "did anything change?" on
  every request would put back a round trip, the very cost removed here. So a revoked token, a
  removed membership or a lowered role keeps working for at most those few seconds on another
  worker. Set it to 0 to turn the cache off.

An expired token is refused at once (the expiry is checked on every hit). Entries are copied
out, so one request changing its `request.user` never touches another's.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass

from django.conf import settings

_lock = threading.Lock()
_tokens: dict[str, tuple[float, object]] = {}
_principals: dict[int, tuple[float, Principal]] = {}
_generation = 0
MAX_ENTRIES = 10_000  # a bound on memory; past it the cache starts afresh


@dataclass(frozen=True)
class Principal:
    """What a user belongs to: memberships (with organizations), staff and admin flags."""

    memberships: tuple
    is_staff: bool
    is_admin: bool


def ttl() -> float:
    return float(getattr(settings, "API_AUTH_CACHE_SECONDS", 5))


def generation() -> int:
    """Read before a lookup; `store_*` drops its result if an invalidation came in between."""
    return _generation


def clear(*args, **kwargs) -> None:
    """Forget everything (a signal handler: any change to who may do what)."""
    global _generation
    with _lock:
        _generation += 1
        _tokens.clear()
        _principals.clear()


def _get(table: dict, key):
    entry = table.get(key)
    if entry is None:
        return None
    if entry[0] < time.monotonic():
        table.pop(key, None)
        return None
    return entry[1]


def _put(table: dict, key, value, seen_generation: int) -> None:
    seconds = ttl()
    if seconds <= 0:
        return
    with _lock:
        if seen_generation != _generation:
            return
        if len(table) >= MAX_ENTRIES:
            table.clear()
        table[key] = (time.monotonic() + seconds, value)


def cached_token(digest: str):
    """A copy of the cached active token (user loaded) of `digest`, or None."""
    token = _get(_tokens, digest)
    if token is None or not token.is_active:
        return None
    token = copy.copy(token)
    token.user = copy.copy(token.user)
    return token


def store_token(digest: str, token, seen_generation: int) -> None:
    _put(_tokens, digest, token, seen_generation)


def touch_token(digest: str, last_used_at) -> None:
    """Keep the cached copy's `last_used_at` current (it decides when to write it again)."""
    token = _get(_tokens, digest)
    if token is not None:
        token.last_used_at = last_used_at


def cached_principal(user_id: int) -> Principal | None:
    principal = _get(_principals, user_id)
    if principal is None:
        return None
    return Principal(
        memberships=tuple(copy.copy(m) for m in principal.memberships),
        is_staff=principal.is_staff,
        is_admin=principal.is_admin,
    )


def store_principal(user_id: int, principal: Principal, seen_generation: int) -> None:
    _put(_principals, user_id, principal, seen_generation)


def connect_invalidation() -> None:
    """Clear on every change to tokens, memberships, users, groups and organizations."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .api_tokens import ApiToken
    from .models import Membership, Organization

    user_model = get_user_model()
    for model in (ApiToken, Membership, Organization, user_model, Group):
        uid = f"sb_auth_cache_{model._meta.label_lower}"
        post_save.connect(clear, sender=model, dispatch_uid=f"{uid}_save", weak=False)
        post_delete.connect(clear, sender=model, dispatch_uid=f"{uid}_delete", weak=False)
    m2m_changed.connect(
        clear, sender=user_model.groups.through, dispatch_uid="sb_auth_cache_groups", weak=False
    )
