"""The pipeline's stages as plain functions: the CLI and the Airflow tasks both call these.

Each stage opens the warehouse itself and closes it before returning, so stages can run in separate
processes (Airflow tasks) one after another. Each returns a small dict of counts, which Airflow keeps
in XCom and the CLI prints.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from socialcx.settings import Settings, get_settings
from socialcx.warehouse import open_warehouse, scalar, table_counts, transaction

log = logging.getLogger(__name__)


SOURCES = ("sample", "file", "x", "crm")


class StageError(RuntimeError):
    """A stage failed for a reason the user can act on; the message says which and how."""


class ValidationFailed(StageError):
    pass


def new_run_id(prefix: str = "manual") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"


@contextmanager
def _recorded(settings: Settings, run_id: str, stage: str) -> Iterator[dict[str, object]]:
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


def extract(source: str, *, run_id: str | None = None, settings: Settings | None = None,
            **options: object) -> dict[str, object]:
    """Load one source into raw through ``extractors.<source>.extract.run``; options depend on the source."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    if source not in SOURCES:
        raise StageError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}. "
                         "Set SOCIALCX_SOURCES to a comma-separated list of them")
    with _recorded(settings, run_id, f"extract_{source}") as info:
        from extractors.load import SourceError

        module = importlib.import_module(f"extractors.{source}.extract")

        def read(query: Callable[..., object]) -> object:
            with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
                return query(con)

        try:
            if hasattr(module, "prepare"):
                # network first, with no lock held: readers and other stages are not blocked while an API
                # makes us wait; then a short write
                options = {**options, "prepared": module.prepare(read, settings, **options)}
            with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
                results = module.run(con, settings, run_id, **options)
        except SourceError as exc:
            raise StageError(str(exc)) from exc
        info["tables"] = [r.as_dict() for r in results]
        info["read"] = sum(r.read for r in results)
        info["loaded"] = sum(r.loaded for r in results)
        info["quarantined"] = sum(r.quarantined for r in results)
    return {"source": source, "run_id": run_id, **info}


def enrich(*, run_id: str | None = None, settings: Settings | None = None,
           progress: Callable[[int, int], None] | None = None,
           reprocess: tuple[str, str] | None = None) -> dict[str, object]:
    """Annotate new or changed posts; ``reprocess=(start, end)`` re-annotates every post of those days too."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "enrich") as info:
        from nlp.enrich import enrich as enrich_posts

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            if reprocess:
                with transaction(con):  # a crash after this only leaves them pending: the next run enriches them
                    info["reprocessed"] = scalar(con, REPROCESS_COUNT, list(reprocess))
                    con.execute(REPROCESS_DELETE, list(reprocess))
            result = enrich_posts(con, model=settings.nlp_model, batch_size=settings.nlp_batch_size,
                                  chunk_size=settings.nlp_chunk_size, processes=settings.nlp_processes,
                                  progress=progress)
            info.update(result.as_dict())
    return {"run_id": run_id, **info}


def retain(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Raw-text retention: enriched posts older than SOCIALCX_RAW_TEXT_RETENTION_DAYS keep only their redacted
    text (socialcx/retention.py)."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "retain") as info:
        from socialcx.retention import expire_raw_text

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            info.update(expire_raw_text(con, settings.raw_text_retention_days))
    return {"run_id": run_id, **info}


# posts of a date range whose enrichment a backfill redoes (not those past raw-text retention: their original
# text is gone, their enrichment is what remains of it)
_REPROCESS_POSTS = """
select source, post_id from raw.posts
where created_at::date between ? and ?
  and (source, post_id) not in (select source, post_id from raw.text_expired)
"""
REPROCESS_COUNT = f"select count(*) from enriched.post_nlp where (source, post_id) in ({_REPROCESS_POSTS})"
REPROCESS_DELETE = f"delete from enriched.post_nlp where (source, post_id) in ({_REPROCESS_POSTS})"


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for dbt: the warehouse as an absolute path, no usage statistics."""
    return {"SOCIALCX_WAREHOUSE": str(settings.warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}


def _run_dbt(args: list[str], settings: Settings) -> object:
    """Run a dbt command in-process on the project's dbt project and profile; its result, failed or not."""
    from dbt.cli.main import dbtRunner

    from socialcx.failpoints import dbt_callback

    os.environ.update(dbt_env(settings))
    project = str(settings.dbt_project_dir)
    # dbt-duckdb opens the file itself and does not retry a lock another process holds. Holding our own
    # connection first (with retries) makes this process the lock holder; dbt's connections in this process
    # then share the same DuckDB instance instead of asking for the lock.
    # dbt records sys.argv as its invocation command in logs/ and target/: ours may name a person (forget)
    import sys

    argv, sys.argv = sys.argv, ["dbt", *args]
    try:
        with open_warehouse(settings.warehouse, retries=settings.lock_retries):
            return dbtRunner(callbacks=[dbt_callback]).invoke([*args, "--project-dir", project,
                                                               "--profiles-dir", project])
    finally:
        sys.argv = argv


def dbt_invoke(args: list[str], settings: Settings | None = None) -> object:
    """Run a dbt command in-process; a failure raises StageError naming each failed node."""
    settings = settings or get_settings()
    result = _run_dbt(args, settings)
    if not result.success:
        failed, incremental, changed_schema = [], set(), set()
        models = _incremental_models(settings)
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


def _incremental_models(settings: Settings) -> dict[str, str]:
    """unique_id -> name of the project's incremental models, from the manifest dbt just wrote."""
    try:
        manifest = json.loads((settings.dbt_project_dir / "target" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {uid: node["name"] for uid, node in manifest.get("nodes", {}).items()
            if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "incremental"}


def transform(*, run_id: str | None = None, settings: Settings | None = None,
              select: str | None = None, dbt_vars: dict[str, str] | None = None,
              full_refresh: bool = False) -> dict[str, object]:
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "transform") as info:
        # unit tests check the models' logic, not the data: `make test` runs them, the hourly build need not
        args = ["build", "--exclude-resource-type", "unit_test"] + (["--select", select] if select else [])
        if full_refresh:  # incremental models rebuilt from scratch (the repair for a bad row they kept)
            args.append("--full-refresh")
        if dbt_vars:
            args += ["--vars", json.dumps(dbt_vars)]
        result = dbt_invoke(args, settings)
        statuses: dict[str, int] = {}
        for node in result.result.results:
            statuses[str(node.status)] = statuses.get(str(node.status), 0) + 1
        info["nodes"] = statuses
    return {"run_id": run_id, **info}


def _extract_sources(settings: Settings) -> list[str]:
    """The configured sources that have an extract, and so a freshness check."""
    return [s for s in settings.sources if s in SOURCES]


def source_freshness(settings: Settings) -> list[dict[str, object]]:
    """dbt source freshness of each configured source's last extract, as two checks per source: past the
    warn threshold (a warning) and past the error threshold (critical)."""
    selected = _extract_sources(settings)
    if not selected:
        return []
    # a stale source is a result here, not an error: the checks below judge it
    result = _run_dbt(["source", "freshness", "--output", str(settings.dbt_project_dir / "target" / "sources.json"),
                       "--select", *[f"source:extracts.{s}" for s in selected]], settings)
    checks = []
    for node in getattr(result.result, "results", None) or []:
        status = str(node.status)
        source = node.node.name
        age = getattr(node, "age", None)
        observed = {"status": status, "age_hours": round(age / 3600, 2) if age is not None else None}
        if status == "runtime error":
            observed["error"] = str(getattr(node, "message", ""))[:300]
        checks.append({"suite": "dbt__source_freshness", "severity": "warning", "expectation": "fresher_than_warn_after",
                       "column": source, "success": status == "pass", "observed": observed})
        checks.append({"suite": "dbt__source_freshness", "severity": "critical", "expectation": "fresher_than_error_after",
                       "column": source, "success": status in ("pass", "warn"), "observed": observed})
    return checks


def _start_source_freshness(settings: Settings) -> Callable[[], list[dict[str, object]]]:
    """Start :func:`source_freshness` in a child process; returns a function waiting for its checks.

    Importing Great Expectations takes ~6 s and dbt ~3 s, both in Python: in one process they queue behind
    each other, in two they run on both cores. The child holds the warehouse lock only while dbt reads
    raw.extract_state, before this process opens the warehouse for the suites. Where dbt already runs in this
    process, freshness runs here.
    """
    import sys

    if not _extract_sources(settings):
        return lambda: []
    if "dbt.cli.main" in sys.modules:
        # dbt already ran in this process (socialcx run, forget): it costs nothing here, and the warehouse
        # connection dbt-duckdb keeps open would refuse a child the lock
        checks = source_freshness(settings)
        return lambda: checks
    import subprocess
    import tempfile

    from socialcx.logs import scrub

    handle, output = tempfile.mkstemp(prefix="socialcx-freshness-", suffix=".json")
    os.close(handle)
    env = {**os.environ, **dbt_env(settings), "SOCIALCX_SOURCES": ",".join(settings.sources),
           "SOCIALCX_DBT_PROJECT_DIR": str(settings.dbt_project_dir), "SOCIALCX_LOCK_RETRIES": str(settings.lock_retries)}
    child = subprocess.Popen([sys.executable, "-m", "socialcx.stages", "source-freshness", output], env=env,
                             stderr=subprocess.PIPE, text=True)

    def checks() -> list[dict[str, object]]:
        _, errors = child.communicate()
        try:
            if child.returncode != 0:
                raise StageError(f"dbt source freshness failed (exit {child.returncode}): {scrub(errors[-2000:])}")
            return json.loads(Path(output).read_text(encoding="utf-8"))
        finally:
            Path(output).unlink(missing_ok=True)

    return checks


def validate(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Run dbt source freshness and the GX suites. Raises ValidationFailed, naming every failed critical check."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "validate") as info:
        freshness_checks = _start_source_freshness(settings)
        import great_expectations  # noqa: F401  (imported while dbt runs in the child)

        from expectations.checkpoints import private_tempdir, run_validations
        from socialcx.publish import record_fingerprint

        freshness = freshness_checks()
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con, private_tempdir():
            outcome = run_validations(con, run_id, docs_dir=settings.reports_dir / "data_docs",
                                      extra_checks=freshness)
            if outcome.success:  # what publish may publish: exactly these marts, byte for byte
                record_fingerprint(con, run_id)
        info.update(outcome.as_dict())
        if not outcome.success:
            names = "; ".join(f"{f['suite']}: {f['expectation']}({f['column']}) observed {f['observed']}"
                              for f in outcome.failures)
            raise ValidationFailed(f"{len(outcome.failures)} critical check(s) failed, nothing will be published: {names}")
    return {"run_id": run_id, **info}


def publish(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "publish") as info:
        from socialcx.publish import PublishRefused
        from socialcx.publish import publish as publish_marts

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            try:
                manifest = publish_marts(con, settings.publish_dir, run_id)
            except PublishRefused as exc:
                raise StageError(str(exc)) from exc
            from socialcx.privacy import complete_requests
            from socialcx.publish import prune_versions

            if complete_requests(con):  # a forget whose re-publish failed is finished by this publish
                manifest["pruned"] = [*manifest.get("pruned", []), *prune_versions(settings.publish_dir, keep=1)]
        info.update(manifest)
    return {"run_id": run_id, **info}


def report(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Build reports/latest/index.html from the published marts (what BI readers see, never the working file)."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "report") as info:
        from socialcx.report import build_report

        try:
            info.update(build_report(settings.published_warehouse, settings.reports_dir / "latest", run_id=run_id))
        except FileNotFoundError as exc:
            raise StageError(str(exc)) from exc
    return {"run_id": run_id, **info}


def alert(*, run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Send new alerts (spikes, urgent or negative posts unanswered past SLA) through the configured channels."""
    settings = settings or get_settings()
    run_id = run_id or new_run_id()
    with _recorded(settings, run_id, "alert") as info:
        from socialcx.alerts import send_new

        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            info.update(send_new(con, settings, run_id))
    return {"run_id": run_id, **info}


def parse_day(value: str, name: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError as exc:
        raise StageError(f"{name} {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-01") from exc


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
              ("validate", validate), ("publish", publish), ("report", report), ("alert", alert), ("retain", retain)]
    results = []
    for index, (name, step) in enumerate(steps):
        if on_stage:
            on_stage(name, index, len(steps))
        results.append({"stage": name, **step(run_id=run_id, settings=settings)})
    return results


# the headline figures as marts.mart_service_summary defines them: rounded for the terminal, not recomputed
HEADLINE_KPIS = """
select
    brand,
    conversation_count as convs,
    round(response_rate, 3) as resp_rate,
    round(median_first_response_minutes, 1) as frt_min,
    round(median_first_response_business_minutes, 1) as frt_bus_min,
    round(within_sla_rate, 3) as in_sla,
    round(resolution_rate, 3) as resolved,
    round(handoff_rate, 3) as handoff,
    round(recovery_rate, 3) as recovered,
    round(non_english_actionable_share, 3) as non_en,
from marts.mart_service_summary
order by brand
"""


def summary(settings: Settings | None = None) -> dict[str, object]:
    """Rows per stage, headline KPIs per brand and where the outputs are."""
    settings = settings or get_settings()
    with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
        rows = {schema: table_counts(con, schema) for schema in ("raw", "enriched", "marts")}
        kpis = []
        if "mart_service_summary" in rows["marts"]:
            cursor = con.execute(HEADLINE_KPIS)
            columns = [d[0] for d in cursor.description]
            kpis = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        quarantined = scalar(con, "select count(*) from raw.quarantine")
    return {"rows": rows, "kpis": kpis, "quarantined": quarantined, "warehouse": str(settings.warehouse),
            "published": str(settings.published_warehouse), "parquet": str(settings.publish_dir / "parquet"),
            "data_docs": str(settings.reports_dir / "data_docs" / "index.html"),
            "report": str(settings.reports_dir / "latest" / "index.html")}


class ForgetIncomplete(StageError):
    """The erasure is done in the working warehouse and registered, but re-publishing it failed."""


def release_dbt_connections() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in this process (it would hold the file's lock)."""
    import gc
    import sys

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


def forget(*, author: str | None = None, post: str | None = None, emails: list[str] | None = None,
           run_id: str | None = None, settings: Settings | None = None) -> dict[str, object]:
    """Erase a person (``author``: id, handle or CRM customer id; ``emails`` matched too) or one post
    (``post``: source:post_id) everywhere, register it so no extract brings it back, then rebuild, validate and
    re-publish (the publish stage completes the pending request and drops every older published version and
    leftover copy), redact dbt's logs and artefacts and the reports, and compact the working file. If
    re-publishing fails, ForgetIncomplete says what is still published and how to finish."""
    from socialcx.privacy import compact, forget_author, forget_post, redact_files, still_published

    settings = settings or get_settings()
    run_id = run_id or new_run_id("forget")
    if bool(author) == bool(post):
        raise StageError("say what to forget: --author ID (a person) or --post SOURCE:POST_ID (one post)")
    with _recorded(settings, run_id, "forget") as info:
        with open_warehouse(settings.warehouse, retries=settings.lock_retries) as con:
            if author:
                erasure = forget_author(con, author, emails)
            else:
                source, _, post_id = str(post).partition(":")
                if not post_id:
                    raise StageError("--post must be SOURCE:POST_ID, e.g. file:1234")
                erasure = forget_post(con, source, post_id)
        info.update(erasure.as_dict())
    identifiers = erasure.identifiers
    try:
        enrich(run_id=run_id, settings=settings)
        transform(run_id=run_id, settings=settings)
        validate(run_id=run_id, settings=settings)
        published = publish(run_id=run_id, settings=settings)
        report(run_id=run_id, settings=settings)
    except StageError as exc:
        left = still_published(settings.published_warehouse, settings.publish_dir / "parquet", identifiers)
        where = ("still published: " + "; ".join(f"{k} ({v} row(s))" for k, v in left.items())) if left else (
            "the published files hold none of the identifiers")
        raise ForgetIncomplete(
            f"erasure {erasure.request_id} is done in the working warehouse and registered (no extract will load "
            f"the data again), but re-publishing failed: {exc}. {where}. To finish: fix the failure above, then run "
            "`socialcx run` (or `socialcx transform && socialcx validate && socialcx publish && socialcx report`); "
            "the request stays pending in ops.erasure_requests until a publish succeeds") from None
    info["versions_pruned"] = published.get("pruned", [])
    dbt_dir = settings.dbt_project_dir
    info["files_redacted"] = len(redact_files([dbt_dir / "logs", dbt_dir / "target", settings.reports_dir],
                                              identifiers))
    release_dbt_connections()
    info["compacted"] = compact(settings.warehouse)
    return {"run_id": run_id, **info, "republished": published.get("published_at")}


if __name__ == "__main__":  # python -m socialcx.stages source-freshness OUTPUT.json (see _start_source_freshness)
    import sys

    from socialcx.logs import install

    logging.basicConfig(level=logging.WARNING)
    install()
    if sys.argv[1:2] != ["source-freshness"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -m socialcx.stages source-freshness OUTPUT.json")
    Path(sys.argv[2]).write_text(json.dumps(source_freshness(get_settings()), default=str), encoding="utf-8")
