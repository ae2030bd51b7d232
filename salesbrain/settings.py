"""Salesbrain settings, read from the environment with django-environ.

Defaults are safe for development; a value that is set but malformed fails loudly at start-up
rather than being silently replaced. Every variable is documented in `.env.example`.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from salesbrain.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_flag(name: str, default: bool) -> bool:
    """A boolean setting where an empty value (`NAME=` in .env) means "the default", never
    False: a copied .env.example must not switch HTTPS off."""
    return default if env.str(name, default="") == "" else env.bool(name)


TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")
# Commands that only read and write text (no sessions, no secrets, no database): they run on
# a fresh clone without a .env, with the development placeholders below.
OFFLINE_COMMANDS = frozenset({"categorise_replies", "train_categoriser"})
OFFLINE = len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING or OFFLINE):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - DEBUG/tests only
# Production = neither development nor a test run: the HTTPS settings below default on.
PRODUCTION = not (DEBUG or TESTING)
# The site's public host name (app.example.com): allowed host, trusted origin, the certificate
# the proxy obtains, and the webhook URL registered with Instantly all derive from it.
PUBLIC_HOST = env.str("PUBLIC_HOST", default="")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[PUBLIC_HOST] if PUBLIC_HOST else ["127.0.0.1", "localhost", "[::1]"],
)
if TESTING and "testserver" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append("testserver")  # Django's test client; never a host a server answers to
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"https://{PUBLIC_HOST}"] if PUBLIC_HOST else []
)

INSTALLED_APPS = [
    # Our apps first: `accounts` overrides the `migrate` command (it must run as the owner role).
    "accounts",
    # The project base: installs the per-connection query counter (salesbrain.apps).
    "salesbrain.apps.SalesbrainConfig",
    "instantly",
    "campaigns",
    "messaging",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
]

MIDDLEWARE = [
    # First: request id, log context, metrics and the access line cover everything below.
    "salesbrain.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Instantly's webhooks are answered here: nothing below is for machines.
    "salesbrain.machine_endpoints.MachineEndpointMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SlidingSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Dates in the reader's time zone (the browser's `tz` cookie; see accounts.timezones).
    "accounts.timezones.TimezoneMiddleware",
    "csp.middleware.CSPMiddleware",
    # Static files (answered by WhiteNoise above) may be cached; nothing else may.
    "salesbrain.http_headers.NoStoreMiddleware",
    # Opens the request's transaction and sets the PostgreSQL tenant for it (see accounts.tenancy).
    "accounts.middleware.TenantMiddleware",
    # Last, as its documentation asks: answers a locked-out login before the view runs.
    "axes.middleware.AxesMiddleware",
]

# Paths whose views stand alone: answered by salesbrain.machine_endpoints, past the browser
# middleware (sessions, CSRF, login, CSP, the tenant scope).
MACHINE_PATH_PREFIXES = ("/webhooks/",)

ROOT_URLCONF = "salesbrain.urls"
WSGI_APPLICATION = "salesbrain.wsgi.application"
ASGI_APPLICATION = "salesbrain.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenant",
                "campaigns.context_processors.period",
                "messaging.context_processors.inbox",
                "messaging.context_processors.notification_bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL names the *owner* role: it runs migrations and owns the tables. The application
# itself connects as APP_DB_USER, a role that is neither superuser, nor BYPASSRLS, nor owner, so
# PostgreSQL row-level security applies to every query it makes.
if env.str("DATABASE_URL", default=""):
    _owner_db = env.db_url("DATABASE_URL")
else:
    # Described here, started by its backend on the first connection (never by an import).
    from salesbrain.embedded_db import embedded_database_settings

    _owner_db = embedded_database_settings(VAR_DIR)

APP_DB_USER = env.str("APP_DB_USER", default="salesbrain_app")
APP_DB_PASSWORD = env.str("APP_DB_PASSWORD", default="")
if not APP_DB_PASSWORD:
    if not (DEBUG or TESTING or OFFLINE):
        raise ImproperlyConfigured("APP_DB_PASSWORD must be set when DEBUG is off.")
    APP_DB_PASSWORD = "salesbrain_app"  # noqa: S105 - DEBUG/tests only
if APP_DB_USER == _owner_db.get("USER"):
    raise ImproperlyConfigured("APP_DB_USER must differ from the owner role in DATABASE_URL.")

DATABASE_OWNER = {"USER": _owner_db.get("USER", ""), "PASSWORD": _owner_db.get("PASSWORD", "")}
DATABASES = {
    "default": {
        **_owner_db,
        "USER": APP_DB_USER,
        "PASSWORD": APP_DB_PASSWORD,
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        # Off by default: it costs a `SELECT 1` round trip per request (the webhook receiver's
        # budget); turn on behind a proxy that drops idle connections.
        "CONN_HEALTH_CHECKS": env.bool("CONN_HEALTH_CHECKS", default=False),
    }
}
# A connection pool per process (Django's psycopg pool, see salesbrain.db_pool) for ASGI
# serving: gunicorn.conf.py turns it on for the server; `runserver`, tests and Celery (prefork:
# one thread per process) keep CONN_MAX_AGE. Size it so that workers x DB_POOL_MAX_SIZE stays
# well under PostgreSQL's max_connections.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0)
if DB_POOL_MAX_SIZE > 0:
    from salesbrain.db_pool import pool_options

    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it: the pool keeps them open
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": pool_options(
            max_size=DB_POOL_MAX_SIZE,
            min_size=env.int("DB_POOL_MIN_SIZE", default=2),
            timeout=env.float("DB_POOL_TIMEOUT", default=10.0),
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Both login forms (portal and operator console): after LOGIN_FAILURE_LIMIT wrong passwords a
# username is locked, and so is an address that failed that often (whatever the usernames),
# for LOGIN_LOCKOUT_MINUTES. The address is the client's as seen past NUM_PROXIES trusted
# proxies (see below): without a proxy, REMOTE_ADDR only, since a client sets X-Forwarded-For.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# A business tool: a working day from the last request (renewed hourly, see accounts.sessions);
# a password change ends every other session (Django checks the session's password hash).
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development and tests serve from the finders; production from collectstatic's manifest.
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- HTTPS -------------------------------------------------------------------------------------
# In production the site is served by a TLS-terminating proxy (Caddy in docker-compose.yml) that
# sets X-Forwarded-Proto; Django trusts that header only when told it sits behind one, and the
# app port must then be reachable through the proxy only.
BEHIND_TLS_PROXY = env_flag("BEHIND_TLS_PROXY", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", PRODUCTION)
# Probes and Prometheus call the app directly over the internal network, in plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(
    env.str("SECURE_HSTS_SECONDS", default="") or (31_536_000 if PRODUCTION else 0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Proxies between clients and the app whose X-Forwarded-For is trusted, for login lockouts and
# API throttles per address: behind the TLS proxy every request would otherwise come from it.
NUM_PROXIES = int(env.str("NUM_PROXIES", default="") or (1 if BEHIND_TLS_PROXY else 0))
if NUM_PROXIES:
    AXES_IPWARE_PROXY_COUNT = NUM_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Content-Security-Policy (django-csp): scripts only from our own files, never inline, and no
# page may be framed. Inline *styles* stay allowed: the pages size their bars with `style`.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Celery -----------------------------------------------------------------------------------
# No broker configured = tasks run in-process (eager), so `make run` needs no Redis.
REDIS_URL = env.str("REDIS_URL", default="")
# API throttles count in the cache: with Redis every process shares one budget.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish to a dead broker must fail fast: the webhook receiver has already stored the
# delivery and the sweeper will enqueue it later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 1}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
# Worker lines go through LOGGING (JSON in production, with task and event ids), not Celery's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Webhook processing: a row still `processing` this long after its claim belongs to a worker
# that died or lost the database; the sweeper (every 30 s) hands it out again, so every claimed
# row is back in work within 2 minutes. A processing task is stopped before its claim can go
# stale (soft limit, then hard), so two workers never apply the same rows at once.
WEBHOOK_CLAIM_TIMEOUT_SECONDS = env.int("WEBHOOK_CLAIM_TIMEOUT_SECONDS", default=75)
WEBHOOK_TASK_TIME_LIMIT_SECONDS = WEBHOOK_CLAIM_TIMEOUT_SECONDS * 4 // 5
WEBHOOK_TASK_SOFT_TIME_LIMIT_SECONDS = WEBHOOK_TASK_TIME_LIMIT_SECONDS * 4 // 5
if not 0 < WEBHOOK_TASK_SOFT_TIME_LIMIT_SECONDS < WEBHOOK_TASK_TIME_LIMIT_SECONDS:
    raise ImproperlyConfigured("WEBHOOK_CLAIM_TIMEOUT_SECONDS must be at least 5.")
CELERY_BEAT_SCHEDULE = {
    "instantly-sync-workspaces": {
        "task": "instantly.tasks.sync_all_workspaces",
        "schedule": env.int("INSTANTLY_SYNC_INTERVAL_SECONDS", default=900),
    },
    # Deliveries Instantly's log shows as failed and we never stored are replayed.
    "instantly-reconcile-deliveries": {
        "task": "instantly.tasks.reconcile_all_deliveries",
        "schedule": env.int("INSTANTLY_RECONCILE_INTERVAL_SECONDS", default=600),
    },
    "instantly-sweep-webhook-events": {
        "task": "instantly.webhooks.tasks.sweep_webhook_events",
        "schedule": 30.0,
    },
    "messaging-send-digests": {
        "task": "messaging.tasks.send_digests",
        "schedule": crontab(minute=5),
    },
    "instantly-deliver-alerts": {
        "task": "instantly.tasks.deliver_alerts",
        "schedule": 60.0,
    },
    "backup-database": {
        "task": "salesbrain.tasks.backup_database",
        "schedule": crontab(
            hour=env.int("BACKUP_HOUR", default=3), minute=env.int("BACKUP_MINUTE", default=17)
        ),
    },
    # Scores only fall between events; an hourly pass keeps lists and filters current.
    "messaging-decay-lead-scores": {
        "task": "messaging.tasks.decay_lead_scores",
        "schedule": env.int("LEAD_SCORE_DECAY_INTERVAL_SECONDS", default=3600),
    },
    # Small batches, each its own short transaction: never in the receiver's way.
    "instantly-prune-webhook-payloads": {
        "task": "instantly.webhooks.prune.prune_webhook_payloads",
        "schedule": env.int("WEBHOOK_PAYLOAD_PRUNE_INTERVAL_SECONDS", default=3600),
    },
    # Each organization's daily figures: the triggers' differences folded into a row per day.
    "campaigns-compact-daily-totals": {
        "task": "campaigns.daily_totals.compact_daily_totals",
        "schedule": 60.0,
    },
}
# Raw payloads of processed webhook events older than this many days are dropped (the event
# row and its metadata stay). 0 keeps them forever.
WEBHOOK_PAYLOAD_RETENTION_DAYS = env.int("WEBHOOK_PAYLOAD_RETENTION_DAYS", default=90)
WEBHOOK_PAYLOAD_PRUNE_BATCH = env.int("WEBHOOK_PAYLOAD_PRUNE_BATCH", default=1000)
# Task modules autodiscovery does not find (it looks for `<app>.tasks` only).
CELERY_IMPORTS = ("instantly.webhooks.prune", "campaigns.daily_totals")

# --- Authentication cache ------------------------------------------------------------------
# Token, memberships and staff groups of a caller are kept this many seconds per process: a
# revocation or role change takes effect at once in the process that made it, within this
# many seconds in the others (see accounts.auth_cache). 0 turns the cache off.
API_AUTH_CACHE_SECONDS = env.float("API_AUTH_CACHE_SECONDS", default=5.0)
# API lists count their rows exactly up to this many; past it `count` stops there and
# `count_is_exact` is false (see salesbrain.api.pagination).
API_EXACT_COUNT_LIMIT = env.int("API_EXACT_COUNT_LIMIT", default=10_000)

# --- Search ----------------------------------------------------------------------------------
# A search ranks (and counts) only the newest this-many matches of the caller's scope: bounded
# cost for words found in most messages (see messaging.search).
MESSAGE_SEARCH_CANDIDATES = env.int("MESSAGE_SEARCH_CANDIDATES", default=500)


# --- Outbound notifications ------------------------------------------------------------------
# Links in emails and Slack messages are absolute: built on PUBLIC_BASE_URL.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL",
    default=f"https://{PUBLIC_HOST}" if PUBLIC_HOST else "http://127.0.0.1:8000",
).rstrip("/")
# Console in development (the emails are printed); SMTP from EMAIL_HOST etc., or a provider
# through django-anymail (`EMAIL_BACKEND=anymail.backends.<provider>.EmailBackend`).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if (DEBUG or TESTING)
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Salesbrain <notifications@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Staff alerts (mailbox errors, sync failures, subscriptions, processing failures).
STAFF_ALERT_EMAILS = env.list("STAFF_ALERT_EMAILS", default=[])
STAFF_SLACK_WEBHOOK_URL = env.str("STAFF_SLACK_WEBHOOK_URL", default="")
# A customer's Slack URL is switched off after this many failed deliveries in a row.
SLACK_MAX_CONSECUTIVE_FAILURES = env.int("SLACK_MAX_CONSECUTIVE_FAILURES", default=5)

# --- Reply categoriser -----------------------------------------------------------------------
# Local (rules and a shipped scikit-learn model) unless CATEGORISER_LLM_URL names an
# OpenAI-compatible endpoint (".../v1"): then it is asked first, and any failure (timeout,
# error, unusable answer) falls back to the local model.
CATEGORISER_LLM_URL = env.str("CATEGORISER_LLM_URL", default="")
CATEGORISER_LLM_MODEL = env.str("CATEGORISER_LLM_MODEL", default="")
CATEGORISER_LLM_API_KEY = env.str("CATEGORISER_LLM_API_KEY", default="")
CATEGORISER_LLM_TIMEOUT = env.float("CATEGORISER_LLM_TIMEOUT", default=10.0)

# --- Instantly --------------------------------------------------------------------------------
INSTANTLY_API_BASE_URL = env.url(
    "INSTANTLY_API_BASE_URL", default="https://api.instantly.ai"
).geturl()
INSTANTLY_API_KEY = env.str("INSTANTLY_API_KEY", default="")
INSTANTLY_API_KEY_V1 = env.str("INSTANTLY_API_KEY_V1", default="")
# Where Instantly posts events; derived from PUBLIC_HOST unless set.
INSTANTLY_WEBHOOK_PATH = "/webhooks/instantly/webhook"
INSTANTLY_WEBHOOK_URL = env.str(
    "INSTANTLY_WEBHOOK_URL",
    default=f"https://{PUBLIC_HOST}{INSTANTLY_WEBHOOK_PATH}" if PUBLIC_HOST else "",
)
INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 512 * 1024
# The receiver stores deliveries in groups on a database connection of its own per process
# (instantly.webhooks.group_store). Tests keep it on the request's connection, so a test's
# transaction holds what the receiver stored; the tests of the own connection turn it on.
INSTANTLY_WEBHOOK_OWN_CONNECTION = env.bool("INSTANTLY_WEBHOOK_OWN_CONNECTION", default=not TESTING)
# GET /api/v2/emails (the Unibox) has its own limit, about 20 requests a minute per workspace.
# The test suite syncs the same sandbox workspace many times a minute: its tests of the limit
# pass their own limiter.
INSTANTLY_EMAILS_PER_MINUTE = env.int(
    "INSTANTLY_EMAILS_PER_MINUTE", default=6000 if TESTING else 20
)
# Unibox pages a periodic sync reads at most (a first backfill of a big workspace continues on
# the next sync from where it stopped); `instantly_sync --history` reads them all.
INSTANTLY_HISTORY_PAGES_PER_SYNC = env.int("INSTANTLY_HISTORY_PAGES_PER_SYNC", default=20)

# Fernet keys that encrypt secrets at rest (connection API keys). The first key encrypts, all
# keys decrypt: prepend a new key to rotate, then run `manage.py rotate_secrets`.
SECRETS_ENCRYPTION_KEYS = env.list("SECRETS_ENCRYPTION_KEYS", default=[])
if not SECRETS_ENCRYPTION_KEYS:
    if not (DEBUG or TESTING or OFFLINE):
        raise ImproperlyConfigured("SECRETS_ENCRYPTION_KEYS must be set when DEBUG is off.")
    # A fixed development key: fine for throw-away local data, never for production.
    from salesbrain.demo_env import DEVELOPMENT_ENCRYPTION_KEY

    SECRETS_ENCRYPTION_KEYS = [DEVELOPMENT_ENCRYPTION_KEY]

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous call a 401, and the tenant
    # middleware resolves the same order (accounts.tenant_resolution.request_user).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "salesbrain.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "salesbrain.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "salesbrain.api.throttling.AnonThrottle",
        "salesbrain.api.throttling.UserThrottle",
        "salesbrain.api.throttling.TokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/min",
        "user": "1200/min",
        "token": "600/min",
        "sync": "10/hour",
        "invalid_token": "20/min",
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Throttles count per client address: see NUM_PROXIES above.
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Salesbrain API",
    "DESCRIPTION": (
        "Campaigns, mailboxes, leads and messages mirrored from Instantly.\n\n"
        "Authenticate with `Authorization: Token <key>` (create keys at `/api/v1/tokens/`) or "
        "a session. Customers see their organization's rows only; agency staff see all. "
        'Every error answers `{"error": {"code", "message", "details"}}`.'
    ),
    "VERSION": "1.0.0",
    # Swagger UI and ReDoc assets from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs need a login, and list only what the caller may use: a customer
    # sees no staff endpoint (drf-spectacular checks each view's permissions for the caller).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_PUBLIC": False,
    "GET_MOCK_REQUEST": "salesbrain.api.schema.caller_mock_request",
    # Tags and operation ids from the path after /api/ or /api/v1/: "campaigns", "instantly".
    "SCHEMA_PATH_PREFIX": r"/api(/v1)?",
    "COMPONENT_SPLIT_REQUEST": True,
    # Schema generation runs outside any tenant: introspect through the plain base manager,
    # never the fail-closed TenantManager.
    "DEFAULT_QUERY_MANAGER": "_base_manager",
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "MailboxStatusEnum": "campaigns.models.MailboxStatus",
        "NotificationKindEnum": "messaging.models.Notification.Kind",
        "MessageKindEnum": "messaging.models.Message.Kind",
        "WarmupStatusEnum": "campaigns.models.WarmupStatus",
        "LeadStatusEnum": "campaigns.models.LeadStatus",
        "InterestStatusEnum": "campaigns.models.InterestStatus",
        "ReplyCategoryEnum": "messaging.categorise.categories.ReplyCategory",
        "CategorySourceEnum": "messaging.models.CategorySource",
        "ConnectionStatusEnum": "instantly.models.ProviderConnection.Status",
        "WebhookEventStatusEnum": "instantly.models.WebhookEvent.Status",
        "MemberRoleEnum": "accounts.roles.MemberRole",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "salesbrain.api.schema.add_error_responses",
        # The webhook receiver is a plain view: documented by hand, with its own answers.
        "instantly.webhooks.openapi.add_receiver",
    ],
}

# --- Operations: logs, metrics, error tracking, backups ------------------------------------------
# One JSON object per line in production (for a log collector), readable text in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = logging_config(
    json_lines=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO")
)
# django-axes logs one INFO line per login attempt and reset; lockouts still log as WARNING.
LOGGING.setdefault("loggers", {})["axes"] = {"level": "WARNING"}

# /metrics answers `Authorization: Bearer <METRICS_TOKEN>`; unset, loopback callers only.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker in multiprocess mode serves its pool's counts here (0: not at all).
METRICS_WORKER_HOST = env.str("METRICS_WORKER_HOST", default="127.0.0.1")
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
# /readyz fails when the oldest unprocessed webhook event is older than this.
READINESS_MAX_LAG_SECONDS = env.int("READINESS_MAX_LAG_SECONDS", default=600)

# `manage.py backup` (and Celery beat, daily): encrypted pg_dump files in BACKUP_DIR, or in an
# S3-compatible bucket when BACKUP_S3_BUCKET is set; the newest BACKUP_KEEP are kept.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
BACKUP_S3_BUCKET = env.str("BACKUP_S3_BUCKET", default="")
BACKUP_S3_PREFIX = env.str("BACKUP_S3_PREFIX", default="salesbrain/")
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="") or None
BACKUP_S3_REGION = env.str("BACKUP_S3_REGION", default="") or None
BACKUP_S3_ACCESS_KEY_ID = env.str("BACKUP_S3_ACCESS_KEY_ID", default="") or None
BACKUP_S3_SECRET_ACCESS_KEY = env.str("BACKUP_S3_SECRET_ACCESS_KEY", default="") or None
# Where pg_dump / pg_restore are, when the ones found automatically do not fit the server.
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

# Error tracking, last: it scrubs the secret values of every setting above from its events.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="") or (
    "production" if PRODUCTION else "development"
)
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN and not TESTING:
    # Only when Sentry is on: sentry-sdk is not imported by a process that does not report.
    from salesbrain.errortracking import init_sentry, scrub_literals

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        literals=scrub_literals(sys.modules[__name__]),
    )
