"""Structured logs: one JSON object per line, and the ids that let a request be followed."""

from __future__ import annotations

import json
import logging

import pytest

from salesbrain.logs import ContextFilter, JsonFormatter, TextFormatter, log_context
from testkit.logcapture import json_lines

logger = logging.getLogger("salesbrain.tests")


def _record(message="hello %s", args=("world",), exc_info=None, **extra):
    record = logging.LogRecord("sb.test", logging.INFO, __file__, 1, message, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    ContextFilter().filter(record)
    return record


def test_a_json_line_is_one_object_with_the_bound_ids_and_extras():
    with log_context(request_id="req-1", event_id=42):
        line = JsonFormatter().format(_record(duration_ms=3.5))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "sb.test"
    assert entry["request_id"] == "req-1"
    assert entry["event_id"] == 42
    assert entry["duration_ms"] == 3.5
    assert entry["time"].endswith("+00:00")


def test_a_traceback_stays_inside_the_json_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        line = JsonFormatter().format(_record(exc_info=sys.exc_info()))
    assert "\n" not in line
    assert "ValueError" in json.loads(line)["exception"]


def test_the_text_format_shows_the_ids_after_the_message():
    with log_context(request_id="req-2", user_id=7):
        line = TextFormatter().format(_record())
    assert line.endswith("sb.test hello world [request_id=req-2 user_id=7]")


def test_contexts_nest_and_unwind():
    with log_context(request_id="outer"):
        with log_context(event_id=1):
            inner = _record()
        after = _record()
    assert (inner.request_id, inner.event_id) == ("outer", 1)
    assert after.request_id == "outer" and not hasattr(after, "event_id")
    assert not hasattr(_record(), "request_id")


@pytest.mark.django_db
def test_a_request_gets_an_id_sent_back_and_on_its_lines(client):
    with json_lines() as captured:
        response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = captured.matching("GET /healthz 200")
    assert line["request_id"] == request_id
    assert line["view"] == "healthz"
    assert line["status"] == 200
    assert "duration_ms" in line and "db_queries" in line


@pytest.mark.django_db
def test_a_callers_request_id_is_kept_unless_it_could_forge_a_line(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="edge-abc.123")
    assert kept["X-Request-ID"] == "edge-abc.123"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=ERROR fake")
    assert forged["X-Request-ID"] != "x\nlevel=ERROR fake"
    assert len(forged["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_request_lines_carry_the_user_and_organization(client, alice, org_a):
    client.force_login(alice)
    with json_lines() as captured:
        response = client.get("/")
    assert response.status_code == 200
    (line,) = captured.matching("GET / 200")
    assert line["user_id"] == alice.pk
    assert line["organization_id"] == str(org_a.pk)
    assert line["view"] == "portal:dashboard"
    assert line["db_queries"] > 0


def test_production_logs_are_json_and_development_logs_are_text():
    from salesbrain.logs import logging_config

    assert logging_config(json_lines=True, level="INFO")["handlers"]["console"]["formatter"] == (
        "json"
    )
    assert logging_config(json_lines=False, level="INFO")["handlers"]["console"]["formatter"] == (
        "text"
    )
