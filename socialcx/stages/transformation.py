"""The transform stage: ``dbt build`` of the models and their data tests."""

from __future__ import annotations

import time

from socialcx.core.settings import Settings, get_settings
from socialcx.stages.dbt import dbt_invoke, node_results
from socialcx.stages.runs import new_run_id, recorded


def sync_to_postgres(settings: Settings, *, back: bool = False) -> dict[str, int]:
    """Copy what extract and enrich wrote to the working DuckDB file (the raw and enriched schemas) into the
    PostgreSQL warehouse, in one PostgreSQL transaction, before dbt builds there. With ``back``, the other way:
    the marts dbt built in PostgreSQL into the working file, in one DuckDB transaction, where validation, the
    published files, the report and the alerts read them."""
    from socialcx.core import postgres
    from socialcx.core.warehouse import open_warehouse

    with open_warehouse(settings.warehouse, retries=settings.lock_retries) as duck:
        pg = postgres.connect()
        try:
            return postgres.copy_to_duckdb(pg, duck, "marts") if back else postgres.copy_from_duckdb(duck, pg)
        finally:
            pg.close()


def transform(*, run_id: str | None = None, settings: Settings | None = None,
              select: str | None = None, dbt_vars: dict[str, str] | None = None,
              full_refresh: bool = False) -> dict[str, object]:
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with recorded(settings, run_id, "transform") as info:
        if settings.target == "postgres":
            started = time.perf_counter()
            info["synced_rows"] = sync_to_postgres(settings)
            info["sync_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        # unit tests check the models' logic, not the data: `make test` runs them, the hourly build need not
        args = ["build", "--exclude-resource-type", "unit_test"] + (["--select", select] if select else [])
        if full_refresh:  # incremental models rebuilt from scratch (the repair for a bad row they kept)
            args.append("--full-refresh")
        result = dbt_invoke(args, settings, dbt_vars)
        info["dbt_seconds"] = round(time.perf_counter() - started, 2)
        if settings.target == "postgres":
            started = time.perf_counter()
            info["mirrored_rows"] = sync_to_postgres(settings, back=True)
            info["mirror_seconds"] = round(time.perf_counter() - started, 2)
        statuses: dict[str, int] = {}
        for node in node_results(result):
            statuses[str(node.status)] = statuses.get(str(node.status), 0) + 1
        info["nodes"] = statuses
    return {"run_id": run_id, **info}
