"""The dbt runner: dbt in this process, on the project's dbt project and profile, holding the warehouse lock."""

from __future__ import annotations

import gc
import json
import os
import sys

from socialcx.core.failpoints import dbt_callback
from socialcx.core.settings import Settings, dbt_env, get_settings
from socialcx.core.warehouse import open_warehouse
from socialcx.stages.runs import StageError

# The vars every pipeline dbt command passes (a backfill fills them in), as the DAG's cosmos tasks pass them too
# (dags/socialcx_pipeline.py, BACKFILL_VARS). dbt keeps its parse of the project between commands only while the
# command line's vars, --profile and --target stay the same: one command without them re-parsed the whole project
# (5-10 s) at every run, the producer's `dbt build` after the validate stage's `dbt source freshness`.
PIPELINE_VARS = {"backfill_start": "", "backfill_end": ""}


def pipeline_flags(settings: Settings, dbt_vars: dict[str, str] | None = None) -> list[str]:
    """--profile, --target and --vars as every dbt command of the pipeline names them (cosmos' tasks included)."""
    unknown = set(dbt_vars or {}) - set(PIPELINE_VARS)
    if unknown:
        raise ValueError(f"unknown dbt var(s) {sorted(unknown)}: the pipeline passes {sorted(PIPELINE_VARS)}")
    return ["--profile", "socialcx", "--target", settings.target,
            "--vars", json.dumps({**PIPELINE_VARS, **(dbt_vars or {})}, sort_keys=True)]


def file_log_flags() -> list[str]:
    """dbt's own log file (dbt_project/logs/dbt.log) at INFO: each node's start, end and timing, warnings, errors.
    At DEBUG, dbt's default, it also holds every SQL statement, connection and cache step, a few MB a build,
    formatted and written by the threads that build the models under one lock. ``DBT_LOG_LEVEL_FILE`` set in the
    environment (``debug`` to see every statement) wins."""
    return [] if os.environ.get("DBT_LOG_LEVEL_FILE") else ["--log-level-file", "info"]


def run_dbt(args: list[str], settings: Settings, dbt_vars: dict[str, str] | None = None) -> object:
    """Run a dbt command in-process on the project's dbt project and profile, with the pipeline's vars
    (``dbt_vars`` fills some in); its result, failed or not. ``parse`` leaves the warehouse alone."""
    from dbt.cli.main import dbtRunner

    from socialcx.stages.freshness import write_sources_file

    parse_only = args[:1] == ["parse"]  # reads no data: no PostgreSQL connection needed, no file lock held
    # A build or a freshness check would write manifest.json twice (after parsing, and again at the end) and its
    # results as JSON: 1.2 s of a 0.1% run at 1M posts (session 22). The manifest is `dbt parse`'s (make
    # dbt-manifest), which the DAG renders from; the results are read from the invocation, and a build's
    # run_results.json is still written below, for whoever looks at the last build.
    quiet = args[:1] == ["build"] or args[:2] == ["source", "freshness"]
    os.environ.update(dbt_env(settings, connection=not parse_only))
    write_sources_file(settings)  # the configured sources' freshness checks, from the registry
    project = str(settings.dbt_project_dir)
    # dbt-duckdb opens the file itself and does not retry a lock another process holds. Holding our own
    # connection first (with retries) makes this process the lock holder; dbt's connections in this process
    # then share the same DuckDB instance instead of asking for the lock.
    # dbt records sys.argv as its invocation command in logs/ and target/: ours may name a person (forget)
    argv, sys.argv = sys.argv, ["dbt", *args]
    command = [*args, *(["--no-write-json"] if quiet else []), *file_log_flags(), "--project-dir", project,
               "--profiles-dir", project, *pipeline_flags(settings, dbt_vars)]
    try:
        if settings.target == "postgres" or parse_only:  # a server, or no query: no file lock to hold
            result = dbtRunner(callbacks=[dbt_callback]).invoke(command)
        else:
            with open_warehouse(settings.warehouse, retries=settings.lock_retries):
                result = dbtRunner(callbacks=[dbt_callback]).invoke(command)
    finally:
        sys.argv = argv
    if args[:1] == ["build"] and hasattr(result.result, "write"):
        result.result.write(str(settings.dbt_project_dir / "target" / "run_results.json"))
    return result


def node_results(result) -> list:
    """The results of a dbt command's nodes (models, seeds, tests, sources), without the project's on-run-end hook,
    which dbt lists among them for every command (`dbt source freshness` and `dbt test` too)."""
    return [node for node in getattr(result.result, "results", None) or []
            if str(getattr(node.node, "resource_type", "")) != "operation"]


def dbt_invoke(args: list[str], settings: Settings | None = None, dbt_vars: dict[str, str] | None = None) -> object:
    """Run a dbt command in-process; a failure raises StageError naming each failed node."""
    settings = settings or get_settings()
    result = run_dbt(args, settings, dbt_vars)
    if not result.success:
        failed, incremental, changed_schema = [], set(), set()
        nodes = getattr(result.result, "results", None) or []
        models = incremental_models(settings, nodes)
        for node in nodes:
            if str(node.status) in ("error", "fail"):
                failed.append(f"{node.node.resource_type} {node.node.name}: {node.message}")
                if str(node.node.resource_type) == "model":
                    if node.node.unique_id in models and _built_by_an_older_version(str(node.message)):
                        changed_schema.add(models[node.node.unique_id])
                    continue
                # a failing test: the incremental model it tests keeps the bad rows it found
                attached = getattr(node.node, "attached_node", None)
                tested = [attached] if attached else list(getattr(getattr(node.node, "depends_on", None), "nodes", []) or [])
                incremental |= {models[n] for n in tested if n in models}
        detail = "; ".join(failed) or str(result.exception)
        hint = ""
        if changed_schema:
            names = sorted(changed_schema)
            hint = (f". The columns of {' '.join(names)} changed in this version of socialcx: rebuild with "
                    f"`socialcx transform --full-refresh --select {' '.join(name + '+' for name in names)}`")
        elif incremental:
            # an incremental model keeps a bad row until it is rebuilt: every later run would fail on it again
            names = " ".join(sorted(incremental))
            hint = (f". {names} {'is' if len(incremental) == 1 else 'are'} incremental and keep(s) the bad rows until "
                    f"rebuilt: fix the input, then rebuild with `socialcx transform --full-refresh --select {names}` "
                    "or re-process the affected days with `socialcx backfill --start YYYY-MM-DD --end YYYY-MM-DD`")
        raise StageError(f"dbt {args[0]} failed: {detail}{hint}")
    return result


def _built_by_an_older_version(message: str) -> bool:
    """An incremental model's table does not have the columns this version builds: dbt's on_schema_change check
    ("out of sync"), or the incremental SQL reading its mark column (changed_at) from a table built before the model
    had one (DuckDB: 'Referenced column "changed_at" not found'; PostgreSQL: 'column ... "changed_at" does not
    exist')."""
    return "out of sync" in message or ('"changed_at"' in message and ("not found" in message
                                                                        or "does not exist" in message))


def incremental_models(settings: Settings, results: list | tuple = ()) -> dict[str, str]:
    """unique_id -> name of the project's incremental models: those among a command's ``results`` (a build's
    models, as this version of the project configures them), and the others `dbt parse` wrote to the manifest."""
    found = {node.node.unique_id: node.node.name for node in results
             if str(node.node.resource_type) == "model"
             and getattr(getattr(node.node, "config", None), "materialized", None) == "incremental"}
    try:
        manifest = json.loads((settings.dbt_project_dir / "target" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return found
    return {**{uid: node["name"] for uid, node in manifest.get("nodes", {}).items()
               if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "incremental"},
            **found}


def release_dbt_connections() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in this process (it would hold the file's lock)."""
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
