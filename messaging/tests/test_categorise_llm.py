"""The optional LLM backend: used when configured, and any failure falls back to the model."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from messaging.categorise.categoriser import Categoriser
from messaging.categorise.llm import LLMConfig
from messaging.categorise.model import LocalModel

URL = "https://llm.example.test/v1"
CONFIG = LLMConfig(url=URL, model="tiny", api_key="test-key", timeout=2.0)
REPLY = ("Re: idea", "Could you tell me what it costs for a team of 12?")


@pytest.fixture(scope="module")
def model():
    return LocalModel.load()


def completion(content: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


@responses.activate
def test_a_configured_llm_answers_and_gets_the_prompt(model):
    responses.post(f"{URL}/chat/completions",
                   json=completion('{"category": "meeting_request", "confidence": 0.81}'))  # fmt: skip
    result = Categoriser(model=model, llm=CONFIG).categorise(*REPLY)
    assert (result.category, result.confidence, result.source) == ("meeting_request", 0.81, "llm")
    sent = json.loads(responses.calls[0].request.body)
    assert sent["model"] == "tiny"
    assert "what it costs" in sent["messages"][1]["content"]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer test-key"


@responses.activate
def test_a_fenced_json_answer_is_accepted(model):
    responses.post(f"{URL}/chat/completions",
                   json=completion('```json\n{"category": "interested", "confidence": 0.7}\n```'))  # fmt: skip
    assert Categoriser(model=model, llm=CONFIG).categorise(*REPLY).category == "interested"


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500, "json": {"error": "boom"}},
        {"status": 200, "body": "not json"},
        {"status": 200, "json": completion("I think it is a question")},
        {"status": 200, "json": completion('{"category": "spam", "confidence": 0.9}')},
        {"status": 200, "json": completion('{"category": "interested", "confidence": 7}')},
        {"status": 200, "json": {"choices": []}},
        {"body": requests.ConnectTimeout("too slow")},
        {"body": requests.ConnectionError("refused")},
    ],
)
@responses.activate
def test_any_failure_falls_back_to_the_local_model(model, failure):
    responses.post(f"{URL}/chat/completions", **failure)
    result = Categoriser(model=model, llm=CONFIG).categorise(*REPLY)
    assert result.source == "model"
    assert result.category == "information_request"
    assert len(responses.calls) == 1


@responses.activate
def test_rules_answer_before_the_llm_is_asked(model):
    result = Categoriser(model=model, llm=CONFIG).categorise(
        "Undeliverable: idea", "Delivery has failed to these recipients: a@b.com\n"
        "Remote Server returned '550 5.1.1 User unknown'",
    )  # fmt: skip
    assert result.category == "bounce"
    assert not responses.calls


def test_the_llm_is_off_by_default(settings):
    settings.CATEGORISER_LLM_URL = ""
    assert LLMConfig.from_settings() is None
    settings.CATEGORISER_LLM_URL = URL + "/"
    settings.CATEGORISER_LLM_MODEL = "tiny"
    assert LLMConfig.from_settings().url == URL
