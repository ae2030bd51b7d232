"""Categorise one reply: clean it, try the rules, then the LLM (if configured), then the model.

The result carries what the inbox needs beside the category: how sure, where the answer came
from, the return date of an absence and the contact a `wrong_person` reply points to.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from .categories import ReplyCategory
from .cleaning import clean_reply
from .dates import find_return_date
from .html import html_to_text
from .llm import LLMConfig, LLMError, ask_llm
from .model import LocalModel
from .referral import Referral, find_referral
from .rules import match_rules

logger = logging.getLogger(__name__)
MAX_MACHINE_CONFIDENCE = 0.999


@dataclass(frozen=True)
class Categorisation:
    """One reply's category and what it yielded."""

    category: str
    confidence: float
    source: str  # "rule", "llm" or "model"
    reason: str = ""
    returns_on: dt.date | None = None
    referral: Referral | None = None
    probabilities: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict:
        """The JSON shape of `manage.py categorise_replies` and the API."""
        out: dict = {"category": self.category, "confidence": round(self.confidence, 4)}
        if self.returns_on:
            out["returns_on"] = self.returns_on.isoformat()
        if self.referral:
            out["referral"] = self.referral.as_dict()
        return out


class Categoriser:
    """Holds the loaded model; one per process is enough (see `default_categoriser`)."""

    def __init__(self, model: LocalModel | None = None, llm: LLMConfig | None = None):
        self.model = model or LocalModel.load()
        self.llm = llm

    def categorise(
        self,
        subject: str,
        text: str,
        *,
        html: str = "",
        reference_date: dt.date | None = None,
        exclude_emails: tuple[str, ...] = (),
    ) -> Categorisation:
        """`html` is read when there is no text; `reference_date` is the day the reply arrived
        (dates without a year are read relative to it); `exclude_emails` are addresses that
        are not a referral (the sender's own)."""
        subject = subject or ""
        if not (text or "").strip() and html:
            text = html_to_text(html)
        body = clean_reply(text or "").body
        rule = match_rules(subject, text or "", body)
        probabilities: dict[str, float] = {}
        if rule:
            category, confidence, source, reason = (
                rule.category,
                rule.confidence,
                "rule",
                rule.reason,
            )
        else:
            answer = self._ask_llm(subject, body) if self.llm else None
            if answer:
                (category, confidence), source, reason = answer, "llm", ""
            else:
                probabilities = self.model.probabilities(subject, body)
                category = max(probabilities, key=probabilities.__getitem__)
                confidence, source, reason = probabilities[category], "model", ""
        # A machine is never certain: 1.0 is kept for a person's correction.
        confidence = min(float(confidence), MAX_MACHINE_CONFIDENCE)
        returns_on = referral = None
        if category == ReplyCategory.OUT_OF_OFFICE:
            returns_on = find_return_date(f"{subject}\n{body}", reference_date or dt.date.today())
        elif category == ReplyCategory.WRONG_PERSON:
            referral = find_referral(body, exclude=exclude_emails)
        return Categorisation(
            category=str(category), confidence=confidence, source=source, reason=reason,
            returns_on=returns_on, referral=referral, probabilities=probabilities,
        )  # fmt: skip

    def _ask_llm(self, subject: str, body: str) -> tuple[str, float] | None:
        try:
            return ask_llm(self.llm, subject, body)
        except LLMError as exc:
            logger.warning("LLM categoriser failed (%s); using the local model", exc)
            return None


_default: Categoriser | None = None
_lock = threading.Lock()


def default_categoriser() -> Categoriser:
    """The process's categoriser, loaded on first use (the model takes ~50 ms to read)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Categoriser(llm=LLMConfig.from_settings())
    return _default


def categorise(subject: str, text: str, **kwargs) -> Categorisation:
    """Categorise with the process's categoriser."""
    return default_categoriser().categorise(subject, text, **kwargs)
