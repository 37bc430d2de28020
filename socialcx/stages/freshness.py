"""Source freshness: how long since each configured source last extracted, as dbt source freshness judges it.

The dbt sources file of the extracts (``dbt_project/models/staging/raw/_extracts__sources.yml``) is written
from the source registry before every dbt command, so a registered source has its freshness check without a
line of YAML: its warn and error thresholds are the registry's defaults, which the dbt var ``freshness_hours``
(``{source: {warn: h, error: h}}``) overrides.

``python -m socialcx.stages source-freshness OUTPUT.json`` is the child process :func:`start_source_freshness`
starts; ``python -m socialcx.stages write-sources`` only writes the sources file; ``python -m socialcx.stages parse``
writes it and parses the project with the pipeline's dbt flags (``make dbt-manifest``), so the first run's dbt
keeps that parse.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from socialcx.core import sources
from socialcx.core.settings import Settings, get_settings
from socialcx.stages.runs import StageError

SOURCES_FILE = Path("models") / "staging" / "raw" / "_extracts__sources.yml"
HEADER = "# Written from the source registry (socialcx/core/sources.py) before every dbt command: do not edit.\n"


def sources_yaml() -> str:
    """dbt's sources file for the extracts: one table per registered source, on raw.extract_state."""
    tables = []
    for source in sources.registry().values():
        hours = "var('freshness_hours', {{}}).get('{name}', {{}}).get('{level}', {default})"
        tables.append({
            "name": source.name,
            "identifier": "extract_state",
            "description": f"Last successful extract of the {source.name} source ({source.help}).",
            "config": {
                "loaded_at_field": "updated_at",
                "freshness": {
                    "warn_after": {"count": "{{ " + hours.format(name=source.name, level="warn",
                                                                  default=source.freshness_warn_hours) + " }}",
                                   "period": "hour"},
                    "error_after": {"count": "{{ " + hours.format(name=source.name, level="error",
                                                                   default=source.freshness_error_hours) + " }}",
                                    "period": "hour"},
                    # the name is a quoted literal: the registry's names are identifiers ([a-z0-9_]), checked below
                    "filter": f"source = '{source.name}'",
                },
            },
        })
    document = {"version": 2, "sources": [{
        "name": "extracts",
        "description": ("When each source last extracted successfully (raw.extract_state.updated_at, written in the "
                        "same transaction as its rows). `socialcx validate` runs `dbt source freshness` on the "
                        "configured sources: past warn_after it records a warning, past error_after it blocks "
                        "publishing. Thresholds: the source registry's defaults, or the dbt var freshness_hours."),
        "schema": "raw",
        "tables": tables,
    }]}
    return HEADER + yaml.safe_dump(document, sort_keys=False, width=120)


def write_sources_file(settings: Settings) -> Path:
    """Write the extracts' sources file where dbt reads it, if it changed (an unchanged file keeps dbt's
    partial parse)."""
    for name in sources.registry():
        if not name.isidentifier() or not name.isascii() or name.lower() != name:
            raise StageError(f"source name {name!r} must be a lower-case identifier (letters, digits, _)")
    path = settings.dbt_project_dir / SOURCES_FILE
    text = sources_yaml()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return path


def _extract_sources(settings: Settings) -> list[str]:
    """The configured sources that are registered, and so have a freshness check."""
    return [s for s in settings.sources if s in sources.registry()]


def source_freshness(settings: Settings) -> list[dict[str, object]]:
    """dbt source freshness of each configured source's last extract, as two checks per source: past the
    warn threshold (a warning) and past the error threshold (critical)."""
    from socialcx.stages.dbt import node_results, run_dbt

    selected = _extract_sources(settings)
    if not selected:
        return []
    # a stale source is a result here, not an error: the checks below judge it
    result = run_dbt(["source", "freshness", "--select", *[f"source:extracts.{s}" for s in selected]], settings)
    checks = []
    for node in node_results(result):
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


def start_source_freshness(settings: Settings) -> Callable[[], list[dict[str, object]]]:
    """Start :func:`source_freshness` in a child process; returns a function waiting for its checks.

    Importing Great Expectations takes ~6 s and dbt ~3 s, both in Python: in one process they queue behind
    each other, in two they run on both cores. The child holds the warehouse lock only while dbt reads
    raw.extract_state, before this process opens the warehouse for the suites. Where dbt already runs in this
    process, freshness runs here.
    """
    if not _extract_sources(settings):
        return lambda: []
    if "dbt.cli.main" in sys.modules:
        # dbt already ran in this process (socialcx run, forget): it costs nothing here, and the warehouse
        # connection dbt-duckdb keeps open would refuse a child the lock
        checks = source_freshness(settings)
        return lambda: checks
    import subprocess
    import tempfile

    from socialcx.core.logs import scrub
    from socialcx.stages.dbt import dbt_env

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


def main(argv: list[str]) -> None:
    from socialcx.core.logs import install

    logging.basicConfig(level=logging.WARNING)
    install()
    if argv[:1] == ["write-sources"] and len(argv) == 1:
        write_sources_file(get_settings())
    elif argv[:1] == ["source-freshness"] and len(argv) == 2:
        Path(argv[1]).write_text(json.dumps(source_freshness(get_settings()), default=str), encoding="utf-8")
    elif argv[:1] == ["parse"] and len(argv) == 1:
        from socialcx.stages.dbt import dbt_invoke

        dbt_invoke(["parse", "--quiet"])  # run_dbt writes the sources file first
    else:
        raise SystemExit("usage: python -m socialcx.stages (write-sources | source-freshness OUTPUT.json | parse)")

