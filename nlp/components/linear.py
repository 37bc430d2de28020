"""Linear heads trained by ``socialcx nlp train``: word and character n-grams plus the rules' own reading.

One feature row per post, three blocks side by side:

- word 1-2-grams (handles and links replaced by ``@user`` and ``http``; hashtags, ``!`` and ``?`` kept as tokens),
  TF-IDF weighted with sublinear counts, L2-normalised;
- character 2-5-grams inside word boundaries (misspellings, elongations, hashtags glued together, emoji),
  weighted the same way;
- the rules' reading: their score and label, VADER's compound, positive and negative shares, and each cue family's
  hit count (capped at 3), so the classifier learns how far to trust each rule on the team's own posts.

A multinomial logistic regression per head (sentiment; complaint category, which also sees the rule categories
and whose probabilities are mixed with the rules' top category by a weight training chose) turns the row into
probabilities, written to ``doc.cats`` as ``sentiment:*`` and ``category:*`` for
:class:`nlp.components.blend.Blend`. The n-grams are hashed (scikit-learn's ``HashingVectorizer``), so the model
is the IDF vectors and the coefficients: stored as a NumPy ``.npz`` read with ``allow_pickle=False`` and a JSON
file, never a pickle, so loading a model directory cannot run code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from spacy.language import Language
from spacy.tokens import Doc

from nlp.components.base import state
from nlp.components.blend import CATEGORY_PREFIX, SENTIMENT_PREFIX

HANDLE = re.compile(r"@\w+")
LINK = re.compile(r"https?://\S+")
WORD_FEATURES, CHAR_FEATURES = 2**18, 2**19


def _clean(text: str) -> str:
    return LINK.sub(" http ", HANDLE.sub(" @user ", text))


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(ngram_range=(1, 2), n_features=WORD_FEATURES, alternate_sign=False, norm=None,
                              token_pattern=r"(?u)[#@]?\b\w+\b|[!?]")
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=CHAR_FEATURES,
                              alternate_sign=False, norm=None)
    return words, chars


def idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency, as scikit-learn's TfidfTransformer computes it."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return np.log((1 + counts.shape[0]) / (1 + df)) + 1.0


def _weigh(counts: sp.csr_matrix, idf_vector: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF times IDF, each row L2-normalised."""
    weighted = counts.astype(np.float64)
    weighted.data = 1.0 + np.log(weighted.data)
    weighted = weighted.multiply(idf_vector).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(weighted.multiply(1.0 / norms[:, None]))


class LinearHeads:
    """Trained linear classifiers over n-grams and rule features (see the module docstring)."""

    def __init__(self, industry: str = "generic") -> None:
        self.industry = industry
        self.words, self.chars = _vectorizers()
        self.cue_names: list[str] = []
        self.categories: list[str] = []  # the rule categories the category head sees as features
        self.idf_words = np.ones(WORD_FEATURES)
        self.idf_chars = np.ones(CHAR_FEATURES)
        self.heads: dict[str, dict[str, Any]] = {}  # name -> {"classes", "coef", "intercept"}
        self.columns: np.ndarray | None = None  # the feature columns the training data has: the heads see these only

    # --- features ---------------------------------------------------------------------------------------------
    def counts(self, texts: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        cleaned = [_clean(t) for t in texts]
        return self.words.transform(cleaned), self.chars.transform(cleaned)

    def rule_features(self, docs: list[Doc], vader: Any) -> np.ndarray:
        rows = []
        for doc in docs:
            st = state(doc)
            cues = st["cues"] or {}
            label = st["sentiment_label"]
            polarity = vader.polarity_scores(_clean(st["text"])) if st["is_english"] else {}
            hits = (st["category_hits"] or {}).get(self.industry, [])
            rows.append([st["sentiment_score"] or 0.0, label == "negative", label == "neutral", label == "positive",
                         polarity.get("compound", 0.0), polarity.get("pos", 0.0), polarity.get("neg", 0.0)]
                        + [min(cues.get(name, 0), 3) / 3 for name in self.cue_names]
                        + [(c in hits) + (bool(hits) and hits[0] == c) for c in self.categories])
        return np.asarray(rows, dtype=np.float64)

    def features(self, docs: list[Doc], vader: Any) -> sp.csr_matrix:
        words, chars = self.counts([state(d)["text"] for d in docs])
        matrix = sp.hstack([_weigh(words, self.idf_words), _weigh(chars, self.idf_chars),
                            sp.csr_matrix(self.rule_features(docs, vader))]).tocsr()
        return matrix if self.columns is None else matrix[:, self.columns]

    def keep_columns(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """Keep the n-gram columns ``matrix`` (the training rows) uses, and every rule column: a hashed space has
        786k columns, of which a few thousand training posts use a few percent (fitting is 7x faster)."""
        rules = np.arange(WORD_FEATURES + CHAR_FEATURES, matrix.shape[1])
        self.columns = np.union1d(np.unique(matrix.indices), rules).astype(np.int64)
        return matrix[:, self.columns]

    def probabilities(self, head: str, matrix: sp.csr_matrix) -> np.ndarray:
        spec = self.heads[head]
        logits = matrix @ spec["coef"].T + spec["intercept"]
        if len(spec["classes"]) == 1:
            return np.ones((matrix.shape[0], 1))
        if spec["coef"].shape[0] == 1:  # binary: scikit-learn keeps one row, for the second class
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1 - p, p])
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    # --- the component ----------------------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Any, batch_size: int = 1000) -> Any:
        from nlp.components.sentiment import vader_analyzer

        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch, vader_analyzer())
                batch = []
        if batch:
            yield from self._annotate(batch, vader_analyzer())

    def _annotate(self, docs: list[Doc], vader: Any) -> list[Doc]:
        matrix = self.features(docs, vader)
        for head, prefix in (("sentiment", SENTIMENT_PREFIX), ("category", CATEGORY_PREFIX)):
            if head not in self.heads:
                continue
            classes = self.heads[head]["classes"]
            weight = float(self.heads[head].get("rule_weight", 0.0))
            for doc, row in zip(docs, self.probabilities(head, matrix), strict=True):
                if weight:  # the category head's probabilities mixed with the rules' top category
                    top = ((state(doc)["category_hits"] or {}).get(self.industry) or [None])[0]
                    row = (1 - weight) * row + weight * np.array([float(c == top) for c in classes])
                doc.cats.update({f"{prefix}{c}": float(p) for c, p in zip(classes, row, strict=True)})
        return docs

    # --- storage: arrays and JSON, no pickle ------------------------------------------------------------------
    def to_disk(self, path: str | Path, exclude: Any = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays = {"idf_words": self.idf_words, "idf_chars": self.idf_chars}
        if self.columns is not None:
            arrays["columns"] = self.columns
        for head, spec in self.heads.items():
            arrays[f"{head}_coef"], arrays[f"{head}_intercept"] = spec["coef"], spec["intercept"]
            arrays[f"{head}_rule_weight"] = np.array(float(spec.get("rule_weight", 0.0)))
        np.savez_compressed(path / "linear.npz", **arrays)
        (path / "linear.json").write_text(json.dumps({
            "industry": self.industry, "cue_names": self.cue_names, "categories": self.categories,
            "heads": {head: spec["classes"] for head, spec in self.heads.items()}}, indent=1), encoding="utf-8")

    def from_disk(self, path: str | Path, exclude: Any = ()) -> LinearHeads:
        path = Path(path)
        spec = json.loads((path / "linear.json").read_text(encoding="utf-8"))
        with np.load(path / "linear.npz", allow_pickle=False) as arrays:
            self.idf_words, self.idf_chars = arrays["idf_words"], arrays["idf_chars"]
            self.columns = arrays["columns"] if "columns" in arrays.files else None
            self.heads = {head: {"classes": list(classes), "coef": arrays[f"{head}_coef"],
                                 "intercept": arrays[f"{head}_intercept"],
                                 "rule_weight": float(arrays[f"{head}_rule_weight"])
                                 if f"{head}_rule_weight" in arrays.files else 0.0}
                          for head, classes in spec["heads"].items()}
        self.industry, self.cue_names, self.categories = spec["industry"], spec["cue_names"], spec["categories"]
        return self


@Language.factory("socialcx_linear", default_config={"industry": "generic"})
def make_linear(nlp: Language, name: str, industry: str) -> LinearHeads:
    return LinearHeads(industry)
