"""Train the local model from the shipped corpus, reproducibly, and write its artifact.

Only the corpus's `train` split is used; the `heldout` split is for `bench/categorise.py`.
Everything that could vary is fixed: the seed, the folds, the sort order of the vocabularies,
the zip entries' timestamps. The same corpus and library versions give the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from .categories import CATEGORIES
from .cleaning import clean_reply
from .corpus import load_corpus
from .features import char_features, document, word_features
from .model import CORPUS_PATH, MODEL_PATH, file_sha256

SEED = 13
C = 8.0
MIN_DF = 2
_FOLDS = 5
_TEMPERATURES = np.round(np.arange(0.3, 3.01, 0.05), 2)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def training_documents(records: list[dict]) -> list[str]:
    """Subject plus cleaned body, exactly as the categoriser will see them."""
    return [document(r["subject"], clean_reply(r["text"]).body) for r in records]


def _vectorisers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(analyzer=analyse, sublinear_tf=True, min_df=MIN_DF, dtype=np.float64)
        for analyse in (word_features, char_features)
    ]


def _fit(docs: list[str], labels: list[str]):
    vectorisers = _vectorisers()
    matrix = hstack([v.fit_transform(docs) for v in vectorisers]).tocsr()
    classifier = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    classifier.fit(matrix, labels)
    return vectorisers, classifier


def _transform(vectorisers, docs):
    return hstack([v.transform(docs) for v in vectorisers]).tocsr()


def _temperature(docs: list[str], labels: list[str], groups: list[str]) -> float:
    """The softmax temperature that best fits out-of-fold predictions, folds grouped by
    phrasing so the confidence reflects text the model has not seen."""
    logits = np.zeros((len(docs), len(CATEGORIES)))
    for train_idx, test_idx in GroupKFold(n_splits=_FOLDS).split(docs, labels, groups):
        vectorisers, classifier = _fit([docs[i] for i in train_idx], [labels[i] for i in train_idx])
        scores = classifier.decision_function(_transform(vectorisers, [docs[i] for i in test_idx]))
        order = [list(classifier.classes_).index(c) for c in CATEGORIES]
        logits[test_idx] = scores[:, order]
    truth = np.array([CATEGORIES.index(label) for label in labels])
    best, best_loss = 1.0, float("inf")
    for temperature in _TEMPERATURES:
        scaled = logits / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(truth)), truth].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def train(corpus_path: Path = CORPUS_PATH, *, calibrate: bool = True) -> bytes:
    """The artifact's bytes for the corpus's train split."""
    records = [r for r in load_corpus(corpus_path) if r["split"] == "train"]
    docs = training_documents(records)
    labels = [r["category"] for r in records]
    groups = [r["template"] for r in records]
    temperature = _temperature(docs, labels, groups) if calibrate else 1.0
    vectorisers, classifier = _fit(docs, labels)
    order = [list(classifier.classes_).index(c) for c in CATEGORIES]
    meta = {
        "classes": list(CATEGORIES),
        "temperature": temperature,
        "corpus_sha256": file_sha256(corpus_path),
        "trained_on": len(records),
        "seed": SEED,
        "C": C,
        "min_df": MIN_DF,
        "scikit_learn": sklearn.__version__,
    }
    vocabularies = [sorted(v.vocabulary_, key=v.vocabulary_.__getitem__) for v in vectorisers]
    arrays = {
        "word_idf": vectorisers[0].idf_.astype(np.float32),
        "char_idf": vectorisers[1].idf_.astype(np.float32),
        "coef": classifier.coef_[order].astype(np.float32),
        "intercept": classifier.intercept_[order].astype(np.float32),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write(archive, "meta.json", json.dumps(meta, indent=2, sort_keys=True).encode())
        for name, words in zip(("word", "char"), vocabularies, strict=True):
            _write(archive, f"{name}_vocabulary.txt", "\n".join(words).encode("utf-8"))
        for name, array in arrays.items():
            out = io.BytesIO()
            np.save(out, array, allow_pickle=False)
            _write(archive, f"{name}.npy", out.getvalue())
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def write_model(path: Path = MODEL_PATH, corpus_path: Path = CORPUS_PATH) -> dict:
    """Train and write the artifact; answer its metadata."""
    data = train(corpus_path)
    path.write_bytes(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("meta.json"))
