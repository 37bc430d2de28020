"""Run the expectation suites against the working warehouse and keep the results.

GX reads data frames taken from DuckDB: GX's SQL datasource on DuckDB reads results after the
connection closes and silently fails every expectation, so it is not used. Each suite module in
``expectations/suites`` holds a query, a suite builder and its parameters; its ``severity`` (critical
or warning) decides whether a failure blocks publishing.

**Validating what changed.** A suite with a ``PARTITION`` (an expression over its query's columns, e.g. the
day a post was written) is checked only on the partitions whose content changed since they last passed. Each
run computes, in SQL over the whole query, every partition's row count and an order-independent checksum of
its rows (``sum(hash(row))``); a partition whose checksum differs from the one stored in
``ops.validation_digests`` when it last passed is checked whole by GX, together with every row elsewhere that
shares a ``KEY`` with its rows (so a duplicate key across partitions is still seen by the uniqueness
expectation). A change is found by content, not by timestamps: a row edited in place, with no timestamp
moved, changes its partition's checksum and is checked on the very next run. The checksum scan reads the
whole query at SQL speed (about 0.1 s per million rows); GX, its frames and their per-row work run on the
changed partitions only. Suites without a ``PARTITION`` (whole-table reconciliations) run whole every time.

Every suite runs whole when the caller asks (``full=True``: ``socialcx validate --full``, the DAG's
``full_validation`` param), when no full validation passed within ``SOCIALCX_FULL_VALIDATION_HOURS`` (24 by
default), and for a suite whose definition or parameters changed (its ``signature``). Data Docs are rebuilt
on full validations and on runs with a failure or a warning.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import logging
import pkgutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import duckdb

import expectations.suites as suites_pkg
from socialcx.core.warehouse import scalar

log = logging.getLogger(__name__)


def quiet_great_expectations() -> None:
    """GX's chatter, not for operators, out of the log at INFO: its API registry as it imports (about 200 "Skipping
    registering function" lines) and where it put a temporary docs site (a module that sets its own logger to INFO
    as it is imported, so this is called again after the import). GX's warnings and errors still show."""
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)



@dataclass
class ValidationOutcome:
    run_id: str
    failures: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    checked: int = 0
    skipped: list[str] = field(default_factory=list)
    full: bool = True
    # per suite: partitions checked / partitions in all, and rows checked / rows in all
    scope: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "success": self.success, "checked": self.checked,
                "failures": self.failures, "warnings": self.warnings, "skipped": self.skipped,
                "full": self.full, "scope": self.scope}


def suite_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{suites_pkg.__name__}.{m.name}")
            for m in pkgutil.iter_modules(suites_pkg.__path__)]


def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(scalar(con, "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]))


def _describe(result) -> tuple[str, str | None, object, object, object]:
    config = result.expectation_config
    kwargs = config.kwargs
    column = (kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
              or (f"{kwargs['column_A']},{kwargs['column_B']}" if "column_A" in kwargs else None))
    res = result.result or {}
    observed = res.get("observed_value")
    if observed is None and res.get("partial_unexpected_list"):
        observed = res["partial_unexpected_list"][:5]
    # numpy scalars and tuples as plain JSON values, so messages and stored results read cleanly
    observed = json.loads(json.dumps(observed, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    return config.type, column, observed, res.get("unexpected_count"), res.get("element_count")


NULL_PARTITION = "(null)"


def signature(module: ModuleType) -> str:
    """What a suite checks: its module's source and its parameters (time-dependent ones taken at epoch 0). A
    partition that passed under another signature is checked again."""
    text = inspect.getsource(module) + json.dumps(module.parameters(0.0), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _partitioned(module: ModuleType) -> str:
    """The suite's query with each row's partition as ``_partition`` (text; NULL as its own partition)."""
    return (f"select *, coalesce(cast(({module.PARTITION}) as varchar), '{NULL_PARTITION}') as _partition "
            f"from ({module.QUERY}) as q")


def partition_digests(con: duckdb.DuckDBPyConnection, module: ModuleType) -> dict[str, tuple[int, str]]:
    """Row count and order-independent checksum of each partition of a suite's query, in one SQL scan."""
    rows = con.execute(f"select _partition, count(*), cast(coalesce(sum(hash(q)::hugeint), 0) as varchar) "
                       f"from ({_partitioned(module)}) as q group by _partition").fetchall()
    return {part: (count, digest) for part, count, digest in rows}


def _stored_digests(con: duckdb.DuckDBPyConnection, name: str, sig: str) -> dict[str, tuple[int, str]]:
    rows = con.execute("select partition_key, row_count, digest from ops.validation_digests "
                       "where suite = ? and signature = ?", [name, sig]).fetchall()
    return {part: (count, digest) for part, count, digest in rows}


def _scoped_query(module: ModuleType) -> str:
    """The rows of the changed partitions (the parameter: their keys), and every row sharing a KEY with them."""
    keys = ", ".join(getattr(module, "KEY", ()))
    same_key = (f" or ({keys}) in (select {keys} from scoped where _partition in (select _partition from changed))"
                if keys else "")
    return (f"with scoped as ({_partitioned(module)}), changed as (select unnest(?::varchar[]) as _partition) "
            f"select * exclude (_partition) from scoped "
            f"where _partition in (select _partition from changed){same_key}")


def _store_digests(con: duckdb.DuckDBPyConnection, name: str, sig: str, run_id: str, now: datetime,
                   current: dict[str, tuple[int, str]], checked: set[str]) -> None:
    """After a suite passed: its checked partitions' digests, and no digest for a partition that is gone."""
    con.execute("delete from ops.validation_digests where suite = ? and (signature <> ? "
                "or not list_contains(?::varchar[], partition_key) or list_contains(?::varchar[], partition_key))",
                [name, sig, list(current), sorted(checked)])
    parts = sorted(checked & set(current))
    if parts:
        con.execute("insert into ops.validation_digests select ?, unnest(?::varchar[]), unnest(?::bigint[]), "
                    "unnest(?::varchar[]), ?, ?, ?",
                    [name, parts, [current[p][0] for p in parts], [current[p][1] for p in parts], sig, run_id, now])


def full_validation_due(con: duckdb.DuckDBPyConnection, hours: int, now: datetime | None = None) -> bool:
    """True when no full validation passed within ``hours``."""
    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    return not scalar(con, "select count(*) from ops.full_validations where validated_at > ?", [since])


def run_validations(con: duckdb.DuckDBPyConnection, run_id: str, docs_dir: Path | None = None,
                    extra_checks: list[dict[str, object]] | None = None, full: bool | None = None,
                    full_after_hours: int = 24) -> ValidationOutcome:
    """Run every suite; ``extra_checks`` (e.g. dbt source freshness) are recorded and judged alongside.

    An extra check is a dict with suite, severity, expectation, column, success and observed. ``full``: every
    suite on every row (True), on the changed partitions (False), or whole only when no full validation passed
    within ``full_after_hours`` (None, the default).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quiet_great_expectations()  # again: dbt, run in the same process, resets logging to INFO

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # logs need no bar per expectation
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(site_name="socialcx", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    datasource = context.data_sources.add_pandas("warehouse")
    now = datetime.now(UTC)
    if full is None:
        full = full_validation_due(con, full_after_hours, now)
    outcome = ValidationOutcome(run_id=run_id, full=full)
    rows = []
    for check in extra_checks or []:
        outcome.checked += 1
        rows.append((run_id, now, check["suite"], check["severity"], check["expectation"], check["column"],
                     bool(check["success"]), json.dumps(check["observed"], default=str), None, None))
        if not check["success"]:
            failure = {k: check[k] for k in ("suite", "expectation", "column", "observed")} | {"unexpected_count": None}
            (outcome.failures if check["severity"] == "critical" else outcome.warnings).append(failure)
    passed_suites: list[tuple[str, str, dict[str, tuple[int, str]], set[str]]] = []
    for module in suite_modules():
        suite = module.build(now.timestamp())
        severity = suite.meta.get("severity", "critical")
        if not _table_exists(con, suite.meta["table"]):
            outcome.skipped.append(module.NAME)
            continue
        partitioned = getattr(module, "PARTITION", None) is not None
        if partitioned:
            sig = signature(module)
            current = partition_digests(con, module)
            stored = {} if full else _stored_digests(con, module.NAME, sig)
            changed = {part for part, digest in current.items() if stored.get(part) != digest}
            total_rows = sum(count for count, _ in current.values())
            if not changed:  # nothing in this suite's rows changed since they passed
                outcome.scope[module.NAME] = {"partitions": 0, "of_partitions": len(current),
                                              "rows": 0, "of_rows": total_rows}
                passed_suites.append((module.NAME, sig, current, changed))
                continue
            frame = (con.execute(module.QUERY).df() if changed == set(current)
                     else con.execute(_scoped_query(module), [sorted(changed)]).df())
            outcome.scope[module.NAME] = {"partitions": len(changed), "of_partitions": len(current),
                                          "rows": len(frame), "of_rows": total_rows}
        else:
            frame = con.execute(module.QUERY).df()
            outcome.scope[module.NAME] = {"rows": len(frame), "of_rows": len(frame)}
        suite = context.suites.add(suite)
        batch = datasource.add_dataframe_asset(module.NAME).add_batch_definition_whole_dataframe(module.NAME)
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=module.NAME, data=batch, suite=suite))
        started = time.perf_counter()
        result = definition.run(batch_parameters={"dataframe": frame},
                                expectation_parameters=module.parameters(now.timestamp()),
                                result_format="SUMMARY")
        log.info("suite %s: %s in %.1fs (%s rows)", module.NAME, result.success, time.perf_counter() - started,
                 len(frame))
        for item in result.results:
            expectation, column, observed, unexpected, elements = _describe(item)
            outcome.checked += 1
            rows.append((run_id, now, module.NAME, severity, expectation, column, bool(item.success),
                         json.dumps(observed, default=str), unexpected, elements))
            if not item.success:
                failure = {"suite": module.NAME, "expectation": expectation, "column": column,
                           "observed": observed, "unexpected_count": unexpected}
                (outcome.failures if severity == "critical" else outcome.warnings).append(failure)
        if partitioned and result.success:
            passed_suites.append((module.NAME, sig, current, changed))
    if rows:
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    for name, sig, current, changed in passed_suites:  # what passed need not be checked again until it changes
        _store_digests(con, name, sig, run_id, now, current, changed)
    if full and outcome.success:
        con.execute("insert into ops.full_validations values (?, ?)", [run_id, now])
    # Data Docs (HTML, ~3 s to render) follow every full validation and every run with a failure or a warning;
    # an incremental run that passed leaves them as they were (its results are in ops.validation_results)
    if docs_dir is not None and (full or outcome.failures or outcome.warnings):
        try:
            context.build_data_docs()
        except Exception as exc:  # Data Docs are a report; a rendering problem must not hide the verdict
            log.warning("could not build GX Data Docs in %s: %s", docs_dir, exc)
    return outcome


@contextmanager
def private_tempdir() -> Iterator[Path]:
    """GX writes scratch files (Data Docs assets among them) under the temp dir and leaves them behind: every
    validate left a world-readable ~4.5 MB folder in /tmp. Point this process's temp dir at a private folder
    (mode 0700) for the duration, and remove it afterwards."""
    import shutil
    import tempfile

    previous = tempfile.tempdir
    private = Path(tempfile.mkdtemp(prefix="socialcx-validate-"))
    tempfile.tempdir = str(private)
    try:
        yield private
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(private, ignore_errors=True)
