"""The dbt runner: dbt in this process, on the project's dbt project and profile, holding the warehouse lock."""

from __future__ import annotations

import json
import os
import sys

from socialcx.core.failpoints import dbt_callback
from socialcx.core.settings import Settings, get_settings
from socialcx.core.warehouse import open_warehouse
from socialcx.stages.runs import StageError


def dbt_env(settings: Settings, *, connection: bool = True) -> dict[str, str]:
    """Environment for dbt: the target, the warehouse as an absolute path (and, with ``connection``, PostgreSQL's
    parts for profiles.yml; the DAG passes none: cosmos maps the Airflow connection when a task runs), no usage
    statistics."""
    env = {"SOCIALCX_TARGET": settings.target, "SOCIALCX_WAREHOUSE": str(settings.warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    if settings.target == "postgres" and connection:
        from socialcx.core.postgres import configured_url

        env.update(configured_url().env())
    return env


def run_dbt(args: list[str], settings: Settings) -> object:
    """Run a dbt command in-process on the project's dbt project and profile; its result, failed or not."""
    from dbt.cli.main import dbtRunner

    from socialcx.stages.freshness import write_sources_file

    os.environ.update(dbt_env(settings))
    write_sources_file(settings)  # the configured sources' freshness checks, from the registry
    project = str(settings.dbt_project_dir)
    # dbt-duckdb opens the file itself and does not retry a lock another process holds. Holding our own
    # connection first (with retries) makes this process the lock holder; dbt's connections in this process
    # then share the same DuckDB instance instead of asking for the lock.
    # dbt records sys.argv as its invocation command in logs/ and target/: ours may name a person (forget)
    argv, sys.argv = sys.argv, ["dbt", *args]
    command = [*args, "--project-dir", project, "--profiles-dir", project]
    try:
        if settings.target == "postgres":  # a server: no file lock to hold
            return dbtRunner(callbacks=[dbt_callback]).invoke(command)
        with open_warehouse(settings.warehouse, retries=settings.lock_retries):
            return dbtRunner(callbacks=[dbt_callback]).invoke(command)
    finally:
        sys.argv = argv


def dbt_invoke(args: list[str], settings: Settings | None = None) -> object:
    """Run a dbt command in-process; a failure raises StageError naming each failed node."""
    settings = settings or get_settings()
    result = run_dbt(args, settings)
    if not result.success:
        failed, incremental, changed_schema = [], set(), set()
        models = incremental_models(settings)
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail"):
                failed.append(f"{node.node.resource_type} {node.node.name}: {node.message}")
                if str(node.node.resource_type) == "model":
                    if node.node.unique_id in models and "out of sync" in str(node.message):
                        changed_schema.add(models[node.node.unique_id])
                    continue
                # a failing test: the incremental model it tests keeps the bad rows it found
                attached = getattr(node.node, "attached_node", None)
                tested = [attached] if attached else list(getattr(getattr(node.node, "depends_on", None), "nodes", []) or [])
                incremental |= {models[n] for n in tested if n in models}
        detail = "; ".join(failed) or str(result.exception)
        hint = ""
        if changed_schema:
            names = " ".join(sorted(changed_schema))
            hint = (f". The columns of {names} changed in this version of socialcx: rebuild with "
                    f"`socialcx transform --full-refresh --select {names}+`")
        elif incremental:
            # an incremental model keeps a bad row until it is rebuilt: every later run would fail on it again
            names = " ".join(sorted(incremental))
            hint = (f". {names} {'is' if len(incremental) == 1 else 'are'} incremental and keep(s) the bad rows until "
                    f"rebuilt: fix the input, then rebuild with `socialcx transform --full-refresh --select {names}` "
                    "or re-process the affected days with `socialcx backfill --start YYYY-MM-DD --end YYYY-MM-DD`")
        raise StageError(f"dbt {args[0]} failed: {detail}{hint}")
    return result


def incremental_models(settings: Settings) -> dict[str, str]:
    """unique_id -> name of the project's incremental models, from the manifest dbt just wrote."""
    try:
        manifest = json.loads((settings.dbt_project_dir / "target" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {uid: node["name"] for uid, node in manifest.get("nodes", {}).items()
            if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "incremental"}


def release_dbt_connections() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in this process (it would hold the file's lock)."""
    import gc

    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    environment = DuckDBConnectionManager._ENV  # dbt-duckdb keeps the database open between invocations
    if environment is not None and getattr(environment, "conn", None) is not None:
        environment.conn.close()
        environment.conn = None
    reset_adapters()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()
