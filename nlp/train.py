"""Train spaCy text classifiers on examples a user labelled, on top of the rule pipeline.

    socialcx nlp train --data tagged.csv --text-column text --label-column sentiment [--category-column tag
        --category-map map.yml] [--output nlp/models --name mybrand]

- ``textcat`` (exclusive, bag of uni- and bigrams) learns the sentiment labels (negative/neutral/positive);
- ``textcat_multilabel`` learns the categories, mapped onto the taxonomy by the category map;
- ``socialcx_blend`` combines them with the rule components; its weights are tuned on a validation split.

The data is split, stratified and seeded, into training (80%, of which 1/8 is validation) and a held-out
20% that nothing is tuned on; the held-out figures are printed and kept in the model's meta.json. The
model directory is versioned (``<name>-<UTC timestamp>``); set ``SOCIALCX_NLP_MODEL`` to it to use it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from spacy.training import Example
from spacy.util import minibatch

from nlp.components import CATEGORY_PREFIX, SENTIMENT_PREFIX
from nlp.evaluate import (
    SENTIMENTS,
    CategoryMap,
    EvaluationInputError,
    classification_report,
    evaluate_frame,
    read_labelled,
)
from nlp.pipeline import load_pipeline

BOW = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
       "no_output_layer": False, "length": 262144}


def stratified_split(frame: pd.DataFrame, label: str, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    held: list[int] = []
    for _, group in frame.groupby(label):
        index = list(group.index)
        rng.shuffle(index)
        held += index[: max(1, round(len(index) * fraction))]
    return frame.drop(index=held), frame.loc[sorted(held)]


def _examples(nlp, frame: pd.DataFrame, text: str, labels: pd.Series, prefix: str,
              classes: list[str]) -> list[Example]:
    """One Example per row, with only this classifier's labels (spaCy validates each textcat on its own)."""
    return [Example.from_dict(nlp.make_doc(str(row_text)), {"cats": {f"{prefix}{c}": float(gold == c) for c in classes}})
            for row_text, gold in zip(frame[text], labels.loc[frame.index], strict=True)]


def _fit(nlp, name: str, examples: list[Example], epochs: int, seed: int, score=None) -> None:
    """Train one component; keep the weights of its best epoch when a validation score is given."""
    component = nlp.get_pipe(name)
    component.initialize(lambda: examples, nlp=nlp)
    optimizer = nlp.create_optimizer()
    best, best_bytes = -1.0, None
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(examples)
        for batch in minibatch(examples, size=16):
            component.update(batch, sgd=optimizer, drop=0.2)
        if score is not None:
            current = score()
            if current > best:
                best, best_bytes = current, component.to_bytes()
    if best_bytes is not None:
        component.from_bytes(best_bytes)


def train(data: Path, text_column: str, label_column: str, category_column: str | None = None,
          category_map: Path | None = None, output: Path = Path("nlp/models"), name: str = "custom",
          epochs: int = 15, seed: int = 13, holdout: float = 0.2) -> tuple[Path, dict[str, Any]]:
    frame = read_labelled(data, text_column, label_column, category_column)
    unknown = sorted(set(frame[label_column]) - set(SENTIMENTS))
    if unknown:
        raise EvaluationInputError(f"{label_column} has labels {', '.join(unknown)}; sentiment labels must be "
                                   f"{', '.join(SENTIMENTS)} (map them before training)")
    mapping = CategoryMap.from_file(category_map) if category_map else None
    if category_column and mapping is None:
        raise EvaluationInputError("--category-column needs --category-map (data set label -> taxonomy category)")
    categories = (frame[category_column].map(lambda v: mapping.mapping.get(v) if pd.notna(v) else None)
                  if category_column and mapping else None)
    category_labels = sorted(categories.dropna().unique()) if categories is not None else []

    rest, held_out = stratified_split(frame, label_column, holdout, seed)
    train_part, validation = stratified_split(rest, label_column, 0.125, seed + 1)

    nlp, base_version = load_pipeline("default")
    textcat = nlp.add_pipe("textcat", before="socialcx_intent", config={"model": BOW})
    for s in SENTIMENTS:
        textcat.add_label(f"{SENTIMENT_PREFIX}{s}")
    if category_labels:
        multilabel = nlp.add_pipe("textcat_multilabel", before="socialcx_intent",
                                  config={"model": {**BOW, "exclusive_classes": False}})
        for c in category_labels:
            multilabel.add_label(f"{CATEGORY_PREFIX}{c}")
    blend = nlp.add_pipe("socialcx_blend", before="socialcx_intent",
                         config={"industry": mapping.industry if mapping else "generic"})

    _fit(nlp, "textcat", _examples(nlp, train_part, text_column, frame[label_column], SENTIMENT_PREFIX, SENTIMENTS),
         epochs, seed, lambda: _validation_f1(nlp, validation, text_column, label_column, trained_only=True))
    if category_labels:
        _fit(nlp, "textcat_multilabel",
             _examples(nlp, train_part, text_column, categories, CATEGORY_PREFIX, category_labels), epochs, seed)

    # tune the blend on the validation split
    blend.rule_weight = max((w / 10 for w in range(11)),
                            key=lambda w: _validation_f1(nlp, validation, text_column, label_column, rule_weight=w))
    if category_labels:
        gold = categories.loc[validation.index]
        keep = gold.notna()

        def category_f1(threshold: float) -> float:
            blend.category_threshold = threshold
            predicted = [((d._.category_hits or {}).get(blend.industry) or ["none"])[0]
                         for d in nlp.pipe(validation.loc[keep, text_column].astype(str))]
            return classification_report(gold[keep].tolist(), predicted)["macro_f1"]

        blend.category_threshold = max((0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.01), key=category_f1)
    nlp.get_pipe_config("socialcx_blend").update({"rule_weight": blend.rule_weight,
                                                  "category_threshold": blend.category_threshold})

    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    nlp.meta.update({"name": f"socialcx_{name}", "version": f"1.0.{version}",
                     "description": f"socialcx rules ({base_version}) blended with textcat trained on {data}"})
    report = evaluate_frame(nlp, held_out, text_column, label_column, category_column, mapping)
    report["training_rows"], report["validation_rows"], report["rule_weight"] = len(train_part), len(validation), blend.rule_weight
    report["category_threshold"] = blend.category_threshold if category_labels else None
    nlp.meta["performance"] = {"held_out_macro_f1": report["macro_f1"], "held_out_accuracy": report["accuracy"],
                               "held_out_category_macro_f1": report.get("category_macro_f1")}
    model_dir = Path(output) / f"{name}-{version}"
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(model_dir)
    report["model_dir"] = str(model_dir)
    return model_dir, report


def _validation_f1(nlp, frame: pd.DataFrame, text: str, label: str, *, trained_only: bool = False,
                   rule_weight: float | None = None) -> float:
    blend = nlp.get_pipe("socialcx_blend") if "socialcx_blend" in nlp.pipe_names else None
    if blend is not None and rule_weight is not None:
        blend.rule_weight = rule_weight
    texts = frame[text].astype(str).tolist()
    if trained_only:
        docs = [nlp.get_pipe("textcat")(nlp.make_doc(t)) for t in texts]
        predicted = [max(SENTIMENTS, key=lambda s, d=d: d.cats.get(f"{SENTIMENT_PREFIX}{s}", 0.0)) for d in docs]
    else:
        predicted = [d._.sentiment_label or "neutral" for d in nlp.pipe(texts)]
    return classification_report(frame[label].tolist(), predicted, SENTIMENTS)["macro_f1"]
