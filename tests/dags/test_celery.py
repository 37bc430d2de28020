"""The DAG on the CeleryExecutor, with real parts on loopback: Debian's redis-server as the broker, a real
PostgreSQL for Airflow's metadata and another database for the warehouse (SOCIALCX_TARGET=postgres), Airflow's
api-server, scheduler, dag-processor and triggerer, and two `airflow celery worker` processes, as
docker-compose.yml runs them: one serving the queue of the tasks that open the working DuckDB file, one the default
queue (the mapped enrichment chunks and dbt's tasks). The published marts must equal those of the same world built
on DuckDB.

Marked ``celery``: it runs the whole DAG task by task (about ten minutes here), so `make test` leaves it out and
`.ci/run` runs it after (`make test-celery`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from socialcx.core import postgres
from tests.support import ROOT, VENV_BIN, parity
from tests.support.postgres_server import free_port
from tests.support.redis_server import redis_command, stop

pytestmark = [pytest.mark.integration, pytest.mark.celery]
POSTS, SEED, CHUNK = 400, 3, 150
IGNORED = ("changed_at",)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=ROOT, start_new_session=True)


def _airflow(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(VENV_BIN / "airflow"), *args], env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_celery_worker_runs_the_dag_on_postgres(postgres_server, tmp_path):
    meta_url = postgres.parse_url(postgres_server.create_database("airflow_meta"))
    warehouse_url = postgres_server.create_database("celery_warehouse")
    redis_port, api_port = free_port(), free_port()
    sqlalchemy = (f"postgresql+psycopg2://{meta_url.user}:{meta_url.password}@{meta_url.host}:{meta_url.port}/"
                  f"{meta_url.database}")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sqlalchemy,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",  # as docker-compose.yml
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",  # as docker-compose.yml
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW_CONN_SOCIALCX_WAREHOUSE": warehouse_url,
        "SOCIALCX_TARGET": "postgres",
        "SOCIALCX_SCHEDULE": "@once",
        "SOCIALCX_WAREHOUSE": str(tmp_path / "wh" / "socialcx.duckdb"),
        "SOCIALCX_PUBLISH_DIR": str(tmp_path / "published"),
        "SOCIALCX_REPORTS_DIR": str(tmp_path / "reports"),
        "SOCIALCX_SAMPLE_POSTS": str(POSTS),
        "SOCIALCX_SAMPLE_SEED": str(SEED),
        "SOCIALCX_NLP_CHUNK_SIZE": str(CHUNK),  # three chunks: three mapped tasks share the worker's two slots
    }
    env.pop("SOCIALCX_POSTGRES_URL", None)  # the tasks find the warehouse through the Airflow connection
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [_start(redis_command(redis_port, "the Celery test"), env, logs / "redis.log")]
    try:
        _airflow(env, "db", "migrate")
        _airflow(env, "pools", "set", "socialcx_duckdb", "1", "DuckDB writers")
        airflow = str(VENV_BIN / "airflow")
        for component in (["api-server", "--host", "127.0.0.1", "--port", str(api_port)],
                          ["scheduler", "--skip-serve-logs"], ["dag-processor"], ["triggerer", "--skip-serve-logs"],
                          # as docker-compose.yml: one worker beside the DuckDB file for its queue, one for the rest
                          ["celery", "worker", "--concurrency", "1", "--queues", "socialcx_duckdb", "--celery-hostname",
                           "duckdb@%h", "--skip-serve-logs"],
                          ["celery", "worker", "--concurrency", "2", "--queues", "default", "--celery-hostname",
                           "default@%h", "--skip-serve-logs"]):
            name = "-".join(part for part in component[:4] if not part.startswith("-"))
            processes.append(_start([airflow, *component], env, logs / f"{name}.log"))
        deadline = time.monotonic() + 120
        while "socialcx_pipeline" not in _airflow(env, "dags", "list", "-o", "json"):
            assert time.monotonic() < deadline, "the dag-processor did not parse the DAG"
            time.sleep(3)
        _airflow(env, "dags", "unpause", "socialcx_pipeline")  # @once: one run now
        state, deadline = None, time.monotonic() + 1500
        while state not in ("success", "failed"):
            assert time.monotonic() < deadline, f"the run did not finish: {state}"
            time.sleep(10)
            runs = _json(_airflow(env, "dags", "list-runs", "socialcx_pipeline", "-o", "json"))
            state = runs[0]["state"] if runs else None
        ran = _task_executors(meta_url)
        assert state == "success", {k: v for k, v in ran.items() if v[0] != "success"}
    finally:
        for process in reversed(processes):
            stop(process)
    # every task ran, each sent through Celery (the broker's task id is the executor's id for it)
    assert len(ran) > 60  # the stages, the producer, one task per model (58) and per seed
    missing = {task: (state, celery_id) for task, (state, celery_id, _) in ran.items()
               if not (state == "success" and celery_id)}
    assert not missing, missing
    assert {"enrich_plan", "enrich_collect", "from_postgres"} <= ran.keys()
    states = _map_states(meta_url)
    chunks = {index: state for (task, index), (state, _) in states.items() if task == "enrich_chunk"}
    assert chunks == {0: "success", 1: "success", 2: "success"}  # 301-450 pending posts: three chunks of 150
    # the tasks that open the DuckDB file went to its worker's queue; the chunks and dbt's tasks to the other
    queues = {task: queue for (task, _), (_, queue) in states.items()}
    assert {queues[t] for t in ("enrich_plan", "enrich_collect", "from_postgres", "validate", "publish")} == \
        {"socialcx_duckdb"}
    assert {queues["enrich_chunk"], queues["transform.dbt_producer_watcher"]} == {"default"}

    # what BI reads in PostgreSQL is what DuckDB builds from the same world
    from socialcx import stages
    from socialcx.core.settings import Settings

    duck_env = {"SOCIALCX_TARGET": "duckdb", "SOCIALCX_WAREHOUSE": str(tmp_path / "duck" / "socialcx.duckdb"),
                "SOCIALCX_PUBLISH_DIR": str(tmp_path / "duck_published"),
                "SOCIALCX_REPORTS_DIR": str(tmp_path / "duck_reports")}
    old = {key: os.environ.get(key) for key in duck_env}
    os.environ.update(duck_env)
    try:
        for stage in ("extract", "enrich", "transform"):
            if stage == "extract":
                stages.extract("sample", settings=Settings(), posts=POSTS, seed=SEED)
            else:
                getattr(stages, stage)(settings=Settings())
    finally:
        for key, value in old.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    pg = postgres.connect(postgres.parse_url(warehouse_url))
    with duckdb.connect(duck_env["SOCIALCX_WAREHOUSE"]) as duck:  # this process built it: same configuration
        tables = parity.table_names(duck, "marts", postgres=False)
        assert tables == parity.table_names(pg, "published", postgres=True)
        different = {}
        for table in tables:
            # changed_at is when a row's posts were loaded: two builds, two clocks
            difference = parity.compare_table(parity.rows(duck, "marts", table, postgres=False, ignore=IGNORED),
                                              parity.rows(pg, "published", table, postgres=True, ignore=IGNORED))
            if difference:
                different[table] = difference
    pg.close()
    assert not different, different


def _json(out: str) -> list:
    """The JSON the CLI printed (Airflow may log lines before it)."""
    lines = [line for line in out.splitlines() if line.startswith(("[", "{"))]
    return json.loads(lines[-1]) if lines else []


def _map_states(meta) -> dict[tuple[str, int], tuple[str, str]]:
    """(task_id, map_index) -> (state, Celery queue) of the run's task instances."""
    con = postgres.connect(meta)
    try:
        with con.cursor() as cur:
            cur.execute("select task_id, map_index, state, queue from task_instance "
                        "where dag_id = 'socialcx_pipeline'")
            return {(task, index): (state, queue) for task, index, state, queue in cur.fetchall()}
    finally:
        con.close()


def _task_executors(meta) -> dict[str, tuple[str, str, str]]:
    """task_id -> (state, Celery task id, hostname) of the run's task instances, from Airflow's metadata database."""
    con = postgres.connect(meta)
    try:
        with con.cursor() as cur:
            # an EmptyOperator (cosmos' "done" marker) is completed by the scheduler itself, never sent anywhere
            cur.execute("select task_id, state, coalesce(external_executor_id, ''), coalesce(hostname, '') "
                        "from task_instance where dag_id = 'socialcx_pipeline' "
                        "and coalesce(operator, '') <> 'EmptyOperator'")
            rows = cur.fetchall()
    finally:
        con.close()
    return {task: (state, executor, host) for task, state, executor, host in rows}
