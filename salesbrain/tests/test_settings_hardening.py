"""Settings that must fail loudly or differ outside tests (issue 10, finding 6).

Each case imports the settings in a fresh interpreter without pytest, as a server would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

CODE = (
    "import json, salesbrain.settings as s; "
    "print(json.dumps({'hosts': s.ALLOWED_HOSTS, 'age': s.SESSION_COOKIE_AGE}))"
)


def load_settings(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "APP_DB_"))}
    base.pop("ALLOWED_HOSTS", None)
    return subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "SECRETS_ENCRYPTION_KEYS": "ZGV2LW9ubHktc2FsZXNicmFpbi1mZXJuZXQta2V5LTA=",
}


def test_app_db_password_is_required_when_debug_is_off():
    result = load_settings(**PRODUCTION)
    assert result.returncode != 0
    assert "APP_DB_PASSWORD must be set" in result.stderr


def test_production_settings_load_with_every_secret_given():
    result = load_settings(**PRODUCTION, APP_DB_PASSWORD="a-long-random-password")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["age"] == 12 * 3600


def test_testserver_is_an_allowed_host_only_in_tests():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "testserver" not in json.loads(result.stdout)["hosts"]
    assert "testserver" in settings.ALLOWED_HOSTS
