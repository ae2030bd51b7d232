"""The Instantly management commands, run against a small sandbox served over HTTP.

The shared connection comes from the settings (INSTANTLY_API_KEY), as in production.
"""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tenancy import staff_scope
from campaigns.models import Campaign, EmailAccount
from instantly.models import ProviderConnection
from instantly.sandbox import (
    DEFAULT_API_KEY,
    DEFAULT_V1_API_KEY,
    SandboxApp,
    SandboxServer,
    SandboxWorkspace,
)
from instantly.webhooks.auth import SECRET_HEADER
from salesbrain import encryption

CAMPAIGNS, ACCOUNTS = 6, 12
WEBHOOK_URL = "https://salesbrain.example/webhooks/instantly/"


@pytest.fixture
def sandbox(settings):
    workspace = SandboxWorkspace(
        seed=3, campaigns=CAMPAIGNS, accounts=ACCOUNTS, leads_per_campaign=4
    )
    app = SandboxApp(workspace)
    with SandboxServer(app) as server:
        settings.INSTANTLY_API_BASE_URL = server.base_url
        settings.INSTANTLY_API_KEY = DEFAULT_API_KEY
        settings.INSTANTLY_API_KEY_V1 = DEFAULT_V1_API_KEY
        settings.INSTANTLY_WEBHOOK_URL = WEBHOOK_URL
        yield app


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def shared():
    with staff_scope():
        return ProviderConnection.objects.unscoped().get(is_shared=True)


def count(model):
    with staff_scope():
        return model.objects.unscoped().count()


# --- instantly_sync ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_shows_progress_and_a_summary(sandbox):
    output = run("instantly_sync")

    assert "Syncing Agency workspace" in output
    assert f"mailboxes: {ACCOUNTS} listed" in output
    assert f"campaigns: {CAMPAIGNS} listed" in output
    assert f"  campaigns            {CAMPAIGNS} new, 0 updated, 0 unchanged" in output
    assert "API request(s)" in output
    assert "done: changes written" in output
    assert (count(Campaign), count(EmailAccount)) == (CAMPAIGNS, ACCOUNTS)

    assert "done: nothing changed" in run("instantly_sync", "--connection", "Agency workspace")


@pytest.mark.django_db
def test_sync_without_any_connection_says_how_to_add_one(settings):
    settings.INSTANTLY_API_KEY = ""
    with pytest.raises(CommandError, match="set INSTANTLY_API_KEY"):
        run("instantly_sync")


@pytest.mark.django_db
def test_sync_of_an_unknown_connection_fails(sandbox):
    with pytest.raises(CommandError, match="no Instantly connection 'nope'"):
        run("instantly_sync", "--connection", "nope")


@pytest.mark.django_db
def test_sync_with_a_refused_key_explains_and_fails(sandbox, settings, capsys):
    settings.INSTANTLY_API_KEY = "wrong-key-ABCD1234"
    err = io.StringIO()
    with pytest.raises(CommandError, match="sync failed for: Agency workspace"):
        call_command("instantly_sync", stdout=io.StringIO(), stderr=err)
    assert "API key was refused" in err.getvalue()
    assert "wrong-key-ABCD1234" not in err.getvalue() + capsys.readouterr().err


# --- instantly_check ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_reports_workspace_counts_and_v1(sandbox):
    output = run("instantly_check")

    assert "OK   Agency workspace (key ***-key)" in output
    assert f"{CAMPAIGNS} campaign(s); {ACCOUNTS} mailbox(es); v1 key accepted." in output
    assert DEFAULT_API_KEY not in output


@pytest.mark.django_db
def test_check_of_a_refused_key_fails_with_a_clear_message(sandbox, settings):
    settings.INSTANTLY_API_KEY = "wrong-key-ABCD1234"
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 connection"):
        call_command("instantly_check", stdout=out)
    assert "FAIL Agency workspace (key ***1234)" in out.getvalue()
    assert "API key was refused" in out.getvalue()


# --- instantly_explore --------------------------------------------------------------------------


@pytest.mark.django_db
def test_explore_prints_what_v2_and_v1_answer_with_secrets_masked(sandbox):
    run("instantly_subscribe_webhook")  # so the webhook listing carries our secret header

    output = run("instantly_explore")

    assert "v2 key ***-key, v1 key ***-key" in output
    for probe in (
        "GET /api/v2/workspaces/current -> 200",
        'GET /api/v2/campaigns {"limit": 1} -> 200: 1 item(s), more pages; fields: id, name',
        "GET /api/v2/campaigns/analytics/daily",
        "GET /api/v2/accounts/analytics/daily",
        "POST /api/v2/leads/list -> 200",
        "GET /api/v2/webhooks",
        "GET /api/v1/campaign/list -> 200: v1 key accepted",
    ):
        assert probe in output
    assert DEFAULT_API_KEY not in output
    assert DEFAULT_V1_API_KEY not in output
    assert shared().webhook_secret not in output


# --- instantly_export / instantly_import --------------------------------------------------------


@pytest.mark.django_db
def test_export_writes_the_workspace_and_import_loads_it_idempotently(sandbox, tmp_path):
    path = tmp_path / "export.json"

    output = run("instantly_export", "--output", str(path))

    assert f"Wrote {path}: {CAMPAIGNS} campaigns, {ACCOUNTS} mailboxes" in output
    data = json.loads(path.read_text())
    assert data["format"] == "salesbrain.instantly-export"
    assert len(data["campaigns"]) == CAMPAIGNS and len(data["accounts"]) == ACCOUNTS
    assert data["campaign_daily_analytics"]
    assert DEFAULT_API_KEY not in path.read_text()

    first = run("instantly_import", str(path), "--connection", "Agency workspace")
    second = run("instantly_import", str(path))  # found by its workspace id this time

    assert "Done: changes written" in first
    assert "Done: nothing changed" in second
    assert (count(Campaign), count(EmailAccount)) == (CAMPAIGNS, ACCOUNTS)


@pytest.mark.django_db
def test_import_refuses_what_is_not_an_export(sandbox, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(CommandError, match="not an instantly_export file"):
        run("instantly_import", str(path))


# --- instantly_subscribe_webhook ----------------------------------------------------------------


@pytest.mark.django_db
def test_subscribe_registers_once_and_resume_re_enables(sandbox):
    first = run("instantly_subscribe_webhook")
    run("instantly_subscribe_webhook")  # reuses it

    (webhook,) = sandbox.workspace.webhooks.values()
    assert f"subscription {webhook['id']} for {WEBHOOK_URL} active" in first
    assert webhook["headers"] == {SECRET_HEADER: shared().webhook_secret}
    assert webhook["event_type"] == "all_events"
    assert shared().webhook_subscription_id == webhook["id"]

    sandbox.workspace.set_webhook_status(webhook["id"], False)
    output = run("instantly_subscribe_webhook", "--resume")

    assert f"subscription {webhook['id']} resumed" in output
    assert sandbox.workspace.webhooks[webhook["id"]]["status"] == 1


# --- rotate_secrets -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotate_secrets_re_encrypts_with_the_new_first_key(settings, shared_connection):
    old_key = settings.SECRETS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    shared_connection.api_key_v1 = "v1-secret-key"
    with staff_scope():
        shared_connection.save()
    secret = shared_connection.webhook_secret
    settings.SECRETS_ENCRYPTION_KEYS = [new_key, old_key]

    output = run("rotate_secrets")

    assert "Re-encrypted 3 secret(s)." in output
    settings.SECRETS_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    rotated = shared()
    assert rotated.api_key == "test-shared-key-0000"
    assert rotated.api_key_v1 == "v1-secret-key"
    assert rotated.webhook_secret == secret
    assert encryption.decrypt(rotated.api_key_encrypted) == "test-shared-key-0000"


@pytest.mark.django_db
def test_rotate_secrets_without_the_old_key_fails_and_changes_nothing(settings, shared_connection):
    before = shared_connection.api_key_encrypted
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="keep the old key"):
        run("rotate_secrets")

    assert shared().api_key_encrypted == before
