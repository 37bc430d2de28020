"""Evaluate a pipeline on any labelled CSV: accuracy, macro-F1, per-class figures and the confusion matrix.

    socialcx nlp evaluate --data tweets.csv --text-column text --label-column sentiment \
        [--category-column reason --category-map nlp/category_maps/twitter_airline_sentiment.yml] [--model DIR] [--json]

Sentiment labels are compared lower-cased. Posts the pipeline leaves unscored (not English) count as
"neutral" predictions and are reported. Categories: each row's gold label is mapped onto the taxonomy with
the category map; rows whose label maps to null are left out; the prediction is the strongest category
of the map's industry ("none" when there is none).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SENTIMENTS = ["negative", "neutral", "positive"]


class EvaluationInputError(ValueError):
    """The data or the category map cannot be used; the message names the problem."""


def classification_report(gold: list[str], predicted: list[str], labels: list[str] | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold labels, per-class precision/recall/F1 and the confusion matrix."""
    labels = labels or sorted(set(gold))
    columns = labels + sorted(set(predicted) - set(labels))
    per_class = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": tp + fn}
    confusion = {g: {p: sum(x == g and y == p for x, y in zip(gold, predicted, strict=True)) for p in columns}
                 for g in labels}
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / n, 4) if n else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(per_class), 4) if per_class else 0.0,
        "macro_recall": round(sum(c["recall"] for c in per_class.values()) / len(per_class), 4) if per_class else 0.0,
        "per_class": per_class,
        "confusion": confusion,
    }


@dataclass
class CategoryMap:
    industry: str
    mapping: dict[str, str | None]

    @classmethod
    def from_file(cls, path: Path) -> CategoryMap:
        try:
            spec = yaml.safe_load(Path(path).read_text())
            return cls(industry=spec.get("industry", "generic"), mapping=dict(spec["map"]))
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise EvaluationInputError(f"category map {path} cannot be used ({exc}); it needs 'industry:' and "
                                       "'map:' (data set label: taxonomy category or null)") from exc


def category_mapping(frame: pd.DataFrame, category_column: str | None, category_map: Path | None,
                     industry: str | None = None) -> CategoryMap | None:
    """The category map, or, for a file labelled in the taxonomy's own names (``nlp sample`` output), the identity
    map of its labels in ``industry`` ("none" and blanks: no category)."""
    if category_map:
        return CategoryMap.from_file(category_map)
    if not category_column:
        return None
    labels = {str(v) for v in frame[category_column].dropna()}
    return CategoryMap(industry=industry or "generic",
                       mapping={label: (None if label.strip().lower() in ("", "none") else label) for label in labels})


def read_labelled(data: Path, text_column: str, label_column: str, category_column: str | None = None) -> pd.DataFrame:
    """A labelled CSV, or a Label Studio JSON export (``.json``: one column per question, see nlp/labelling.py).
    Rows without a text or a label are left out (a sampled file's rows nobody labelled yet)."""
    if Path(data).suffix.lower() == ".json":
        from nlp.labelling import read_label_studio

        frame = read_label_studio(Path(data))
    else:
        try:
            frame = pd.read_csv(data)
        except (OSError, ValueError) as exc:
            raise EvaluationInputError(f"cannot read {data}: {exc}") from exc
        if text_column in frame.columns:  # `nlp sample` wrote formula-like texts behind an apostrophe
            from nlp.labelling import spreadsheet_unsafe

            frame[text_column] = pd.Series([spreadsheet_unsafe(v) for v in frame[text_column]], index=frame.index,
                                           dtype=object)
    missing = [c for c in (text_column, label_column, category_column) if c and c not in frame.columns]
    if missing:
        raise EvaluationInputError(f"{data} has no column {', '.join(missing)} (columns: {', '.join(frame.columns)})")
    frame = frame.dropna(subset=[text_column, label_column]).reset_index(drop=True)
    frame[label_column] = frame[label_column].astype(str).str.strip().str.lower()
    return frame


SPLITS = ("all", "tune", "half")


def select_split(frame: pd.DataFrame, text_column: str, split: str = "all") -> pd.DataFrame:
    """The rows of one half of a labelled file, the same halves whatever the file's row order.

    ``tune`` is the half the rules are tuned on; ``half`` the other one, which nothing is tuned on. A row's half
    is the parity of the first byte of the SHA-256 of its whitespace-normalised text, so a copy of a tweet lands
    in the same half as the tweet.
    """
    if split not in SPLITS:
        raise EvaluationInputError(f"--split {split} is not one of {', '.join(SPLITS)}")
    if split == "all":
        return frame
    parity = frame[text_column].astype(str).map(
        lambda t: hashlib.sha256(" ".join(t.split()).encode("utf-8")).digest()[0] % 2)
    return frame[parity == (0 if split == "tune" else 1)].reset_index(drop=True)


def predict(nlp, texts: list[str], industry: str = "generic", batch_size: int = 1000) -> pd.DataFrame:
    rows = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        hits = doc._.category_hits or {}
        cats = hits.get(industry, hits.get("generic", []))
        rows.append({"sentiment": doc._.sentiment_label, "category": cats[0] if cats else "none"})
    return pd.DataFrame(rows)


def evaluate(data: Path, text_column: str, label_column: str, category_column: str | None = None,
             category_map: Path | None = None, model: str = "default", split: str = "all",
             industry: str | None = None) -> dict[str, Any]:
    from nlp.pipeline import load_pipeline

    frame = select_split(read_labelled(data, text_column, label_column, category_column), text_column, split)
    mapping = category_mapping(frame, category_column, category_map, industry)
    nlp, version = load_pipeline(model)
    report = evaluate_frame(nlp, frame, text_column, label_column, category_column, mapping)
    report.update({"pipeline_version": version, "data": str(data) if split == "all" else f"{data} ({split} split)"})
    return report


def evaluate_frame(nlp, frame: pd.DataFrame, text_column: str, label_column: str, category_column: str | None,
                   mapping: CategoryMap | None) -> dict[str, Any]:
    version = f"{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"
    predicted = predict(nlp, frame[text_column].astype(str).tolist(), mapping.industry if mapping else "generic")
    predicted.index = frame.index
    unscored = int(predicted["sentiment"].isna().sum())
    gold = frame[label_column].tolist()
    # macro figures over the classes the gold labels hold: a class nobody labelled has no F1 to average
    labels = [s for s in SENTIMENTS if s in gold] if set(gold) <= set(SENTIMENTS) else sorted(set(gold))
    report = classification_report(gold, predicted["sentiment"].fillna("neutral").tolist(), labels)
    report.update({"pipeline_version": version, "unscored": unscored, "data": "held-out split"})
    if category_column:
        if mapping is None:
            raise EvaluationInputError("--category-column needs --category-map (data set label -> taxonomy category)")
        raw = frame[category_column]
        unknown = sorted({str(v) for v in raw.dropna()} - set(mapping.mapping))
        if unknown:
            raise EvaluationInputError(f"category map has no entry for {', '.join(unknown)}; map them (or to null)")
        gold_cats = raw.map(lambda v: mapping.mapping.get(v) if pd.notna(v) else None)
        keep = gold_cats.notna()
        categories = classification_report(gold_cats[keep].tolist(), predicted.loc[keep[keep].index, "category"].tolist())
        report.update({"category_macro_f1": categories["macro_f1"], "category_accuracy": categories["accuracy"],
                       "category_macro_recall": categories["macro_recall"],
                       "category_n": categories["n"], "category_per_class": categories["per_class"],
                       "category_confusion": categories["confusion"], "category_industry": mapping.industry})
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [f"data: {report['data']}  pipeline: {report['pipeline_version']}  n: {report['n']}  "
             f"unscored (not English): {report['unscored']}",
             f"sentiment accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
             f"macro-recall {report['macro_recall']:.4f}", ""]

    def table(per_class: dict[str, Any], confusion: dict[str, dict[str, int]]) -> list[str]:
        out = [f"{'class':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        out += [f"{label:<20}{c['precision']:>10.4f}{c['recall']:>10.4f}{c['f1']:>10.4f}{c['support']:>9}"
                for label, c in per_class.items()]
        columns = list(next(iter(confusion.values())).keys()) if confusion else []
        out += ["", "confusion (rows: gold, columns: predicted)", " " * 20 + "".join(f"{c[:9]:>10}" for c in columns)]
        out += [f"{g[:19]:<20}" + "".join(f"{row[c]:>10}" for c in columns) for g, row in confusion.items()]
        return out

    lines += table(report["per_class"], report["confusion"])
    if "category_macro_f1" in report:
        lines += ["", f"categories ({report['category_industry']} taxonomy, n {report['category_n']}): "
                      f"accuracy {report['category_accuracy']:.4f}  macro-F1 {report['category_macro_f1']:.4f}  "
                      f"macro-recall {report['category_macro_recall']:.4f}", ""]
        lines += table(report["category_per_class"], report["category_confusion"])
    return "\n".join(lines)
