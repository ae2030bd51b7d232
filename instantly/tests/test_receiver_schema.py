"""The webhook receiver in the OpenAPI schema: its path, secret header, body and every answer,
and the receiver's real answers match what the schema says."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import call_command

from instantly.webhooks.auth import SECRET_HEADER
from testkit import make_connection

PATH = "/webhooks/instantly/webhook"


@pytest.fixture(scope="module")
def operation() -> dict:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())["paths"][PATH]["post"]


def test_the_receiver_is_documented_with_its_secret_header_and_body(operation):
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert header["name"] == SECRET_HEADER == "X-Salesbrain-Webhook-Secret"
    assert header["required"] is True
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["event_type"] and body["additionalProperties"] is True
    assert {"campaign_id", "lead_email", "email_id", "unibox_url"} <= set(body["properties"])
    assert sorted(operation["responses"]) == ["200", "400", "401", "405", "413", "503"]
    assert operation["security"] == []


def _schema_of(operation, status):
    return operation["responses"][status]["content"]["application/json"]["schema"]


@pytest.mark.django_db
def test_the_receiver_answers_as_documented(client, operation, settings):
    connection, secret = make_connection("Workspace", with_secret=True)
    ok = client.post(
        PATH,
        data=json.dumps({"event_type": "email_sent", "campaign_id": "c"}),
        content_type="application/json",
        headers={SECRET_HEADER: secret},
    )
    assert ok.status_code == 200
    assert set(ok.json()) == set(_schema_of(operation, "200")["required"])

    answers = {
        "401": client.post(PATH, data="{}", content_type="application/json"),
        "400": client.post(
            PATH, data="[1]", content_type="application/json", headers={SECRET_HEADER: secret}
        ),
        "405": client.get(PATH),
    }
    settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 10
    answers["413"] = client.post(
        PATH, data=json.dumps({"event_type": "x" * 20}), content_type="application/json",
        headers={SECRET_HEADER: secret},
    )  # fmt: skip
    for status, answer in answers.items():
        assert answer.status_code == int(status)
        assert list(answer.json()) == _schema_of(operation, status)["required"] == ["error"]
