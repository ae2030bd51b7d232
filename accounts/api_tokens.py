"""Personal API tokens: many per user, each named, revocable, and stored only as a hash.

DRF's `authtoken` allows one token per user, so revoking the token of one script breaks all the
others. An `ApiToken` is shown once when created (`sb_<random>`); the database keeps its SHA-256
digest and a short prefix to recognise it in lists, so a leaked database dump leaks no usable key.

`authenticate_request_token` is shared by `ApiTokenAuthentication` (DRF) and the tenant middleware
(`accounts.tenant_resolution.request_user`): both must agree on who is asking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

TOKEN_PREFIX = "sb_"  # noqa: S105 - a marker, not a secret
KEYWORDS = (b"token", b"bearer")
# A token's `last_used_at` is written at most this often: not one UPDATE per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Where the middleware leaves its lookup so DRF does not repeat it in the same request.
_REQUEST_CACHE_ATTR = "_sb_api_token_auth"
_NOT_YET = object()


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def active_condition() -> models.Q:
    """Tokens that still authenticate: not revoked, not expired."""
    return models.Q(revoked_at__isnull=True) & (
        models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
    )


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active_condition())


class ApiToken(models.Model):
    """One personal API token. It acts as its user: same organization, same role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CRM sync'.")
    prefix = models.CharField(max_length=12, editable=False, help_text="First characters.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        app_label = "accounts"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:  # never the digest
        return f"<ApiToken {self.pk} {self.prefix}… user={self.user_id}>"

    @classmethod
    def issue(cls, user, name: str, expires_at=None) -> tuple[ApiToken, str]:
        """Create a token; the plain key is returned here and never again."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=key[:12], digest=token_digest(key), expires_at=expires_at
        )
        return token, key

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        """Idempotent: revoking twice keeps the first revocation time."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class InvalidTokenThrottle(SimpleRateThrottle):
    """Requests whose token header matches no active token, per client address.

    Authentication fails before DRF's throttles run, so guessing keys would otherwise cost an
    attacker nothing but a 401. Only failures count: a valid token from the same address works.
    The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["invalid_token"], read per request.
    """

    scope = "invalid_token"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _counted_failure(request, failure: exceptions.AuthenticationFailed) -> exceptions.APIException:
    """The failure to answer: itself, or 429 once the address has failed too often."""
    throttle = InvalidTokenThrottle()
    if throttle.rate is None or throttle.allow_request(request, None):
        return failure
    return exceptions.Throttled(wait=throttle.wait())


def _key_from_header(request) -> str | None:
    """The key of an `Authorization: Token <key>` (or `Bearer <key>`) header, else None.

    Raises AuthenticationFailed for a malformed header that names one of our keywords.
    """
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed("Invalid token header.", code="authentication_failed")
    try:
        return parts[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed("Invalid token header.", code="authentication_failed")


def _lookup(key: str):
    """(user, token) of an active key; from `auth_cache` when this process saw it lately."""
    from . import auth_cache

    digest = token_digest(key)
    token = auth_cache.cached_token(digest)
    if token is None:
        seen = auth_cache.generation()
        token = ApiToken.objects.active().select_related("user").filter(digest=digest).first()
        if token is not None and token.user.is_active:
            auth_cache.store_token(digest, token, seen)
            token = auth_cache.cached_token(digest) or token
    if token is None or not token.user.is_active:
        raise exceptions.AuthenticationFailed(
            "Invalid, expired or revoked token.", code="authentication_failed"
        )
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        auth_cache.touch_token(digest, now)
    return token.user, token


def authenticate_request_token(request):
    """(user, token) for the request's token header, None without one; raises if it is invalid.

    Caches the outcome on the Django request: the middleware resolves the tenant with it, then
    DRF authenticates the same request again without a second lookup.
    """
    django_request = getattr(request, "_request", request)
    cached = getattr(django_request, _REQUEST_CACHE_ATTR, _NOT_YET)
    if cached is not _NOT_YET:
        outcome = cached
    else:
        try:
            key = _key_from_header(django_request)
            outcome = None if key is None else _lookup(key)
        except exceptions.AuthenticationFailed as exc:
            outcome = _counted_failure(django_request, exc)
        setattr(django_request, _REQUEST_CACHE_ATTR, outcome)
    if isinstance(outcome, exceptions.APIException):
        raise outcome
    return outcome


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token sb_…` (or `Bearer sb_…`) with a personal `ApiToken`.

    Listed first in DEFAULT_AUTHENTICATION_CLASSES: its `WWW-Authenticate` header is what turns
    an anonymous request into a 401 (not a 403), and the middleware resolves tokens first too.
    """

    keyword = "Token"

    def authenticate(self, request):
        return authenticate_request_token(request)

    def authenticate_header(self, request) -> str:
        return self.keyword
