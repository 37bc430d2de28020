"""Publish the marts for BI: a read-only DuckDB file and one Parquet file per mart, each replaced by rename.

Readers (Metabase, Superset, DBeaver, Evidence, the duckdb CLI) open the published copy, never the working
warehouse: DuckDB lets one process hold a file read-write and nobody else open it, so a reader on the working
file would block dbt. Every published file is written under a temporary name and moved into place with
``os.replace``, which is atomic on one filesystem: a reader sees the old version or the new one, never half.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from expectations.checkpoints import latest_validation
from socialcx.warehouse import scalar

# DuckDB 2.0 writes a storage format 1.x readers cannot open; BI drivers often bundle DuckDB 1.x.
# Writing the published file in the v1.2 format keeps it readable by DuckDB >= 1.2; Parquet serves the rest.
PUBLISHED_STORAGE_VERSION = "v1.2.0"


class PublishRefused(RuntimeError):
    """The latest validation failed, or there is nothing to publish."""


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select table_name from information_schema.tables where table_schema = 'marts' "
                       "and table_type = 'BASE TABLE' order by table_name").fetchall()
    return [name for (name,) in rows]


def publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, run_id: str) -> dict[str, object]:
    validation_run, failed = latest_validation(con)
    if validation_run is None:
        raise PublishRefused("nothing validated yet: run `socialcx validate` before `socialcx publish`")
    if failed:
        checks = "; ".join(f"{suite}: {expectation}({column}) observed {observed}"
                           for suite, expectation, column, observed in failed)
        raise PublishRefused(f"validation {validation_run} failed, publishing refused. Failed checks: {checks}")
    tables = _mart_tables(con)
    if not tables:
        raise PublishRefused("schema marts is empty: run `socialcx transform` first")
    publish_dir.mkdir(parents=True, exist_ok=True)
    parquet_dir = publish_dir / "parquet"
    parquet_dir.mkdir(exist_ok=True)
    suffix = f".tmp-{os.getpid()}"
    target = publish_dir / "socialcx.duckdb"
    staging = publish_dir / f"socialcx.duckdb{suffix}"
    staging.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con.execute(f"attach '{staging}' as published (storage_version '{PUBLISHED_STORAGE_VERSION}')")
    try:
        con.execute("create schema published.marts")
        for table in tables:
            con.execute(f"create table published.marts.{table} as select * from marts.{table}")
            counts[table] = scalar(con, f"select count(*) from published.marts.{table}")
    finally:
        con.execute("detach published")
    parquet_files = []
    for table in tables:
        temporary = parquet_dir / f"{table}.parquet{suffix}"
        con.execute(f"copy marts.{table} to '{temporary}' (format parquet, compression zstd)")
        parquet_files.append((temporary, parquet_dir / f"{table}.parquet"))
    os.replace(staging, target)
    for temporary, final in parquet_files:
        os.replace(temporary, final)
    manifest = {"run_id": run_id, "validation_run_id": validation_run,
                "published_at": datetime.now(UTC).isoformat(), "tables": counts,
                "duckdb_file": str(target), "parquet_dir": str(parquet_dir),
                "storage_version": PUBLISHED_STORAGE_VERSION}
    manifest_tmp = publish_dir / f"manifest.json{suffix}"
    manifest_tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(manifest_tmp, publish_dir / "manifest.json")
    return manifest
