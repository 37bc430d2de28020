"""Run bookkeeping: run ids, the errors a stage raises, and ``ops.runs``, one row per stage and run."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from socialcx.core.settings import Settings
from socialcx.core.warehouse import open_warehouse

log = logging.getLogger(__name__)


class StageError(RuntimeError):
    """A stage failed for a reason the user can act on; the message says which and how."""


class ValidationFailed(StageError):
    pass


def new_run_id(prefix: str = "manual") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"


def parse_day(value: str, name: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError as exc:
        raise StageError(f"{name} {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-01") from exc


_frozen = 0  # how many stages are under way in this process: the outermost freezes and unfreezes


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """While a stage runs, Python's cyclic garbage collector leaves alone the objects the process held before it
    began: its full collections walk only what the stage made.

    A stage allocates enough to set off several full collections, and each walks every object the process holds:
    under `airflow dags test` Airflow's, its execution API's, spaCy's and dbt's too, about a million at 1M posts,
    0.4-0.7 s a collection. At 1M the producer's dbt build spent 1.7 s in them, the same build in `socialcx run`
    0.6 s (gc.callbacks, benchmarks/README.md, session 33). `gc.freeze()` moves what exists to a generation no
    collection walks; `gc.unfreeze()`, once the stage has ended, gives it back to the oldest one, so a cycle that
    became garbage meanwhile is collected as before, only later. Reference counting frees everything else as usual,
    and what the stage itself made is collected as always: a dbt connection it opened and let go of still closes
    (`release_dbt_connections`). Only the outermost of nested stages (a transform inside `forget`) freezes."""
    global _frozen
    if _frozen == 0:
        gc.freeze()
    _frozen += 1
    try:
        yield
    finally:
        _frozen -= 1
        if _frozen == 0:
            gc.unfreeze()


@contextmanager
def recorded(settings: Settings, run_id: str, stage: str) -> Iterator[dict[str, object]]:
    """Time a stage and record it in ops.runs (a row per stage and run, written when it ends); the objects the
    process held before it are left out of its garbage collections (`long_lived_frozen`)."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    info: dict[str, object] = {}
    status = "failed"
    try:
        with long_lived_frozen():
            yield info
        status = "success"
    finally:
        info["seconds"] = round(time.perf_counter() - t0, 2)
        try:
            with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
                con.execute(
                    "insert into ops.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, stage, started, datetime.now(UTC), status, info.get("read"),
                     info.get("loaded"), info.get("quarantined"), str(info)[:2000]],
                )
        except Exception as exc:  # bookkeeping must never hide the stage's own outcome
            log.warning("could not record stage %s in ops.runs: %s", stage, exc)
