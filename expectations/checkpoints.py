"""Run the expectation suites against the working warehouse and keep the results.

GX reads data frames taken from DuckDB: GX's SQL datasource on DuckDB reads results after the
connection closes and silently fails every expectation, so it is not used. Each suite module in
``expectations/suites`` holds a query, a suite builder and its parameters; its ``severity`` (critical
or warning) decides whether a failure blocks publishing.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import duckdb

import expectations.suites as suites_pkg
from socialcx.core.warehouse import scalar

log = logging.getLogger(__name__)



@dataclass
class ValidationOutcome:
    run_id: str
    failures: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)
    checked: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "success": self.success, "checked": self.checked,
                "failures": self.failures, "warnings": self.warnings, "skipped": self.skipped}


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


def run_validations(con: duckdb.DuckDBPyConnection, run_id: str, docs_dir: Path | None = None,
                    extra_checks: list[dict[str, object]] | None = None) -> ValidationOutcome:
    """Run every suite; ``extra_checks`` (e.g. dbt source freshness) are recorded and judged alongside.

    An extra check is a dict with suite, severity, expectation, column, success and observed.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # dbt, run in the same process, resets logging to INFO; GX's start-up chatter is not for operators
    logging.getLogger("great_expectations").setLevel(logging.WARNING)

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
    outcome = ValidationOutcome(run_id=run_id)
    rows = []
    for check in extra_checks or []:
        outcome.checked += 1
        rows.append((run_id, now, check["suite"], check["severity"], check["expectation"], check["column"],
                     bool(check["success"]), json.dumps(check["observed"], default=str), None, None))
        if not check["success"]:
            failure = {k: check[k] for k in ("suite", "expectation", "column", "observed")} | {"unexpected_count": None}
            (outcome.failures if check["severity"] == "critical" else outcome.warnings).append(failure)
    for module in suite_modules():
        suite = module.build(now.timestamp())
        severity = suite.meta.get("severity", "critical")
        if not _table_exists(con, suite.meta["table"]):
            outcome.skipped.append(module.NAME)
            continue
        frame = con.execute(module.QUERY).df()
        suite = context.suites.add(suite)
        batch = datasource.add_dataframe_asset(module.NAME).add_batch_definition_whole_dataframe(module.NAME)
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=module.NAME, data=batch, suite=suite))
        started = time.perf_counter()
        result = definition.run(batch_parameters={"dataframe": frame},
                                expectation_parameters=module.parameters(now.timestamp()),
                                result_format="SUMMARY")
        log.info("suite %s: %s in %.1fs", module.NAME, result.success, time.perf_counter() - started)
        for item in result.results:
            expectation, column, observed, unexpected, elements = _describe(item)
            outcome.checked += 1
            rows.append((run_id, now, module.NAME, severity, expectation, column, bool(item.success),
                         json.dumps(observed, default=str), unexpected, elements))
            if not item.success:
                failure = {"suite": module.NAME, "expectation": expectation, "column": column,
                           "observed": observed, "unexpected_count": unexpected}
                (outcome.failures if severity == "critical" else outcome.warnings).append(failure)
    if rows:
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if docs_dir is not None:
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
