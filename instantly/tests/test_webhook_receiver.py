"""The webhook receiver: what each kind of request is answered, and what it leaves stored.

`WebhookAuthSuite` is the one authentication suite (django-anymail style): every entry point
that accepts Instantly deliveries subclasses it with its URL, so no entry point can skip it.
"""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.db import connection as db_connection
from django.test import Client, RequestFactory
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.tenancy import staff_scope
from instantly.models import WebhookEvent
from instantly.webhooks import group_store, ingest, tasks
from instantly.webhooks.auth import SECRET_HEADER
from instantly.webhooks.views import instantly_webhook
from testkit import make_connection

DELIVERY = {
    "timestamp": "2026-03-02T10:02:11.000Z",
    "event_type": "email_opened",
    "workspace": "0195a3c0-1111-7000-8000-000000000001",
    "campaign_id": "0195a3c2-7d0e-7a31-9b1e-3c6f5d2a8e01",
    "campaign_name": "SaaS founders EU",
    "lead_email": "maya.patel@bluepeak-analytics.example",
    "email": "maya.patel@bluepeak-analytics.example",
    "email_account": "sam@salesbrain-mail.example",
    "step": "1",
    "variant": 2,
    "firstName": "Maya",
    "companyName": "Bluepeak Analytics",
}
HEADER = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")


def stored_events():
    with staff_scope():
        return list(WebhookEvent.objects.order_by("id"))


@pytest.fixture
def enqueued(monkeypatch):
    """Event ids handed to the broker (nothing is really published)."""
    ids = []
    monkeypatch.setattr(tasks, "_publish", lambda task, args, **kw: ids.append(args[0]) or True)
    return ids


@pytest.fixture
def acme(org_a):
    return make_connection("acme", organization=org_a, with_secret=True)


def post(client, body, secret, *, content_type="application/json", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    if secret is not None:
        extra[HEADER] = secret
    return client.post(URL, data=data, content_type=content_type, **extra)


URL = "/webhooks/instantly/webhook"


# --- authentication: one suite for every entry point -------------------------------------------


@pytest.mark.django_db
class WebhookAuthSuite:
    """Run for every URL that accepts deliveries (subclass and set `url`)."""

    url: str

    def send(self, client, secret, body=None):
        extra = {HEADER: secret} if secret is not None else {}
        return client.post(
            self.url, data=json.dumps(body or DELIVERY), content_type="application/json", **extra
        )

    def test_no_secret_is_401_and_nothing_is_stored(self, client, acme):
        response = self.send(client, None)
        assert response.status_code == 401
        assert response.json() == {"error": "missing or wrong webhook secret"}
        assert stored_events() == []

    @pytest.mark.parametrize("secret", ["", "wrong", "x" * 300, " "])
    def test_a_wrong_secret_is_401_and_nothing_is_stored(self, client, acme, secret):
        assert self.send(client, secret).status_code == 401
        assert stored_events() == []

    def test_a_secret_that_differs_only_in_case_or_padding_is_refused(self, client, acme):
        _conn, secret = acme
        for variant in (secret.upper(), f" {secret}", f"{secret} ", secret[:-1]):
            if variant != secret:
                assert self.send(client, variant).status_code == 401
        assert stored_events() == []

    def test_an_old_secret_stops_working_after_rotation(self, client, acme):
        conn, old = acme
        with staff_scope():
            conn.set_new_webhook_secret()
            conn.save()
        assert self.send(client, old).status_code == 401

    def test_the_secret_picks_its_connection_and_organization(self, client, acme, org_a):
        other, other_secret = make_connection("other", with_secret=True)
        conn, secret = acme
        assert self.send(client, secret).status_code == 200
        assert self.send(client, other_secret).status_code == 200
        events = stored_events()
        assert [(e.connection_id, e.organization_id) for e in events] == [
            (conn.pk, org_a.pk),
            (other.pk, None),
        ]

    def test_only_the_secrets_digest_reaches_the_database(self, client, acme, monkeypatch):
        """The connection is found by the SHA-256 of the secret, never by the secret (so no
        comparison of the secret exists to time, and no query text or parameter holds it)."""
        from instantly.models import secret_digest
        from instantly.webhooks import group_store

        sent = []
        real = group_store.bulk.execute
        monkeypatch.setattr(
            group_store.bulk,
            "execute",
            lambda sql, params=(): sent.append(params) or real(sql, params),
        )
        secret = acme[1]
        assert self.send(client, secret).status_code == 200
        [params] = sent
        values = [str(value) for column in params for value in column]
        assert params[0] == [secret_digest(secret)]
        assert not any(secret in value for value in values)

    @pytest.mark.parametrize("body", ["not json", "[1]", "x" * 600_000])
    def test_a_stranger_is_told_401_whatever_the_body(self, client, acme, body):
        response = client.post(
            self.url, data=body, content_type="application/json", **{HEADER: "guess"}
        )
        assert response.status_code == 401
        assert stored_events() == []


class TestReceiverAuth(WebhookAuthSuite):
    url = URL


def test_the_receiver_url_is_the_documented_one():
    assert reverse("instantly_webhooks:receive") == URL


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post_is_allowed(client, acme, method):
    response = getattr(client, method)(URL, **{HEADER: acme[1]})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "method not allowed"}
    assert stored_events() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b'{"event_type": NaN}',
        b'{"a": 1e999}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["text", "empty", "array", "string", "null", "nan", "infinite", "bad-utf8", "deep"],
)
def test_a_body_that_is_not_a_json_object_is_400_and_nothing_is_stored(client, acme, body):
    response = post(client, body, acme[1])
    assert response.status_code == 400
    assert "error" in response.json()
    assert stored_events() == []


@pytest.mark.django_db
def test_a_declared_length_over_the_limit_is_413(client, acme, settings):
    settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 1000
    big = dict(DELIVERY, filler="x" * 1000)
    response = post(client, big, acme[1])
    assert response.status_code == 413
    assert response.json() == {"error": "body larger than 1000 bytes"}
    assert stored_events() == []


@pytest.mark.django_db
def test_the_default_limit_is_512_kb(client, acme):
    body = json.dumps(dict(DELIVERY, filler="x" * (512 * 1024)))
    assert post(client, body, acme[1]).status_code == 413
    body = json.dumps(dict(DELIVERY, filler="x" * (500 * 1024)))
    assert post(client, body, acme[1]).status_code == 200


@pytest.mark.django_db
def test_an_actual_body_over_the_limit_is_413_whatever_the_header_says(acme, settings):
    settings.INSTANTLY_WEBHOOK_MAX_BODY_BYTES = 1000
    request = RequestFactory().post(URL, data=b"{}", content_type="application/json")
    request.META[HEADER] = acme[1]
    request.META.pop("CONTENT_LENGTH")
    # A server that passes a body without a length (chunked): the view still stops at the limit.
    request._stream = io.BytesIO(json.dumps(dict(DELIVERY, filler="x" * 2000)).encode())
    response = instantly_webhook(request)
    assert response.status_code == 413
    assert stored_events() == []


@pytest.mark.django_db
def test_an_invalid_content_length_is_400(acme):
    request = RequestFactory().post(URL, data=b"{}", content_type="application/json")
    request.META[HEADER] = acme[1]
    request.META["CONTENT_LENGTH"] = "lots"
    assert instantly_webhook(request).status_code == 400


@pytest.mark.django_db
def test_a_valid_delivery_is_stored_pending_with_its_fields_and_answered_200(
    client, acme, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, DELIVERY, acme[1])
    assert response.status_code == 200
    [event] = stored_events()
    assert response.json() == {"ok": True, "id": event.pk, "status": "pending", "duplicate": False}
    assert event.payload == DELIVERY
    assert (event.event_type_raw, event.event_type) == ("email_opened", "opened")
    assert event.campaign_instantly_id == DELIVERY["campaign_id"]
    assert event.occurred_at.isoformat() == "2026-03-02T10:02:11+00:00"
    assert (event.status, event.attempts) == (WebhookEvent.Status.PENDING, 0)
    assert len(event.dedupe_key) == 64
    # Enqueued only once the row is committed.
    assert enqueued == [] and len(callbacks) == 1
    callbacks[0]()
    assert enqueued == [event.pk]


@pytest.mark.django_db
def test_csrf_is_not_required(acme, enqueued):
    client = Client(enforce_csrf_checks=True)
    assert post(client, DELIVERY, acme[1]).status_code == 200


@pytest.mark.django_db
def test_an_unreadable_event_type_is_stored_as_ignored_and_answered_200(
    client, acme, enqueued, django_capture_on_commit_callbacks
):
    """Any name is a custom label (Instantly sends labels as-is); a number is nobody's type."""
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, dict(DELIVERY, event_type=7), acme[1])
    assert response.status_code == 200
    [event] = stored_events()
    assert (event.status, event.event_type, event.event_type_raw) == (
        WebhookEvent.Status.IGNORED,
        "unknown",
        "7",
    )
    assert "nothing to do" in event.last_error
    assert enqueued == []  # nothing to process


@pytest.mark.django_db
def test_a_payload_without_event_type_is_still_stored(client, acme, enqueued):
    assert post(client, {"hello": "world"}, acme[1]).status_code == 200
    [event] = stored_events()
    assert (event.status, event.event_type) == (WebhookEvent.Status.IGNORED, "unknown")


@pytest.mark.django_db
def test_nul_characters_postgres_cannot_store_are_dropped(client, acme, enqueued):
    body = json.dumps(dict(DELIVERY, reply_text="a\u0000b", **{"nul\u0000key": "c"}))
    assert post(client, body, acme[1]).status_code == 200
    [event] = stored_events()
    assert event.payload["reply_text"] == "ab" and event.payload["nulkey"] == "c"


@pytest.mark.django_db
@pytest.mark.parametrize("error", ["OperationalError", "IntegrityError"])
def test_a_storage_failure_is_503_never_2xx(client, acme, enqueued, monkeypatch, error):
    """Only a stored delivery is acknowledged; Instantly retries a 503."""
    import django.db

    def fail(*args, **kwargs):
        raise getattr(django.db, error)("connection refused or some other constraint")

    monkeypatch.setattr(group_store.bulk, "execute", fail)
    response = post(client, DELIVERY, acme[1])
    assert response.status_code == 503
    assert response.json() == {"error": "could not store the delivery, try again"}
    assert stored_events() == [] and enqueued == []


# --- duplicates ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_is_answered_200_and_not_processed_again(
    client, acme, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, DELIVERY, acme[1])
        reordered = json.dumps(dict(reversed(list(DELIVERY.items()))))
        second = post(client, reordered, acme[1])
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"ok": True, "id": None, "status": "pending", "duplicate": True}
    [event] = stored_events()
    assert enqueued == [event.pk]


@pytest.mark.django_db
def test_the_same_body_for_two_connections_is_two_deliveries(client, acme, enqueued):
    _other, other_secret = make_connection("other", with_secret=True)
    assert post(client, DELIVERY, acme[1]).json()["duplicate"] is False
    assert post(client, DELIVERY, other_secret).json()["duplicate"] is False
    assert len(stored_events()) == 2


@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_at_the_same_moment_store_one_row(acme, enqueued, monkeypatch):
    """Both requests pass the same point before inserting; the unique constraint decides."""
    barrier = threading.Barrier(2, timeout=10)
    real_key = ingest.dedupe_key_of

    def key_then_wait(canonical):
        key = real_key(canonical)
        barrier.wait()  # both have computed the key and are about to insert
        return key

    monkeypatch.setattr(ingest, "dedupe_key_of", key_then_wait)
    answers = []

    def send():
        try:
            answers.append(post(Client(), DELIVERY, acme[1]).json())
        finally:
            db_connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a["duplicate"] for a in answers) == [False, True]
    [event] = stored_events()
    assert enqueued == [event.pk]


# --- broker down ---------------------------------------------------------------------------------


@pytest.fixture
def dead_broker(monkeypatch):
    """Publishing fails like kombu does when Redis is unreachable; the clock is ours."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(1)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    now = [1000.0]
    monkeypatch.setattr(tasks.process_webhook_event, "apply_async", refuse)
    monkeypatch.setattr(tasks, "breaker", tasks._Breaker(clock=lambda: now[0]))
    return attempts, now


@pytest.mark.django_db
def test_broker_down_still_answers_200_and_leaves_the_row_pending(
    client, acme, dead_broker, django_capture_on_commit_callbacks
):
    attempts, _now = dead_broker
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, DELIVERY, acme[1])
    assert response.status_code == 200
    [event] = stored_events()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PENDING, 0)
    assert attempts == [1]


@pytest.mark.django_db
def test_after_a_failed_publish_the_broker_is_left_alone_for_a_while(
    client, acme, dead_broker, django_capture_on_commit_callbacks
):
    attempts, now = dead_broker
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            assert post(client, dict(DELIVERY, n=n), acme[1]).status_code == 200
    assert len(attempts) == 1  # the next two did not wait for a dead broker
    now[0] += tasks.BROKER_RETRY_AFTER
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, dict(DELIVERY, n=9), acme[1]).status_code == 200
    assert len(attempts) == 2
    assert {e.status for e in stored_events()} == {WebhookEvent.Status.PENDING}


# --- the background publisher (used when a broker is configured) ---------------------------------


def test_ids_that_arrive_while_a_publish_is_in_flight_go_out_together():
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    batches = []

    def publish(ids):
        batches.append(list(ids))
        started.set()
        release.wait(10)
        if sum(map(len, batches)) == 3:
            finished.set()

    publisher = tasks._Publisher(publish)
    publisher.submit(1)
    assert started.wait(10)  # the thread is busy publishing [1]
    publisher.submit(2)
    publisher.submit(3)
    release.set()
    assert finished.wait(10)
    assert batches == [[1], [2, 3]]


def test_a_failed_publish_does_not_stop_the_publisher():
    batches, failed, finished = [], threading.Event(), threading.Event()

    def publish(ids):
        batches.append(list(ids))
        if len(batches) == 1:
            failed.set()
            raise RuntimeError("broker went away")
        finished.set()

    publisher = tasks._Publisher(publish)
    publisher.submit(1)
    assert failed.wait(10)
    publisher.submit(2)
    assert finished.wait(10)
    assert batches == [[1], [2]]


@pytest.mark.django_db
def test_with_a_broker_the_receiver_only_hands_the_id_to_the_publisher(
    client, acme, monkeypatch, django_capture_on_commit_callbacks
):
    handed = []
    conf = tasks.process_webhook_event.app.conf
    monkeypatch.setitem(conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.publisher, "submit", handed.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, DELIVERY, acme[1])
    assert response.status_code == 200
    assert handed == [response.json()["id"]]
