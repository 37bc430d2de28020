"""End-to-end pipeline benchmark on a generated world, with baselines measured in the same run.

    .venv/bin/python benchmarks/pipeline.py --posts 100000 [--airflow]

Stages run through `socialcx.stages`, exactly as `socialcx run` does, against a fresh warehouse. Each
stage runs in its own child process (as Airflow runs its tasks) so that its peak memory (max RSS) and its
start-up are its own; the seconds include the process's start and imports. Then the incremental case: +1%
new posts (another world's posts under new ids, as a file drop) after the full run, every stage again; and
another +1% with every stage in one process, as `socialcx run` runs them.

Baselines:
- DuckDB alone inserting the same posts from a frame and scanning them with a GROUP BY (floor for load and
  transform);
- VADER alone scoring the same texts on one core (floor for enrichment);
- with --airflow: the same stages through `airflow dags test` against `socialcx run`, on the same size,
  for the orchestration overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STAGES = ["extract", "enrich", "transform", "validate", "alert", "publish", "report", "retain"]

CHILD = """
import json, resource, sys, time
started = time.perf_counter()
from socialcx import stages
stage, options = sys.argv[1], json.loads(sys.argv[2])
if stage == "extract":
    result = stages.extract(options.pop("source", "sample"), **options)
else:
    result = getattr(stages, stage)(**options)
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_stage(stage: str, env: dict[str, str], **options: object) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, stage, json.dumps(options)], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def new_posts_frame(posts: int, seed: int, prefix: str):
    """Another world's posts in the twcs layout, under new ids (``prefix``-...)."""
    from extractors.sample.generator import generate
    from extractors.sample.twcs import to_twcs

    new = to_twcs(generate(max(10, posts), seed=seed))
    for column in ("tweet_id", "in_response_to_tweet_id"):
        new[column] = (f"{prefix}-" + new[column].astype("string")).where(new[column].notna())
    new["response_tweet_id"] = None
    return new


def new_posts(path: Path, posts: int, seed: int, prefix: str) -> Path:
    """A twcs file of another world's posts under new ids: what an hourly file drop brings."""
    new_posts_frame(posts, seed, prefix).to_csv(path, index=False)
    return path


def duckdb_floor(posts: int, seed: int, tmp: Path) -> float:
    import duckdb

    from extractors.sample.generator import generate

    frame = generate(posts, seed=seed).posts
    started = time.perf_counter()
    con = duckdb.connect(str(tmp / "floor.duckdb"))
    con.register("frame", frame)
    con.execute("create table posts as select * from frame")
    con.execute("select brand, created_at::date, is_inbound, count(*), avg(length(text)) "
                "from posts group by all").fetchall()
    con.close()
    return time.perf_counter() - started


def vader_floor(posts: int, seed: int) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from extractors.sample.generator import generate

    texts = generate(posts, seed=seed).posts["text"].tolist()
    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--airflow", action="store_true", help="also time `airflow dags test` against `socialcx run`")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's warehouse (for profiling) and say where")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="socialcx-bench-"))
    env = {**os.environ, "SOCIALCX_WAREHOUSE": str(tmp / "wh" / "socialcx.duckdb"),
           "SOCIALCX_PUBLISH_DIR": str(tmp / "published"), "SOCIALCX_REPORTS_DIR": str(tmp / "reports"),
           "SOCIALCX_SAMPLE_SEED": str(args.seed), "AIRFLOW_HOME": str(tmp / "airflow"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "SOCIALCX_SAMPLE_END_DATE": "2026-10-31"}
    full = {}
    for stage in STAGES:
        options = {"posts": args.posts, "seed": args.seed} if stage == "extract" else {}
        full[stage] = run_stage(stage, env, **options)
    # incremental: 1% new posts arrive as a file drop (another world's posts under new ids)
    (tmp / "drop").mkdir()
    drop = new_posts(tmp / "drop" / "new_posts.csv", args.posts // 100, args.seed + 1, "new")
    incremental = {}
    for stage in STAGES:
        options = {"source": "file", "paths": [str(drop)]} if stage == "extract" else {}
        incremental[stage] = run_stage(stage, {**env, "SOCIALCX_SOURCES": "sample,file"}, **options)
    # another +1%, every stage in one process as `socialcx run` runs them (start-up and imports paid once)
    drop = new_posts(tmp / "drop" / "more_posts.csv", args.posts // 100, args.seed + 2, "more")
    one_process = run_stage("run_all", {**env, "SOCIALCX_SOURCES": "sample,file"}, sources=["file"], paths=[str(drop)])

    floor_duckdb = duckdb_floor(args.posts, args.seed, tmp)
    floor_vader = vader_floor(args.posts, args.seed)

    n = args.posts
    print(f"\nsocialcx pipeline benchmark: {n:,} posts, {os.cpu_count()} cores\n")
    print(f"{'stage':<14}{'full s':>9}{'posts/s':>11}{'peak MiB':>10}   {'+1% s':>8}{'peak MiB':>10}")
    for stage in STAGES:
        f, i = full[stage], incremental[stage]
        print(f"{stage:<14}{f['seconds']:>9.1f}{n / f['seconds']:>11,.0f}{f['peak_mib']:>10,.0f}   "
              f"{i['seconds']:>8.1f}{i['peak_mib']:>10,.0f}")
    total_full = sum(v["seconds"] for v in full.values())
    total_incremental = sum(v["seconds"] for v in incremental.values())
    print(f"{'end to end':<14}{total_full:>9.1f}{n / total_full:>11,.0f}{max(v['peak_mib'] for v in full.values()):>10,.0f}   "
          f"{total_incremental:>8.1f}{max(v['peak_mib'] for v in incremental.values()):>10,.0f}")
    print(f"\nincremental +1% / full: {total_incremental / total_full:.1%} (each stage its own process, as Airflow "
          "runs them)")
    print(f"another +1% in one process (socialcx run): {one_process['seconds']:.1f} s = "
          f"{one_process['seconds'] / total_full:.1%} of the full run, peak {one_process['peak_mib']:,.0f} MiB")
    print("\nbaselines (same run, same posts)")
    print(f"  DuckDB insert + GROUP BY scan:  {floor_duckdb:6.1f} s  -> extract is {full['extract']['seconds'] / floor_duckdb:.1f}x, "
          f"transform {full['transform']['seconds'] / floor_duckdb:.1f}x")
    print(f"  VADER alone, one core:          {floor_vader:6.1f} s  -> enrich is {full['enrich']['seconds'] / floor_vader:.2f}x "
          f"({n / full['enrich']['seconds']:,.0f} posts/s)")
    if args.airflow:
        small = min(n, 20_000)
        air_env = {**env, "SOCIALCX_WAREHOUSE": str(tmp / "air" / "w.duckdb"), "SOCIALCX_SAMPLE_POSTS": str(small),
                   "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                   "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"}
        venv = Path(sys.executable).parent
        subprocess.run([str(venv / "airflow"), "db", "migrate"], env=air_env, capture_output=True, check=True)
        subprocess.run([str(venv / "airflow"), "pools", "set", "socialcx_duckdb", "1", "bench"], env=air_env,
                       capture_output=True, check=True)
        started = time.perf_counter()
        subprocess.run([str(venv / "airflow"), "dags", "test", "socialcx_pipeline"], env=air_env, capture_output=True,
                       check=True)
        airflow_seconds = time.perf_counter() - started
        cli_env = {**air_env, "SOCIALCX_WAREHOUSE": str(tmp / "cli" / "w.duckdb")}
        started = time.perf_counter()
        subprocess.run([str(venv / "socialcx"), "run", "--posts", str(small)], env=cli_env, capture_output=True,
                       check=True)
        cli_seconds = time.perf_counter() - started
        print(f"  orchestration, {small:,} posts: airflow dags test {airflow_seconds:.1f} s vs socialcx run "
              f"{cli_seconds:.1f} s -> {airflow_seconds / cli_seconds:.2f}x")
    print(f"\npeak memory of this driver: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if args.keep:
        print(f"warehouse kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
