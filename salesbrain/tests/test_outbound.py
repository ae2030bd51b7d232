"""The small outbound HTTP client (Slack, staff alerts): what it waits after a 429."""

from __future__ import annotations

import pytest
import responses

from salesbrain import outbound

URL = "https://hooks.slack.com/services/T000/B000/XXXX"


@pytest.mark.parametrize(
    ("header", "waited"),
    [
        ("7", 7.0),
        ("99", outbound.MAX_RETRY_AFTER),  # capped: a task does not sleep for minutes
        ("-3", 0.0),
        ("nan", outbound.BACKOFF),  # not a number: the default backoff, never sleep(nan)
        ("inf", outbound.BACKOFF),
        ("Wed, 21 Oct 2026 07:28:00 GMT", outbound.BACKOFF),  # an HTTP date
    ],
)
@responses.activate
def test_a_429_waits_what_retry_after_says_within_bounds(header, waited):
    responses.post(URL, status=429, headers={"Retry-After": header})
    responses.post(URL, body="ok")
    slept = []
    outcome = outbound.post_json(URL, {"text": "hi"}, sleep=slept.append)
    assert outcome.ok
    assert slept == [waited]
