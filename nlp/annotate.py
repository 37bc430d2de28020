"""Annotating posts with the pipeline: in the enrich stage's process or in its worker processes.

Kept apart from :mod:`nlp.enrich` so that a spawned worker imports spaCy and the pipeline only, not pandas
and DuckDB (a second of every worker's start-up).
"""

from __future__ import annotations

from nlp.components import state
from nlp.pipeline import load_pipeline


def categories_for(hits: dict[str, list[str]], industry: str) -> list[str]:
    """Categories from the industry's own taxonomy, or from the generic one when it has none."""
    return hits[industry] if industry in hits else hits.get("generic", [])


COLUMNS = ("lang", "is_english", "text_redacted", "pii_kinds", "sentiment_label", "sentiment_score",
           "sentiment_confidence", "categories", "primary_category", "intent", "is_churn_threat", "is_legal_safety",
           "is_public_shaming", "urgency")


def _annotate(nlp, texts: list[str], industry: str, inbound: bool, batch_size: int) -> list[tuple]:
    """Rows of COLUMNS for posts of one industry and direction. Brand posts get no complaint categories."""
    if inbound:
        docs = nlp.pipe(texts, batch_size=batch_size,
                        component_cfg={"socialcx_categories": {"industries": [industry]}})
    else:
        with nlp.select_pipes(disable=[p for p in ("socialcx_categories", "textcat_multilabel") if p in nlp.pipe_names]):
            docs = list(nlp.pipe(texts, batch_size=batch_size))
    rows = []
    for doc in docs:
        x = state(doc)
        cats = categories_for(x["category_hits"], industry) if inbound and x["is_english"] and x["category_hits"] else []
        rows.append((x["lang"], x["is_english"], x["text_redacted"], x["pii_kinds"], x["sentiment_label"],
                     x["sentiment_score"], x["sentiment_confidence"], cats, cats[0] if cats else None, x["intent"],
                     x["is_churn_threat"], x["is_legal_safety"], x["is_public_shaming"], x["urgency"]))
    return rows


_WORKER_NLP = None


def _worker(job: tuple[list[str], str, bool, int]) -> list[tuple]:
    return _annotate(_WORKER_NLP, *job)


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to end this worker when the process that started it dies (SIGKILL included), so a killed
    enrich stage leaves no orphaned workers holding memory. Elsewhere a no-op: the pool's own shutdown remains."""
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _load_worker(model: str, parent_pid: int | None = None) -> None:
    global _WORKER_NLP
    if parent_pid is not None:
        die_with_parent(parent_pid)
    _WORKER_NLP = load_pipeline(model)[0]
