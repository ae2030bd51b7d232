"""The production environment documented in `.env.example` passes `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The documented production settings (`.env.example`, README "Operations"), minimal: what
# must be set; everything else is production's default.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 10 + "roduction-secret-key-for-the-deploy-check-0123456789",
    "SECRETS_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLW9ubHktZmVybmV0LWtleS0wMDA=",
    "PUBLIC_HOST": "app.example.com",
    "DATABASE_URL": "postgres://salesbrain@db.invalid:5432/salesbrain",
    "APP_DB_PASSWORD": "app-password-for-the-check",
    "METRICS_TOKEN": "metrics-token-for-the-check",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    # The demo's plain-http switches (exported by the Makefile for `make run`) must not leak in.
    for name in (
        "DEBUG",
        "ALLOWED_HOSTS",
        "SESSION_COOKIE_SECURE",
        "LOG_FORMAT",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "BEHIND_TLS_PROXY",
        "CSRF_COOKIE_SECURE",
    ):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_without_https():
    insecure = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **insecure)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_the_webhook_url_and_trusted_origin_derive_from_the_public_host():
    code = (
        "from django.conf import settings as s; from django.urls import reverse; "
        "print(s.INSTANTLY_WEBHOOK_URL); print(s.CSRF_TRUSTED_ORIGINS); print(s.ALLOWED_HOSTS); "
        "print(s.SECURE_PROXY_SSL_HEADER); print(reverse('instantly_webhooks:receive'))"
    )
    result = run_manage("shell", "-c", code, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    url, origins, hosts, proxy_header, path = result.stdout.splitlines()[-5:]
    assert url == "https://app.example.com/webhooks/instantly/webhook"
    assert path == "/webhooks/instantly/webhook"  # the derived URL names the real route
    assert origins == "['https://app.example.com']"
    assert hosts == "['app.example.com']"
    assert proxy_header == "('HTTP_X_FORWARDED_PROTO', 'https')"
