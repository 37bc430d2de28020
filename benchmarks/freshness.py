"""Freshness: how long until 1,000 posts dropped into a large warehouse are in the published marts and an urgent
one among them reaches the alert channel, through Airflow and through `socialcx run`, in the same run.

    .venv/bin/python benchmarks/freshness.py --posts 1000000 [--new 1000] [--json] [--warehouse FILE]

1. A warehouse of ``--posts`` posts: the sample world through every stage (``socialcx run``); above ``--chunk``
   posts (1M), the rest arrives as file drops of at most ``--chunk`` posts each, so a 5M warehouse is built without
   generating 5M posts at once. ``--warehouse FILE`` copies a warehouse built before instead (``--keep`` says where
   this one was kept).
2. Two warm-up drops through ``socialcx run`` (the first runs after a build validate and publish more than a
   steady one: text expiry has just rewritten old posts, the previous publish wrote every mart, and until two
   versions are published there is no older DuckDB file to take and patch, so the current one is copied).
3. The measured Airflow run: ``--new`` posts (customer posts and brand replies of another world, under new ids,
   written in the 5 minutes after the warehouse's newest post, one of them an urgent safety complaint) dropped as
   a twcs file; then ``airflow dags test socialcx_pipeline`` with the file source. Drop to published: from the
   drop to the end of the publish task (``ops.runs``). Drop to alert: from the drop to the moment a local
   Slack-compatible webhook on 127.0.0.1 received the urgent post's alert. Stage by stage: Airflow's task
   instances (the dbt models' tasks summed as ``transform``). And what `airflow dags test` spends outside the
   stages' work (`airflow_overhead`): to the DAG run's start, to its first task, the models' tasks after the dbt
   build, from the run's end to the process's exit.
   Then Airflow's own floor for this DAG (``airflow_floor_s``): a DAG of the same tasks and edges, each a Python task
   that returns at once, through ``airflow dags test`` in the same metadata database. The stages' work in
   ``socialcx run`` plus that floor is the least a run through ``airflow dags test`` can cost here
   (``lowest_airflow_ratio``, against ``socialcx run``). Where the floor goes (``airflow_floor_parts``): to the DAG
   run's start, to its first task, that task (which pays for the in-process execution API's start), each later
   task on average, from the run's end to the exit.
4. The same drop again, through ``socialcx run`` with the file source (every stage in one process): same figures.
5. With ``--scheduler``, the same drop again through Airflow as deployed (``make up``): api-server, scheduler and
   dag-processor on loopback, each task in its own process (LocalExecutor), the scheduler's settings from the
   environment as the Makefile exports them. A deployment's scheduler runs for weeks, so the components first take
   a warm-up drop in a run of their own (``@once``, started by unpausing the DAG); the measured drop then goes
   through a second run, triggered through the REST API, and its figures run from the drop to that run's end.
   `airflow dags test` runs every task in one process, one after the other.

``--json`` ends the output with one line of JSON:
``{"posts", "new_posts", "airflow_run_s", "direct_run_s", "drop_to_published_s", "drop_to_alert_s", ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV = Path(sys.executable).parent
STAGES = ["extract_file", "enrich", "transform", "validate", "alert", "publish", "report", "retain"]
URGENT_TEXT = "@{brand} your charger caught fire next to my kid's bed. This is dangerous, I am calling my lawyer"


class Webhook:
    """A Slack-compatible incoming webhook on loopback that notes when each message arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append((time.time(), str(body.get("text", ""))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def first(self, needle: str) -> float | None:
        return next((at for at, text in self.received if needle in text), None)


def newest_post(warehouse: Path):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select max(created_at), any_value(brands_mentioned[1]) from raw.posts "
                           "where is_inbound and not is_deleted").fetchone()


def drop(folder: Path, warehouse: Path, posts: int, seed: int, prefix: str) -> str:
    """``posts`` new posts as a twcs file in ``folder``, written in the 5 minutes after the warehouse's newest
    post; the urgent one's id is returned."""
    from pipeline import new_posts_frame  # benchmarks/pipeline.py: another world's posts under new ids

    newest, brand = newest_post(warehouse)
    frame = new_posts_frame(posts - 1, seed, prefix)
    times = [datetime.strptime(t, "%a %b %d %H:%M:%S %z %Y") for t in frame["created_at"]]
    first, last = min(times), max(times)
    span = (last - first).total_seconds() or 1.0
    start = newest.astimezone(UTC) + timedelta(seconds=1)  # order kept, squeezed into five minutes
    frame["created_at"] = [(start + timedelta(seconds=(t - first).total_seconds() / span * 300))
                           .strftime("%a %b %d %H:%M:%S +0000 %Y") for t in times]
    urgent = f"{prefix}-urgent"
    frame.loc[len(frame)] = {**{c: None for c in frame.columns}, "tweet_id": urgent, "author_id": "987654321",
                             "inbound": "True", "created_at": (start + timedelta(seconds=299)).strftime(
                                 "%a %b %d %H:%M:%S +0000 %Y"), "text": URGENT_TEXT.format(brand=brand)}
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{prefix}.csv", index=False)
    return urgent


def build(env: dict[str, str], posts: int, chunk: int, tmp: Path) -> float:
    started = time.perf_counter()
    first = min(posts, chunk)
    subprocess.run([str(VENV / "socialcx"), "run", "--posts", str(first)], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    done, seed = first, 100
    while done < posts:  # the rest as file drops, one chunk at a time
        size = min(chunk, posts - done)
        folder = tmp / f"build-{seed}"
        from pipeline import new_posts  # benchmarks/pipeline.py: another world's posts under new ids

        folder.mkdir()
        new_posts(folder / "posts.csv", size, seed, f"b{seed}")
        subprocess.run([str(VENV / "socialcx"), "run"], check=True, capture_output=True, cwd=ROOT,
                       env={**env, "SOCIALCX_SOURCES": "file", "SOCIALCX_FILE_DROP": str(folder)})
        shutil.rmtree(folder)
        done, seed = done + size, seed + 1
    return time.perf_counter() - started


def direct_stages(warehouse: Path, run_id: str) -> dict[str, float]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select stage, epoch(finished_at) - epoch(started_at) from ops.runs where run_id = ? "
                           "and finished_at is not null", [run_id]).fetchall()
    return {stage: seconds for stage, seconds in rows}


def latest_run(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select run_id from ops.runs where stage = 'publish' order by started_at desc limit 1"
                           ).fetchone()[0]


def finished(warehouse: Path, run_id: str, stage: str) -> float:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select epoch(max(finished_at)) from ops.runs where run_id = ? and stage = ? "
                           "and status = 'success'", [run_id, stage]).fetchone()[0]


def latest_dag_run(airflow_home: Path, dag_id: str = "socialcx_pipeline"
                   ) -> tuple[str, float, float, dict[str, tuple[float, float]]]:
    """The latest run of ``dag_id``: its id, start and end, and each of its finished tasks' start and end (epoch
    seconds)."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        run_id, run_start, run_end = db.execute(
            "select run_id, start_date, end_date from dag_run where dag_id = ? order by start_date desc limit 1",
            [dag_id]).fetchone()
        rows = db.execute("select task_id, start_date, end_date from task_instance where dag_id = ? "
                          "and run_id = ? and start_date is not null and end_date is not null",
                          [dag_id, run_id]).fetchall()

    def epoch(value: str | None) -> float:
        return datetime.fromisoformat(value).timestamp() if value else float("nan")

    return run_id, epoch(run_start), epoch(run_end), {task_id: (epoch(start), epoch(end))
                                                       for task_id, start, end in rows}


def airflow_stages(airflow_home: Path) -> tuple[str, dict[str, float]]:
    """The latest DAG run's id and each stage's seconds (first start to last end of its tasks)."""
    run_id, _, _, tasks = latest_dag_run(airflow_home)
    spans: dict[str, list[float]] = {}
    for task_id, (begin, stop) in tasks.items():
        stage = "transform" if task_id.startswith("transform.") else task_id
        spans.setdefault(stage, [begin, stop])
        spans[stage] = [min(spans[stage][0], begin), max(spans[stage][1], stop)]
    return run_id, {stage: stop - begin for stage, (begin, stop) in spans.items()}


def airflow_overhead(airflow_home: Path, started: float, ended: float) -> dict[str, float | int]:
    """Where `airflow dags test`'s time goes outside the stages' own work, from its metadata database: from the
    process's start to the DAG run's, from there to the first task's start (the first task then pays for the
    in-process execution API's first request, inside the extract stage's figure), from the dbt build's end to the
    next stage's start (the models' tasks, one per model, reporting what the build did), and from the run's end to
    the process's exit, in seconds (``*_s``), and how many models' tasks there were (``model_tasks``). ``started``
    and ``ended``: the process's start and exit (epoch seconds)."""
    _, run_began, run_ended, at = latest_dag_run(airflow_home)
    built = at.get("transform.dbt_producer_watcher", (float("nan"),) * 2)[1]
    after_build = [begin for task_id, (begin, _) in at.items()
                   if not task_id.startswith("transform.") and begin >= built]
    edges = _run_edges(run_began, run_ended, at, started, ended)
    return {"to_run_start_s": edges["to_run_start_s"], "to_first_task_s": edges["to_first_task_s"],
            "model_tasks_s": (min(after_build) if after_build else float("nan")) - built,
            "model_tasks": sum(1 for task_id in at if task_id.startswith("transform.")
                               and task_id not in ("transform.dbt_producer_watcher",
                                                   "transform.dbt_producer_watcher_done")),
            "after_run_s": edges["after_run_s"]}


def _run_edges(run_began: float, run_ended: float, at: dict[str, tuple[float, float]], started: float,
               ended: float) -> dict[str, float]:
    """What `airflow dags test` spends around a DAG run's tasks (`latest_dag_run`'s figures): from the process's
    start to the run's start, from there to its first task's start, from the run's end to the process's exit."""
    return {"to_run_start_s": run_began - started,
            "to_first_task_s": min((begin for begin, _ in at.values()), default=float("nan")) - run_began,
            "after_run_s": ended - run_ended}


SHAPE = """
import json, logging
logging.disable(logging.CRITICAL)
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder={folder!r}).dags["socialcx_pipeline"]
print(json.dumps({{task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}}))
"""

FLOOR_DAG = '''"""socialcx_pipeline's tasks and edges, each task doing nothing (benchmarks/freshness.py, `airflow_floor`)."""
import json
from datetime import UTC, datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

UPSTREAM = json.loads({shape!r})


def nothing():
    return None


with DAG("socialcx_floor", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), catchup=False):
    tasks = {{task_id: PythonOperator(task_id=task_id, python_callable=nothing) for task_id in UPSTREAM}}
    for task_id, parents in UPSTREAM.items():
        for parent in parents:
            tasks[parent] >> tasks[task_id]
'''


def airflow_floor(env: dict[str, str], tmp: Path) -> tuple[float, int, dict[str, float]]:
    """What `airflow dags test` costs for this DAG's shape alone: a DAG of socialcx_pipeline's tasks and edges,
    each a Python task that returns at once, run the same way (one process, the same metadata database). Returns
    its seconds from process start to exit, how many tasks it ran, and where those seconds went (`floor_parts`).
    No run of socialcx_pipeline through `airflow dags test` can cost less than this plus the stages' own work."""
    shape = subprocess.run([sys.executable, "-c", SHAPE.format(folder=str(ROOT / "dags"))], env=env, cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    folder = tmp / "floor-dags"
    folder.mkdir()
    (folder / "socialcx_floor.py").write_text(FLOOR_DAG.format(shape=shape), encoding="utf-8")
    started = time.time()
    out = subprocess.run([str(VENV / "airflow"), "dags", "test", "socialcx_floor"], cwd=ROOT, capture_output=True,
                         text=True, env={**env, "AIRFLOW__CORE__DAGS_FOLDER": str(folder)})
    seconds = time.time() - started
    if out.returncode != 0 or "state=success" not in out.stdout + out.stderr:
        raise SystemExit(f"airflow dags test socialcx_floor failed:\n{(out.stdout + out.stderr)[-4000:]}")
    return seconds, len(json.loads(shape)), floor_parts(tmp / "airflow", started, started + seconds)


def floor_parts(airflow_home: Path, started: float, ended: float) -> dict[str, float]:
    """Where the floor's seconds go, from the metadata database: from the process's start to the DAG run's start
    (Airflow's imports, the DAG's parse, the run's creation); from there to the first task's start; the first task,
    which does nothing but pays for the start of the in-process execution API that every task calls (its app and
    every API version's routes are built on the first request); each later task, on average, from the previous
    task's end to its own (its scheduling, its calls to that API, its state); from the run's end to the process's
    exit. ``started``/``ended``: the process's start and exit (epoch seconds)."""
    _, run_began, run_ended, at = latest_dag_run(airflow_home, "socialcx_floor")
    edges = _run_edges(run_began, run_ended, at, started, ended)
    (first_begin, first_end), *_ = sorted(at.values())
    later = max(end for _, end in at.values()) - first_end
    return {"to_run_start_s": edges["to_run_start_s"], "to_first_task_s": edges["to_first_task_s"],
            "first_task_s": first_end - first_begin,
            "later_task_ms": 1000 * later / max(len(at) - 1, 1), "after_run_s": edges["after_run_s"]}


def _api(port: int, method: str, path: str, body: dict | None = None) -> dict:
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_for_run(port: int, run_id: str | None, deadline: float, home: Path) -> dict:
    """The DAG's run ``run_id`` (None: its first) once it has ended."""
    while True:
        runs = _api(port, "GET", "dags/socialcx_pipeline/dagRuns")["dag_runs"]
        run = next((r for r in runs if run_id is None or r["dag_run_id"] == run_id), None)
        if run and run["state"] in ("success", "failed"):
            if run["state"] != "success":
                raise SystemExit(f"the scheduled run failed: see the task logs under {home}")
            return run
        if time.monotonic() > deadline:
            raise SystemExit(f"the scheduled run did not end in 30 minutes: see {home}")
        time.sleep(0.5)


def scheduled_run(env: dict[str, str], tmp: Path, drop_now, warm_up) -> tuple[float, str, Path]:
    """A run of the DAG as a deployment runs it (``make up``): Airflow's api-server, scheduler and dag-processor
    on loopback, the LocalExecutor starting each task in its own process, SQLite metadata in a home of its own.

    A deployment's components run for weeks, so the run measured is the second of a running scheduler: ``warm_up()``
    drops posts once the DAG is parsed and the first run (schedule ``@once``, started by unpausing the DAG through
    the REST API) takes them; its first task pays what a deployment pays once, when it starts (the api-server's
    first call to the execution API builds its versioned routes, the executor's worker its imports: 4-5 s of
    the first task, session 28). Then ``drop_now()`` drops the measured posts and a run is triggered through the
    REST API. Returns the seconds from that drop to the run's end, the run's id and the Airflow home."""
    from tests.support.postgres_server import free_port
    from tests.support.redis_server import stop  # SIGTERM to the process group, SIGKILL after 30 s

    home = tmp / "airflow-scheduler"
    port = free_port()
    env = {**env, "AIRFLOW_HOME": str(home), "SOCIALCX_SCHEDULE": "@once",
           "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # loopback only, for this one run
           "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "8"),  # as the Makefile
           # as the Makefile and docker-compose.yml set it (the scheduler's sleep when a loop found nothing to do)
           "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": env.get("AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME",
                                                                    "0.2"),
           # and as they set how long a task's supervisor waits between looks at its process
           "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": env.get("AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL", "1")}
    home.mkdir(parents=True)
    for command in (["db", "migrate"], ["pools", "set", "socialcx_duckdb", "1", "bench"]):
        subprocess.run([str(VENV / "airflow"), *command], env=env, capture_output=True, check=True)
    processes = []
    try:
        for component in (["api-server", "--host", "127.0.0.1", "--port", str(port)],
                          ["scheduler", "--skip-serve-logs"], ["dag-processor"]):
            log = (home / f"{component[0]}.log").open("w")
            processes.append(subprocess.Popen([str(VENV / "airflow"), *component], env=env, cwd=ROOT, stdout=log,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True))
        deadline = time.monotonic() + 180
        while True:  # the api-server answers and the dag-processor has parsed the DAG
            try:
                _api(port, "GET", "dags/socialcx_pipeline")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the DAG was not parsed in 180 s: see {home}") from None
                time.sleep(1)
        warm_up()
        _api(port, "PATCH", "dags/socialcx_pipeline", {"is_paused": False})
        _wait_for_run(port, None, time.monotonic() + 1800, home)
        dropped = drop_now()
        run_id = _api(port, "POST", "dags/socialcx_pipeline/dagRuns", {"logical_date": None})["dag_run_id"]
        _wait_for_run(port, run_id, time.monotonic() + 1800, home)
        return time.time() - dropped, run_id, home
    finally:
        for process in processes:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000, help="posts in the measured drop (0.1%% of 1M)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="largest generated world or file drop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warehouse", type=Path, help="copy this warehouse instead of building one")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's folder and say where")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--scheduler", action="store_true",
                        help="a third drop through a running scheduler, as deployed (each task its own process)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="socialcx-fresh-"))
    webhook = Webhook()
    warehouse = tmp / "wh" / "socialcx.duckdb"
    env = {**os.environ, "SOCIALCX_WAREHOUSE": str(warehouse), "SOCIALCX_PUBLISH_DIR": str(tmp / "published"),
           "SOCIALCX_REPORTS_DIR": str(tmp / "reports"), "SOCIALCX_SAMPLE_SEED": str(args.seed),
           "SOCIALCX_SAMPLE_END_DATE": "2026-10-31", "AIRFLOW_HOME": str(tmp / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
           "AIRFLOW_CONN_SOCIALCX_ALERTS_WEBHOOK": json.dumps(
               {"conn_type": "slackwebhook", "schema": "http", "host": f"127.0.0.1:{webhook.port}/services",
                "password": "T000/B000/benchmark"})}
    if args.warehouse:
        warehouse.parent.mkdir(parents=True)
        shutil.copy(args.warehouse, warehouse)
        build_seconds = None
    else:
        build_seconds = build(env, args.posts, args.chunk, tmp)
    files = {**env, "SOCIALCX_SOURCES": "file", "SOCIALCX_FILE_DROP": str(tmp / "drop")}
    subprocess.run([str(VENV / "airflow"), "db", "migrate"], env=files, capture_output=True, check=True)
    subprocess.run([str(VENV / "airflow"), "pools", "set", "socialcx_duckdb", "1", "bench"], env=files,
                   capture_output=True, check=True)

    # every drop's ids are new, even in a warehouse an earlier benchmark dropped into (--warehouse)
    tag = time.strftime("%Y%m%d%H%M%S")
    # warm-up: the first runs after a build do more than a steady one (the first publishes every mart; the second
    # copies the published DuckDB file, where a steady one takes the file of the version it prunes)
    for warm, seed in ((1, 10), (2, 15)):
        drop(tmp / "drop", warehouse, args.new, args.seed + seed, f"warm{warm}{tag}")
        subprocess.run([str(VENV / "socialcx"), "run"], env=files, cwd=ROOT, check=True, capture_output=True)

    # through Airflow
    urgent = drop(tmp / "drop", warehouse, args.new, args.seed + 11, f"air{tag}")
    dropped = time.time()
    out = subprocess.run([str(VENV / "airflow"), "dags", "test", "socialcx_pipeline"], env=files, cwd=ROOT,
                         capture_output=True, text=True)
    airflow_run = time.time() - dropped
    if out.returncode != 0 or "state=success" not in out.stdout + out.stderr:
        raise SystemExit(f"airflow dags test failed:\n{(out.stdout + out.stderr)[-4000:]}")
    air_run_id, air_stages = airflow_stages(tmp / "airflow")
    air = {"run_s": airflow_run, "drop_to_published_s": finished(warehouse, air_run_id, "publish") - dropped,
           "drop_to_alert_s": (webhook.first(urgent) or float("nan")) - dropped, "stages": air_stages}
    overhead = airflow_overhead(tmp / "airflow", dropped, dropped + airflow_run)

    # through `socialcx run`
    urgent = drop(tmp / "drop", warehouse, args.new, args.seed + 12, f"direct{tag}")
    dropped = time.time()
    out = subprocess.run([str(VENV / "socialcx"), "run"], env=files, cwd=ROOT, capture_output=True, text=True)
    direct_run = time.time() - dropped
    if out.returncode != 0:
        raise SystemExit(f"socialcx run failed:\n{(out.stdout + out.stderr)[-4000:]}")
    direct_id = latest_run(warehouse)
    direct = {"run_s": direct_run, "drop_to_published_s": finished(warehouse, direct_id, "publish") - dropped,
              "drop_to_alert_s": (webhook.first(urgent) or float("nan")) - dropped,
              "stages": direct_stages(warehouse, direct_id)}

    # Airflow's own floor for this DAG: the same tasks and edges doing nothing, through `airflow dags test`
    floor_s, floor_tasks, floor_split = airflow_floor(files, tmp)
    stages_s = sum(direct["stages"].values())

    scheduled = None
    if args.scheduler:
        urgent = ""

        def drop_now() -> float:
            nonlocal urgent
            urgent = drop(tmp / "drop", warehouse, args.new, args.seed + 13, f"sched{tag}")
            return time.time()

        run_s, run_id, home = scheduled_run(
            files, tmp, drop_now, lambda: drop(tmp / "drop", warehouse, args.new, args.seed + 14, f"schedwarm{tag}"))
        dropped = time.time() - run_s
        scheduled = {"run_s": run_s, "drop_to_published_s": finished(warehouse, run_id, "publish") - dropped,
                     "drop_to_alert_s": (webhook.first(urgent) or float("nan")) - dropped,
                     "stages": airflow_stages(home)[1]}

    print(f"\nsocialcx freshness benchmark: {args.new:,} new posts into {args.posts:,}, {os.cpu_count()} cores")
    if build_seconds is not None:
        print(f"(warehouse built in {build_seconds:,.0f} s)")
    columns = {"airflow s": air, "direct s": direct, **({"scheduler s": scheduled} if scheduled else {})}
    print(f"\n{'stage':<14}" + "".join(f"{name:>12}" for name in columns))
    for stage in STAGES:
        print(f"{stage:<14}" + "".join(f"{c['stages'].get(stage, float('nan')):>12.1f}" for c in columns.values()))
    for label, key in (("whole run", "run_s"), ("drop->publish", "drop_to_published_s"),
                       ("drop->alert", "drop_to_alert_s")):
        print(f"{label:<14}" + "".join(f"{c[key]:>12.1f}" for c in columns.values()))
    print("(whole run: `airflow dags test` and `socialcx run` from process start to exit; the scheduler's from the "
          "drop to the end of its second run)")
    print(f"\nairflow / socialcx run: {air['run_s'] / direct['run_s']:.2f}x")
    print(f"`airflow dags test` outside the stages' work: {overhead['to_run_start_s']:.1f} s to the DAG run's start, "
          f"{overhead['to_first_task_s']:.1f} s to its first task, {overhead['model_tasks_s']:.1f} s for the "
          f"{overhead['model_tasks']} models' tasks after the dbt build, {overhead['after_run_s']:.1f} s from the "
          "run's end to the process's exit (the first task, an extract, also pays for the execution API's first request)")
    print(f"Airflow's floor: `airflow dags test` of a DAG of the same {floor_tasks} tasks and edges, each doing "
          f"nothing, {floor_s:.1f} s. With the stages' work ({stages_s:.1f} s in `socialcx run`) no run through "
          f"`airflow dags test` costs less than {stages_s + floor_s:.1f} s here: "
          f"{(stages_s + floor_s) / direct['run_s']:.2f}x `socialcx run`. The floor: "
          f"{floor_split['to_run_start_s']:.1f} s to the DAG run's start, {floor_split['to_first_task_s']:.1f} s "
          f"to its first task, {floor_split['first_task_s']:.1f} s that task (the in-process execution API's "
          f"start), {floor_split['later_task_ms']:.0f} ms each later task, {floor_split['after_run_s']:.1f} s from "
          "the run's end to the process's exit")
    if scheduled:
        print(f"scheduler / socialcx run: {scheduled['run_s'] / direct['run_s']:.2f}x")
    if args.keep:
        print(f"kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    webhook.server.shutdown()
    if args.json:
        print(json.dumps({"posts": args.posts, "new_posts": args.new, "airflow_run_s": round(air["run_s"], 2),
                          "direct_run_s": round(direct["run_s"], 2),
                          "drop_to_published_s": round(air["drop_to_published_s"], 2),
                          "drop_to_alert_s": round(air["drop_to_alert_s"], 2),
                          "direct_drop_to_published_s": round(direct["drop_to_published_s"], 2),
                          "direct_drop_to_alert_s": round(direct["drop_to_alert_s"], 2),
                          "airflow_stages_s": {k: round(v, 2) for k, v in air["stages"].items()},
                          "direct_stages_s": {k: round(v, 2) for k, v in direct["stages"].items()},
                          "airflow_overhead": {k: round(v, 2) for k, v in overhead.items()},
                          "airflow_floor_s": round(floor_s, 2), "airflow_floor_tasks": floor_tasks,
                          "airflow_floor_parts": {k: round(v, 2) for k, v in floor_split.items()},
                          "lowest_airflow_ratio": round((stages_s + floor_s) / direct["run_s"], 2),
                          **({"scheduler_run_s": round(scheduled["run_s"], 2),
                              "scheduler_drop_to_published_s": round(scheduled["drop_to_published_s"], 2),
                              "scheduler_drop_to_alert_s": round(scheduled["drop_to_alert_s"], 2),
                              "scheduler_stages_s": {k: round(v, 2) for k, v in scheduled["stages"].items()}}
                             if scheduled else {})}))


if __name__ == "__main__":
    main()
