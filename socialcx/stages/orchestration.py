"""Every stage in order, without Airflow (``socialcx run``), and backfills: the same functions the DAG's tasks call."""

from __future__ import annotations

import functools
from collections.abc import Callable

from socialcx.core.settings import Settings, get_settings
from socialcx.stages.enrichment import enrich
from socialcx.stages.extraction import extract
from socialcx.stages.governing import retain
from socialcx.stages.runs import StageError, new_run_id, parse_day
from socialcx.stages.serving import alert, publish, report
from socialcx.stages.transformation import transform
from socialcx.stages.validation import validate


def backfill(start: str, end: str, *, settings: Settings | None = None, run_id: str | None = None,
             on_stage: Callable[[str, int, int], None] | None = None,
             enrich_progress: Callable[[int, int], None] | None = None,
             extract: bool = False) -> list[dict[str, object]]:
    """Re-process the posts and conversations of ``start``..``end`` (inclusive days) from what raw holds:
    re-enrich the range, rebuild the incremental marts for it (and the lookback), validate, publish, report,
    alert. ``extract=True`` first extracts the configured sources as a normal run does. Re-running it changes
    nothing."""
    start, end = parse_day(start, "--start"), parse_day(end, "--end")
    if start > end:
        raise StageError(f"--start {start} is after --end {end}")
    settings = settings or get_settings()
    return run_all(settings=settings, run_id=run_id or new_run_id("backfill"), on_stage=on_stage,
                   enrich_progress=enrich_progress, reprocess=(start, end),
                   sources=settings.sources if extract else [])


def run_all(*, settings: Settings | None = None, run_id: str | None = None,
            sources: list[str] | None = None, on_stage: Callable[[str, int, int], None] | None = None,
            enrich_progress: Callable[[int, int], None] | None = None, reprocess: tuple[str, str] | None = None,
            **extract_options: object) -> list[dict[str, object]]:
    """Every stage in order, without Airflow: the same functions the DAG's tasks call.

    ``on_stage(name, index, total)`` is called before each stage (the CLI's progress display); each result
    carries its stage's name under ``stage``.
    """
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    steps: list[tuple[str, Callable[..., dict[str, object]]]] = [
        (f"extract_{source}", functools.partial(extract, source, **extract_options))
        for source in (settings.sources if sources is None else sources)
    ]
    dbt_vars = {"backfill_start": reprocess[0], "backfill_end": reprocess[1]} if reprocess else None
    steps += [("enrich", functools.partial(enrich, progress=enrich_progress, reprocess=reprocess)),
              ("transform", functools.partial(transform, dbt_vars=dbt_vars)),
              ("validate", validate), ("alert", alert), ("publish", publish), ("report", report), ("retain", retain)]
    results = []
    for index, (name, step) in enumerate(steps):
        if on_stage:
            on_stage(name, index, len(steps))
        results.append({"stage": name, **step(run_id=run_id, settings=settings)})
    return results
