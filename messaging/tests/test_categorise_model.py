"""The shipped model: trained on the shipped corpus, refused when they disagree, rebuilt
identically, and the corpus's split kept apart."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import pytest

from messaging.categorise.categories import CATEGORIES, LANGUAGES
from messaging.categorise.corpus import load_corpus
from messaging.categorise.model import CORPUS_PATH, MODEL_PATH, LocalModel, StaleModelError
from messaging.categorise.training import train


def test_the_committed_model_matches_the_committed_corpus():
    model = LocalModel.load()
    assert model.classes == list(CATEGORIES)
    probabilities = model.probabilities("Re: hi", "Please remove me")
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_a_model_trained_on_another_corpus_is_refused(tmp_path):
    other = tmp_path / "corpus.jsonl"
    other.write_text(CORPUS_PATH.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(StaleModelError):
        LocalModel.load(MODEL_PATH, corpus=other)


def test_training_is_reproducible(tmp_path):
    """Two runs on the same (small) corpus give the same bytes."""
    records = load_corpus(CORPUS_PATH)
    small = tmp_path / "corpus.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for r in records[::12]), encoding="utf-8")
    first, second = train(small, calibrate=False), train(small, calibrate=False)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        meta = json.loads(archive.read("meta.json"))
    assert meta["trained_on"] == sum(1 for r in records[::12] if r["split"] == "train")


def test_the_corpus_has_150_replies_per_category_in_four_languages_and_a_held_out_split():
    records = load_corpus(CORPUS_PATH)
    per_category = Counter(r["category"] for r in records)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 150
    assert {r["language"] for r in records} == set(LANGUAGES)
    train_phrasings = {r["template"] for r in records if r["split"] == "train"}
    held_out = [r for r in records if r["split"] == "heldout"]
    assert held_out
    assert not train_phrasings & {r["template"] for r in held_out}
    assert len({r["id"] for r in records}) == len(records)
