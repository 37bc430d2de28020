"""Train classifiers on examples a user labelled, on top of the rule pipeline.

    socialcx nlp train --data tagged.csv --text-column text --label-column sentiment [--category-column tag
        --category-map map.yml] [--output nlp/models --name mybrand]

A labelled CSV, or a Label Studio JSON export (``nlp sample --format label-studio`` writes the tasks), is read.

- ``socialcx_linear`` (:mod:`nlp.components.linear`) learns the sentiment labels (negative/neutral/positive) and,
  with a category map, the complaint categories, from word and character n-grams and the rules' own reading;
- ``socialcx_blend`` combines them with the rule components; its weights are tuned on a validation split.

The data is split, stratified and seeded, into training (80%, of which 1/8 is validation) and a held-out
20% that nothing is tuned on; the held-out figures are printed and kept in the model's meta.json, with the
figures of the rules alone on the same rows. The regularisation of each head is chosen on the validation
split, then the head is refitted on training and validation together. The model directory is versioned
(``<name>-<UTC timestamp>``); ``socialcx nlp promote`` makes the pipeline use it.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nlp.components.linear import idf
from nlp.evaluate import (
    SENTIMENTS,
    EvaluationInputError,
    category_mapping,
    classification_report,
    evaluate_frame,
    read_labelled,
)
from nlp.pipeline import load_pipeline

C_GRID = (1.0, 3.0, 10.0, 30.0)


def stratified_split(frame: pd.DataFrame, label: str, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    held: list[int] = []
    for _, group in frame.groupby(label):
        index = list(group.index)
        rng.shuffle(index)
        held += index[: max(1, round(len(index) * fraction))]
    return frame.drop(index=held), frame.loc[sorted(held)]


def _fit_head(x_train, y_train: list[str], x_val, y_val: list[str], x_all, y_all: list[str],
              seed: int) -> tuple[dict[str, Any], float]:
    """A multinomial logistic regression: C chosen by validation macro-F1, then refitted on train + validation."""
    from sklearn.linear_model import LogisticRegression

    def fit(x, y, c):
        return LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(x, y)

    scores = {c: classification_report(y_val, list(fit(x_train, y_train, c).predict(x_val)))["macro_f1"]
              for c in C_GRID}
    best = max(scores, key=lambda c: (scores[c], -c))
    model = fit(x_all, y_all, best)
    return {"classes": [str(c) for c in model.classes_], "coef": model.coef_, "intercept": model.intercept_}, best


RULE_WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)


def _cross_validated_head(x, labels: list[str], rules: list[str], seed: int,
                          folds: int = 4) -> tuple[dict[str, Any] | None, float | None, dict[str, float]]:
    """The category head, if it beats the rules. Classes are weighed inversely to their frequency (a rare category
    counts as much in macro-F1). Its probabilities are mixed with the rules' top category, p = (1 - w) p_head +
    w [c = rules' top]; C and w are chosen together by ``folds``-fold cross-validated macro-F1 (category examples
    are few, one validation split of them too noisy to choose by) and compared with the rules alone on the same
    folds. Returns the head refitted on every row (None when the rules do as well), its C, and the figures."""
    from sklearn.linear_model import LogisticRegression

    order = np.random.default_rng(seed).permutation(len(labels))
    fold_of = np.empty(len(labels), dtype=int)
    fold_of[order] = np.arange(len(labels)) % folds
    y = np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    if any(len(set(y[fold_of != k])) < 2 for k in range(folds)):  # too few examples to learn from in a fold
        return None, None, {"rules": classification_report(labels, rules)["macro_f1"]}
    rule_hot = np.array([[float(r == c) for c in classes] for r in rules])

    def fit(rows, c):
        return LogisticRegression(C=c, max_iter=3000, random_state=seed, class_weight="balanced").fit(x[rows], y[rows])

    scores: dict[tuple[float, float], float] = {}
    for c in C_GRID:
        probabilities = np.zeros((len(labels), len(classes)))
        for k in range(folds):
            test, train_rows = np.flatnonzero(fold_of == k), np.flatnonzero(fold_of != k)
            model = fit(train_rows, c)
            columns = [classes.index(str(label)) for label in model.classes_]
            probabilities[np.ix_(test, columns)] = model.predict_proba(x[test])
        for w in RULE_WEIGHTS:
            mixed = (1 - w) * probabilities + w * rule_hot
            scores[c, w] = classification_report(labels, [classes[i] for i in mixed.argmax(axis=1)])["macro_f1"]
    best_c, best_w = max(scores, key=lambda cw: (scores[cw], -cw[0], cw[1]))
    rules_score = classification_report(labels, rules)["macro_f1"]
    figures = {"trained": scores[best_c, best_w], "rules": rules_score, "rule_weight": best_w}
    if scores[best_c, best_w] <= rules_score:
        return None, best_c, figures
    model = fit(np.arange(len(labels)), best_c)
    return {"classes": [str(c) for c in model.classes_], "coef": model.coef_, "intercept": model.intercept_,
            "rule_weight": best_w}, best_c, figures


def data_hash(path: Path) -> str:
    """The SHA-256 of the training file, as the model registry records it."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(data: Path, text_column: str, label_column: str, category_column: str | None = None,
          category_map: Path | None = None, output: Path = Path("nlp/models"), name: str = "custom",
          seed: int = 13, holdout: float = 0.2, industry: str | None = None) -> tuple[Path, dict[str, Any]]:
    frame = read_labelled(data, text_column, label_column, category_column)
    unknown = sorted(set(frame[label_column]) - set(SENTIMENTS))
    if unknown:
        raise EvaluationInputError(f"{label_column} has labels {', '.join(unknown)}; sentiment labels must be "
                                   f"{', '.join(SENTIMENTS)} (map them before training)")
    mapping = category_mapping(frame, category_column, category_map, industry)
    categories = (frame[category_column].map(lambda v: mapping.mapping.get(v) if pd.notna(v) else None)
                  if category_column and mapping else None)
    category_labels = sorted(categories.dropna().unique()) if categories is not None else []

    if holdout > 0:
        rest, held_out = stratified_split(frame, label_column, holdout, seed)
        train_part, validation = stratified_split(rest, label_column, 0.125, seed + 1)
    else:  # every row trains (a benchmark evaluates on rows of its own); the figures are the validation split's
        train_part, validation = stratified_split(frame, label_column, 0.125, seed + 1)
        held_out = validation
    industry = mapping.industry if mapping else "generic"

    nlp, base_version = load_pipeline("default")
    rules_report = evaluate_frame(nlp, held_out, text_column, label_column, category_column, mapping)
    linear = nlp.add_pipe("socialcx_linear", before="socialcx_intent", config={"industry": industry})
    blend = nlp.add_pipe("socialcx_blend", before="socialcx_intent", config={"industry": industry})
    sentiment = nlp.get_pipe("socialcx_sentiment")
    linear.cue_names = sorted(sentiment.cues)
    linear.categories = [name for name, _, _ in nlp.get_pipe("socialcx_categories").taxonomies.get(industry, [])]

    with nlp.select_pipes(enable=["socialcx_language", "socialcx_pii", "socialcx_sentiment", "socialcx_categories"]):
        docs = {part: list(nlp.pipe(f[text_column].astype(str).tolist()))
                for part, f in (("train", train_part), ("validation", validation))}
    word_counts, char_counts = linear.counts([d.text for d in docs["train"]])
    linear.idf_words, linear.idf_chars = idf(word_counts), idf(char_counts)
    x = {part: linear.features(d, sentiment.vader) for part, d in docs.items()}
    x_all = linear.keep_columns(sp.vstack([x["train"], x["validation"]]).tocsr())
    x = {"train": x_all[: len(train_part)], "validation": x_all[len(train_part):]}
    y = {"train": train_part[label_column].tolist(), "validation": validation[label_column].tolist()}
    linear.heads["sentiment"], sentiment_c = _fit_head(x["train"], y["train"], x["validation"], y["validation"],
                                                       x_all, y["train"] + y["validation"], seed)
    category_c, category_cv = None, None
    if category_labels:
        gold = pd.concat([categories.loc[train_part.index], categories.loc[validation.index]])
        keep = np.flatnonzero(gold.notna().to_numpy())
        labels = gold.iloc[keep].tolist()
        hits = [((d._.category_hits or {}).get(industry) or ["none"])[0] for d in docs["train"] + docs["validation"]]
        if len(set(labels)) > 1:
            head, category_c, category_cv = _cross_validated_head(x_all[keep], labels, [hits[i] for i in keep], seed)
            if head is not None:
                linear.heads["category"] = head

    # tune the sentiment blend on the validation split (the head was refitted on it too: it leans to the head)
    blend.rule_weight = max((w / 10 for w in range(11)),
                            key=lambda w: _validation_f1(nlp, validation, text_column, label_column, rule_weight=w))
    # the category head leads wherever it was kept (it beat the rules in cross-validation); else the rules alone
    blend.category_threshold = 0.0 if "category" in linear.heads else 1.01
    nlp.get_pipe_config("socialcx_blend").update({"rule_weight": blend.rule_weight,
                                                  "category_threshold": blend.category_threshold})

    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    nlp.meta.update({"name": f"socialcx_{name}", "version": f"1.0.{version}",
                     "description": f"socialcx rules ({base_version}) blended with linear heads trained on {data}"})
    report = evaluate_frame(nlp, held_out, text_column, label_column, category_column, mapping)
    report["training_rows"], report["validation_rows"], report["rule_weight"] = len(train_part), len(validation), blend.rule_weight
    report["category_threshold"] = blend.category_threshold if "category" in linear.heads else None
    report["category_cross_validation"] = category_cv
    report["regularisation"] = {"sentiment_C": sentiment_c, "category_C": category_c}
    report["rules_macro_f1"], report["rules_category_macro_f1"] = (rules_report["macro_f1"],
                                                                    rules_report.get("category_macro_f1"))
    nlp.meta["performance"] = {"held_out_macro_f1": report["macro_f1"], "held_out_accuracy": report["accuracy"],
                               "held_out_macro_recall": report["macro_recall"],
                               "held_out_category_macro_f1": report.get("category_macro_f1"),
                               "rules_macro_f1": report["rules_macro_f1"],
                               "rules_category_macro_f1": report["rules_category_macro_f1"],
                               "held_out_rows": len(held_out)}
    nlp.meta["training_data"] = {"file": Path(data).name, "sha256": data_hash(data), "rows": len(frame)}
    model_dir = Path(output) / f"{name}-{version}"
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(model_dir)
    report["model_dir"] = str(model_dir)
    return model_dir, report


def _validation_f1(nlp, frame: pd.DataFrame, text: str, label: str, *, rule_weight: float | None = None) -> float:
    blend = nlp.get_pipe("socialcx_blend") if "socialcx_blend" in nlp.pipe_names else None
    if blend is not None and rule_weight is not None:
        blend.rule_weight = rule_weight
    predicted = [d._.sentiment_label or "neutral" for d in nlp.pipe(frame[text].astype(str).tolist())]
    return classification_report(frame[label].tolist(), predicted, SENTIMENTS)["macro_f1"]
