"""The labelling loop: pick posts for a person to label, read their labels back, compare models on them.

    socialcx nlp sample --n 300 --strategy uncertain --out round1.csv [--format label-studio]
    (label the file: fill the sentiment and category columns, or label the tasks in Label Studio and export JSON)
    socialcx nlp train --data round1.csv --text-column text --label-column sentiment --name mybrand
    socialcx nlp compare --data round1-test.csv --models current nlp/models/mybrand-...
    socialcx nlp promote nlp/models/mybrand-...

Posts are sampled from the warehouse, customers' English posts only, as their redacted text: the file a labeller
receives holds no e-mail, card, phone number or booking reference. Strategies:

- ``uncertain``: the lowest sentiment confidence first (what the model is least sure of teaches it most);
- ``stratified``: the same number of posts per predicted sentiment, in a seeded random order;
- ``disagreement``: posts on which the current model and a second opinion disagree, least confident first.
  The second opinion is the rule pipeline when a trained model is promoted, else VADER alone.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from nlp.evaluate import EvaluationInputError

STRATEGIES = ("uncertain", "stratified", "disagreement")
# what Label Studio shows: the post and two single-choice questions (Settings > Labeling Interface > Code)
LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="negative"/><Choice value="neutral"/><Choice value="positive"/>
  </Choices>
  <Choices name="category" toName="text" choice="single">
{categories}
  </Choices>
</View>
"""

CANDIDATES = """
with latest as (
    select * from enriched.post_nlp
    qualify row_number() over (partition by source, post_id order by enriched_at desc) = 1
)
select latest.source, latest.post_id, latest.text_redacted as text, latest.sentiment_label,
       latest.sentiment_confidence, latest.primary_category, latest.industry, latest.pipeline_version,
       md5(cast(? as varchar) || ':' || latest.source || ':' || latest.post_id) as _key  -- a seeded random order
from latest
join raw.posts as posts on posts.source = latest.source and posts.post_id = latest.post_id
where posts.is_inbound and not posts.is_deleted and latest.is_english and latest.text_redacted is not null
"""


def sample(con: duckdb.DuckDBPyConnection, n: int, strategy: str, model: str, seed: int = 7) -> pd.DataFrame:
    """``n`` posts to label, by ``strategy``; ``model`` is the one enrichment uses (for ``disagreement``)."""
    if strategy not in STRATEGIES:
        raise EvaluationInputError(f"--strategy {strategy} is not one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise EvaluationInputError("--n must be at least 1")
    frame = con.execute(CANDIDATES, [seed]).df()
    if frame.empty:
        raise EvaluationInputError("the warehouse has no enriched customer posts to sample; run `socialcx run` first")
    if strategy == "uncertain":
        picked = frame.sort_values(["sentiment_confidence", "_key"]).head(n)
    elif strategy == "stratified":
        per_class = -(-n // max(frame["sentiment_label"].nunique(), 1))
        picked = (frame.sort_values("_key").groupby("sentiment_label", group_keys=False).head(per_class)
                  .sort_values("_key").head(n))
    else:
        pool = frame.sort_values(["sentiment_confidence", "_key"]).head(max(20 * n, 2000))
        pool = pool.assign(second_opinion=second_opinion(pool["text"].tolist(), model))
        picked = pool[pool["second_opinion"] != pool["sentiment_label"]].head(n)
    out = picked.rename(columns={"sentiment_label": "predicted_sentiment", "primary_category": "predicted_category",
                                 "sentiment_confidence": "confidence", "pipeline_version": "model_version"})
    columns = ["source", "post_id", "text", "predicted_sentiment", "predicted_category", "confidence", "industry",
               "model_version"] + (["second_opinion"] if strategy == "disagreement" else [])
    out = out[columns].reset_index(drop=True)
    out["sentiment"], out["category"] = "", ""  # for the labeller
    return out


def second_opinion(texts: list[str], model: str) -> list[str]:
    """The rule pipeline's sentiment when a trained model is in use, else VADER's alone (compound ±0.05)."""
    if model not in ("", "default"):
        from nlp.pipeline import load_pipeline

        nlp, _ = load_pipeline("default")
        return [d._.sentiment_label or "neutral" for d in nlp.pipe(texts)]
    from nlp.components.sentiment import vader_analyzer

    vader = vader_analyzer()

    def label(text: str) -> str:
        compound = vader.polarity_scores(text)["compound"]
        return "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"

    return [label(t) for t in texts]


def write(frame: pd.DataFrame, out: Path, fmt: str, categories: list[str]) -> list[Path]:
    """The sample as CSV, or as Label Studio tasks (JSON) with their labelling config beside them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        # a spreadsheet runs a cell that starts like a formula ("=HYPERLINK(...)" posted by anyone): such cells are
        # written behind an apostrophe, which the spreadsheet shows as text and read_labelled takes off again
        safe = frame.copy()
        for column in ("text", "predicted_category", "second_opinion"):
            if column in safe:
                safe[column] = pd.Series([spreadsheet_safe(v) for v in safe[column]], index=safe.index, dtype=object)
        safe.to_csv(out, index=False)
        return [out]
    tasks = []
    for row in frame.itertuples(index=False):
        result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": [row.predicted_sentiment]}}]
        if isinstance(row.predicted_category, str) and row.predicted_category:
            result.append({"from_name": "category", "to_name": "text", "type": "choices",
                           "value": {"choices": [row.predicted_category]}})
        tasks.append({"data": {"text": row.text, "source": row.source, "post_id": row.post_id,
                               "industry": row.industry},
                      "predictions": [{"model_version": row.model_version, "score": float(row.confidence or 0.0),
                                       "result": result}]})
    out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    config = out.with_suffix(".label-config.xml")
    choices = "\n".join(f'    <Choice value="{escape(c, quote=True)}"/>' for c in ["none", *categories])
    config.write_text(LABEL_CONFIG.format(categories=choices), encoding="utf-8")
    return [out, config]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` behind an apostrophe when a spreadsheet would read it as a formula (OWASP's CSV injection rule)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def spreadsheet_unsafe(value: object) -> object:
    """The inverse of :func:`spreadsheet_safe`, for files it wrote."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def read_label_studio(path: Path) -> pd.DataFrame:
    """A Label Studio JSON export as a frame: the task's data fields, plus one column per question (``from_name``)
    holding the first non-cancelled annotation's choice. Tasks nobody annotated are left out."""
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationInputError(f"cannot read {path} as a Label Studio JSON export: {exc}") from exc
    if not isinstance(tasks, list):
        raise EvaluationInputError(f"{path} is not a Label Studio JSON export (a list of tasks); export the project "
                                   "as JSON (not JSON-MIN or CSV)")
    rows: list[dict[str, Any]] = []
    for task in tasks:
        annotations = [a for a in (task.get("annotations") or []) if not a.get("was_cancelled")]
        if not isinstance(task, dict) or not annotations:
            continue
        row = dict(task.get("data") or {})
        for region in annotations[0].get("result") or []:
            choices = (region.get("value") or {}).get("choices")
            if region.get("type") == "choices" and choices:
                row[region.get("from_name")] = choices[0]
        rows.append(row)
    return pd.DataFrame(rows)


def compare(reports: dict[str, dict[str, Any]]) -> str:
    """Side-by-side figures of two models on the same labelled rows, with per-class deltas (second - first)."""
    (first, a), (second, b) = list(reports.items())
    lines = [f"{'':<24}{first[-30:]:>32}{second[-30:]:>32}{'delta':>10}"]

    def row(name: str, x: float | None, y: float | None) -> None:
        if x is None or y is None:
            return
        lines.append(f"{name:<24}{x:>32.4f}{y:>32.4f}{y - x:>+10.4f}")

    for key in ("accuracy", "macro_f1", "macro_recall"):
        row(f"sentiment {key}", a[key], b[key])
    for label in a["per_class"]:
        row(f"  {label} F1", a["per_class"][label]["f1"], b["per_class"].get(label, {}).get("f1"))
    if "category_macro_f1" in a:
        for key in ("category_accuracy", "category_macro_f1"):
            row(key.replace("_", " "), a[key], b[key])
        for label in a["category_per_class"]:
            row(f"  {label} F1", a["category_per_class"][label]["f1"],
                b["category_per_class"].get(label, {}).get("f1"))
    lines.append(f"rows: {a['n']} (sentiment), {a.get('category_n', 0)} (category)")
    return "\n".join(lines)
