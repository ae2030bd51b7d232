"""The trained model, read from its artifact and applied with numpy alone.

The artifact (`data/model.zip`) holds the two vocabularies, their idf weights, the logistic
regression's weights and the calibration temperature, as plain arrays: no pickle, so loading
runs no code, does not depend on the scikit-learn version, and takes a few tens of
milliseconds. It also records the sha256 of the corpus it was trained on; a model that does not
match the shipped corpus is refused (retrain with `manage.py train_categoriser`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import char_features, document, word_features

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA_DIR / "model.zip"
CORPUS_PATH = DATA_DIR / "corpus.jsonl"


class StaleModelError(RuntimeError):
    """The model was trained on another corpus than the one shipped beside it."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class _Block:
    """One vectoriser's share of the feature space: feature -> column, and its idf."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int


class LocalModel:
    """TF-IDF (word and character n-grams) and a calibrated multinomial logistic regression."""

    def __init__(self, meta: dict, blocks: list[_Block], coef: np.ndarray, intercept: np.ndarray):
        self.meta = meta
        self.classes: list[str] = meta["classes"]
        self.temperature: float = meta["temperature"]
        self._blocks = blocks
        self._analysers = (word_features, char_features)
        # Features x classes, so one reply's columns are a row gather.
        self._weights = np.ascontiguousarray(coef.T, dtype=np.float64)
        self._intercept = intercept

    @classmethod
    def load(cls, path: Path = MODEL_PATH, corpus: Path | None = CORPUS_PATH) -> LocalModel:
        """Read the artifact; with `corpus`, refuse it unless trained on that exact file."""
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("meta.json"))
            arrays = {
                name: np.load(io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False)
                for name in ("word_idf", "char_idf", "coef", "intercept")
            }
            vocabularies = [
                archive.read(f"{name}_vocabulary.txt").decode("utf-8").split("\n")
                for name in ("word", "char")
            ]
        if corpus is not None and meta["corpus_sha256"] != file_sha256(corpus):
            raise StaleModelError(
                f"{path.name} was trained on another corpus than {corpus.name}; "
                "run `manage.py train_categoriser`."
            )
        blocks, offset = [], 0
        for words, idf in zip(vocabularies, (arrays["word_idf"], arrays["char_idf"]), strict=True):
            blocks.append(_Block({w: i for i, w in enumerate(words)}, idf, offset))
            offset += len(words)
        return cls(meta, blocks, arrays["coef"], arrays["intercept"])

    def probabilities(self, subject: str, body: str) -> dict[str, float]:
        """Calibrated probability of each category."""
        doc = document(subject, body)
        columns, values = [], []
        for block, analyse in zip(self._blocks, self._analysers, strict=True):
            get = block.vocabulary.get
            found = [
                (col, n) for f, n in Counter(analyse(doc)).items() if (col := get(f)) is not None
            ]
            if not found:
                continue
            cols = np.fromiter((c for c, _ in found), dtype=np.int64, count=len(found))
            counts = np.fromiter((n for _, n in found), dtype=np.float64, count=len(found))
            weights = (1.0 + np.log(counts)) * block.idf[cols]  # sublinear tf x idf
            columns.append(cols + block.offset)
            values.append(weights / np.sqrt(weights @ weights))  # l2 per block
        logits = self._intercept.astype(np.float64)
        if columns:
            logits = logits + np.concatenate(values) @ self._weights[np.concatenate(columns)]
        scaled = logits / self.temperature
        exp = np.exp(scaled - scaled.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))
