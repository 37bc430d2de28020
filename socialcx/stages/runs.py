"""Run bookkeeping: run ids, the errors a stage raises, and ``ops.runs``, one row per stage and run."""

from __future__ import annotations

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


@contextmanager
def recorded(settings: Settings, run_id: str, stage: str) -> Iterator[dict[str, object]]:
    """Time a stage and record it in ops.runs (a row per stage and run, written when it ends)."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    info: dict[str, object] = {}
    status = "failed"
    try:
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
