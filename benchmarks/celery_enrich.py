"""Enrichment spread over Celery workers on PostgreSQL: 1 worker against 2, with one process in the same run.

    .venv/bin/python benchmarks/celery_enrich.py --posts 100000 [--chunks 4] [--json]

What the DAG does on SOCIALCX_TARGET=postgres, with its Airflow parts taken away: `enrich_plan` queues the pending
posts in PostgreSQL in chunks, and each chunk is one Celery task calling `socialcx.stages.enrich_chunk`, the
function the DAG's mapped task `enrich_chunk` calls. Real parts on loopback: a PostgreSQL server from Debian's
packages, Debian's `redis-server` as the broker, and 1 or 2 `celery worker` processes of one slot each (one per
machine, as `docker compose up --scale airflow-worker=N` would run them), acknowledging a task when it is done
and taking one at a time, as Airflow configures Celery. Measured from the first chunk sent to the last one
written, with the workers already started, each chunk in a fresh process as Airflow runs a task. In the same run, as the baseline: the same posts annotated by
`nlp.enrich.enrich` on DuckDB in one process, and with its two local worker processes (`SOCIALCX_NLP_PROCESSES=2`).

Airflow adds its own cost per task (a task process started by the worker, the scheduler's loop), a few seconds
per chunk here, so a chunk should be tens of thousands of posts (SOCIALCX_NLP_CHUNK_SIZE, default 50,000).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from celery import Celery  # noqa: E402

# the worker processes import this module (celery -A benchmarks.celery_enrich) and find the broker here
app = Celery("socialcx_bench", broker=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/0"),
             backend=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/0"))
# as Airflow's CeleryExecutor: acknowledged when done, one task taken at a time, and each task in a fresh process
# (Airflow runs every task instance in a new process: a chunk pays its imports, the pipeline's load and the
# rules' first compilation, as a mapped task does)
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_default_queue="enrich",
                worker_hijack_root_logger=False, worker_max_tasks_per_child=1)


@app.task(name="enrich_chunk", bind=True)
def enrich_chunk(self, chunk: int, run_id: str, model: str) -> dict:
    from socialcx import stages

    started = time.perf_counter()
    done = stages.enrich_chunk(chunk, run_id=run_id, model=model)
    return {**done, "worker": self.request.hostname, "seconds": round(time.perf_counter() - started, 2)}


@app.task(name="warm_up")
def warm_up(model: str) -> bool:
    """The rules' automaton compiled once and cached on disk, as a deployment's workers have it, before the clock."""
    from nlp.pipeline import load_pipeline
    from socialcx import stages  # noqa: F401

    load_pipeline(model)
    return True


def _workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    workers = []
    for i in range(count):
        log = (logs / f"worker{count}-{i}.log").open("w")
        workers.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "benchmarks.celery_enrich", "worker", "--concurrency",
             "1", "--pool", "prefork", "-n", f"bench{i}@%h", "-Q", f"enrich,warm{i}", "--without-gossip", "--without-mingle",
             "--loglevel", "WARNING"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 180
    while len(app.control.ping(timeout=1.0) or []) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError(f"the Celery workers did not start; see {logs}")
    return workers


def through_celery(workers: int, env: dict[str, str], logs: Path, chunk_size: int, run_id: str) -> dict[str, float]:
    from socialcx import stages
    from socialcx.core.settings import Settings
    from tests.support.redis_server import stop

    plan = stages.enrich_plan(run_id=run_id, settings=Settings(nlp_chunk_size=chunk_size))  # every post pending
    started = _workers(workers, env, logs)
    warm, results = [], []
    try:
        # each worker is up and the automaton cached before the clock starts
        warm = [warm_up.apply_async((plan["model"],), queue=f"warm{i}") for i in range(workers)]
        [result.get(timeout=600) for result in warm]
        t0 = time.perf_counter()
        results = [enrich_chunk.delay(chunk, run_id, plan["model"]) for chunk in plan["chunks"]]
        done = [result.get(timeout=3600) for result in results]
        seconds = time.perf_counter() - t0
        written = sum(d["enriched"] for d in done)
        per_worker = {}
        for d in done:
            per_worker.setdefault(d["worker"].split("@")[0], []).append(d["seconds"])
    finally:
        del warm, results  # their handles unsubscribe from Redis when collected: while it still runs
        gc.collect()
        for worker in started:
            stop(worker, timeout=60)
    return {"workers": workers, "chunks": len(plan["chunks"]), "posts": written, "seconds": round(seconds, 2),
            "posts_per_s": round(written / seconds), "chunk_seconds": per_worker}


def in_one_process(warehouse: Path, processes: int) -> dict[str, float]:
    """The same posts, on a copy of the DuckDB file, by `nlp.enrich.enrich` (the stage `socialcx run` uses)."""
    from nlp.enrich import enrich
    from socialcx.core.warehouse import open_warehouse

    copy = warehouse.with_name(f"local{processes}.duckdb")
    shutil.copy(warehouse, copy)
    with open_warehouse(copy) as con:
        t0 = time.perf_counter()
        result = enrich(con, processes=processes)
        seconds = time.perf_counter() - t0
    return {"processes": processes, "posts": result.enriched, "seconds": round(seconds, 2),
            "posts_per_s": round(result.enriched / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunks", type=int, default=4, help="chunks the pending posts are cut into")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from tests.support.postgres_server import PostgresServer, free_port
    from tests.support.redis_server import redis_command, stop

    with tempfile.TemporaryDirectory(prefix="socialcx-bench-celery-") as folder:
        tmp = Path(folder)
        port = free_port()
        broker = f"redis://127.0.0.1:{port}/0"
        redis = subprocess.Popen(redis_command(port, "the Celery benchmark"), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, cwd=tmp, start_new_session=True)
        try:
            with PostgresServer(tmp / "pg") as server:
                env = {**os.environ, "SOCIALCX_TARGET": "postgres", "SOCIALCX_POSTGRES_URL": server.url,
                       "SOCIALCX_WAREHOUSE": str(tmp / "wh" / "socialcx.duckdb"), "BENCH_BROKER": broker,
                       "SOCIALCX_SOURCES": "sample", "SOCIALCX_CACHE_DIR": str(tmp / "cache")}
                os.environ.update(env)
                app.conf.broker_url = app.conf.result_backend = broker
                from socialcx import stages
                from socialcx.core.settings import Settings

                stages.extract("sample", settings=Settings(), posts=args.posts, seed=args.seed)
                from socialcx.core.warehouse import open_warehouse

                with open_warehouse(Path(env["SOCIALCX_WAREHOUSE"])) as con:
                    pending = con.execute("select count(*) from raw.posts").fetchone()[0]
                chunk_size = -(-pending // args.chunks)
                local = [in_one_process(Path(env["SOCIALCX_WAREHOUSE"]), n) for n in (1, 2)]
                celery = [through_celery(n, env, tmp, chunk_size, f"bench-{n}") for n in (1, 2)]
        finally:
            stop(redis)
    speedup = celery[0]["seconds"] / celery[1]["seconds"]
    print(f"{pending:,} posts in {celery[0]['chunks']} chunks of at most {chunk_size:,}")
    for row in local:
        print(f"  DuckDB, {row['processes']} local process(es): {row['seconds']:7.2f} s  {row['posts_per_s']:>7,} posts/s")
    for row in celery:
        print(f"  PostgreSQL, {row['workers']} Celery worker(s):  {row['seconds']:7.2f} s  {row['posts_per_s']:>7,} posts/s"
              f"  (seconds of each chunk, by worker: {row['chunk_seconds']})")
    print(f"  speed-up from 1 to 2 Celery workers: {speedup:.2f}x")
    if args.json:
        print(json.dumps({"posts": pending, "chunks": celery[0]["chunks"], "local": local, "celery": celery,
                          "speedup_1_to_2_workers": round(speedup, 2)}))


if __name__ == "__main__":
    main()
