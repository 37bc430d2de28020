"""The pipeline on PostgreSQL against DuckDB, in the same run, on the same generated world.

    .venv/bin/python benchmarks/postgres.py --posts 100000 [--json]

Starts a throw-away PostgreSQL server from Debian's packages on loopback (tests/support/postgres_server.py),
then runs every stage (`socialcx.stages`, as `socialcx run` does, each in its own process as Airflow runs its
tasks) twice from a fresh warehouse: SOCIALCX_TARGET=duckdb, then SOCIALCX_TARGET=postgres. Then a second run of
each with 0.1% new posts (a file drop), the incremental case. Prints each stage's seconds on both targets and their
ratio; with --json a last line of JSON.

On PostgreSQL, extract and enrich still write the working DuckDB file: their seconds are the same work on both.
The transform stage is where the targets differ (copy in of what changed, dbt in PostgreSQL, marts copied back),
and publish (the published schema swapped for BI).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pipeline import STAGES, new_posts, run_stage  # noqa: E402
from tests.support.postgres_server import PostgresServer  # noqa: E402


def one_target(target: str, posts: int, seed: int, tmp: Path, url: str | None) -> dict[str, dict[str, float]]:
    env = {**os.environ, "SOCIALCX_TARGET": target, "SOCIALCX_WAREHOUSE": str(tmp / target / "socialcx.duckdb"),
           "SOCIALCX_PUBLISH_DIR": str(tmp / target / "published"), "SOCIALCX_REPORTS_DIR": str(tmp / target / "reports"),
           "SOCIALCX_RAW_TEXT_RETENTION_DAYS": "0", "SOCIALCX_SOURCES": "sample"}
    if url:
        env["SOCIALCX_POSTGRES_URL"] = url
    full: dict[str, float] = {}
    for stage in STAGES:
        options = {"posts": posts, "seed": seed} if stage == "extract" else {}
        full[stage] = run_stage(stage, env, **options)["seconds"]
    drop = new_posts(tmp / target / "drop.csv", max(10, posts // 1000), seed + 1, "new")
    again: dict[str, float] = {}
    for stage in STAGES:
        options = {"source": "file", "paths": [str(drop)]} if stage == "extract" else {}
        again[stage] = run_stage(stage, env, **options)["seconds"]
    return {"full": full, "new_0.1%": again}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="socialcx-bench-pg-") as folder:
        tmp = Path(folder)
        results = {"duckdb": one_target("duckdb", args.posts, args.seed, tmp, None)}
        with PostgresServer(tmp / "pg") as server:
            results["postgres"] = one_target("postgres", args.posts, args.seed, tmp, server.url)
    print(f"{args.posts:,} posts; seconds per stage (each its own process, imports included)")
    for run in ("full", "new_0.1%"):
        print(f"\n{run} run      duckdb  postgres  postgres/duckdb")
        for stage in [*STAGES, "total"]:
            d = sum(results["duckdb"][run].values()) if stage == "total" else results["duckdb"][run][stage]
            p = sum(results["postgres"][run].values()) if stage == "total" else results["postgres"][run][stage]
            print(f"  {stage:<12} {d:8.1f} {p:9.1f} {p / d:10.2f}x")
    if args.json:
        print(json.dumps({"posts": args.posts, **{f"{target}_{run}_s": round(sum(stages.values()), 1)
                                                  for target, runs in results.items() for run, stages in runs.items()},
                          "stages": results}))


if __name__ == "__main__":
    main()
