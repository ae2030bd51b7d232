"""An optional LLM backend: any OpenAI-compatible chat-completions endpoint.

Off unless `CATEGORISER_LLM_URL` is set. It is asked for one JSON object; an answer that is
late, malformed or names an unknown category counts as a failure, and the caller falls back
to the local model. The API key is sent as a bearer token and never logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from django.conf import settings

from .categories import CATEGORIES

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You label replies to cold sales emails. Answer with one JSON object and nothing else: "
    '{"category": one of ' + ", ".join(CATEGORIES) + ', "confidence": a number from 0 to 1}. '
    "interested: positive without asking a question or for a meeting; meeting_request: asks "
    "for or accepts a call, meeting or demo; information_request: asks a question or for "
    "material; not_interested: declines, including 'not now'; do_not_contact: asks to be "
    "removed or never emailed again; out_of_office: an absence notice; wrong_person: not the "
    "right contact or has left; auto_reply: any other automatic answer; bounce: a delivery "
    "failure notice. The reply may be in English, German, French or Spanish."
)


class LLMError(Exception):
    """The endpoint failed or answered something unusable."""


@dataclass(frozen=True)
class LLMConfig:
    url: str
    model: str
    api_key: str = ""
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> LLMConfig | None:
        url = getattr(settings, "CATEGORISER_LLM_URL", "")
        if not url:
            return None
        return cls(
            url=url.rstrip("/"),
            model=getattr(settings, "CATEGORISER_LLM_MODEL", "") or "gpt-4o-mini",
            api_key=getattr(settings, "CATEGORISER_LLM_API_KEY", ""),
            timeout=float(getattr(settings, "CATEGORISER_LLM_TIMEOUT", 10.0)),
        )


def ask_llm(config: LLMConfig, subject: str, body: str) -> tuple[str, float]:
    """(category, confidence) from the endpoint, or LLMError."""
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    payload = {
        "model": config.model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Subject: {subject}\n\n{body[:4000]}"},
        ],
    }
    try:
        response = requests.post(
            f"{config.url}/chat/completions", json=payload, headers=headers,
            timeout=config.timeout,
        )  # fmt: skip
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        answer = json.loads(_strip_fence(content))
        category = str(answer["category"]).strip().lower()
        confidence = float(answer.get("confidence", 0.8))
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"{type(exc).__name__}") from exc
    if category not in CATEGORIES or not 0.0 <= confidence <= 1.0:
        raise LLMError(f"unusable answer: {category!r}, {confidence!r}")
    return category, confidence


def _strip_fence(content: str) -> str:
    """Models like to wrap JSON in ```json fences."""
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[4:] if text.lower().startswith("json") else text
    return text.strip()
