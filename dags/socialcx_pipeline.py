"""
### socialcx_pipeline

Social customer-service analytics, end to end, once per schedule interval:

1. **extract_<source>** – one task per configured source (`SOCIALCX_SOURCES`, each in the source registry
   `socialcx/core/sources.py`), merged into `raw`.
2. **enrich** – the spaCy pipeline annotates new or changed posts into `enriched.post_nlp`. With
   `SOCIALCX_TARGET=postgres` it is three steps: **enrich_plan** copies raw and enriched into PostgreSQL and queues
   the pending posts there in chunks of `SOCIALCX_NLP_CHUNK_SIZE`; **enrich_chunk** is mapped over the chunks (one
   task each, on whichever Celery worker is free, each chunk one PostgreSQL transaction); **enrich_collect** brings
   the annotations into the working file, does the survey comments and brand topics, and copies enriched back.
3. **transform** – dbt, through astronomer-cosmos in its watcher mode: one task (`dbt_producer_watcher`) runs one
   `dbt build` of every model and data test with dbt's threads, then one task per model reports what that build
   did for the model and the data tests on it, so a failure names the model (and its tests). A model's task that
   failed builds that model alone, and runs its tests, when it is retried.
4. **validate** – Great Expectations suites on raw, enriched and marts, on the partitions whose rows changed
   since they passed, and on every row once a day (`SOCIALCX_FULL_VALIDATION_HOURS`) or when a manual run sets
   the param `full_validation`; a critical failure fails the task and nothing is published.
5. **alert** – negative-sentiment spikes, urgent posts unanswered (at once), negative posts unanswered past SLA, once per incident,
   through the Airflow connections `socialcx_alerts_webhook` (Slack-compatible) and `socialcx_alerts_smtp`. From
   the validated marts, beside publish and ahead of it: an alert waits neither for publishing nor on it.
6. **publish** – the marts, atomically, as a read-only DuckDB file and Parquet files for BI tools.
7. **report** – `reports/latest/index.html`, the KPI report with charts, from the published marts.
8. **retain** – raw text older than `SOCIALCX_RAW_TEXT_RETENTION_DAYS` is replaced by its redacted text.

Every task that opens the DuckDB warehouse runs in the one-slot pool `socialcx_duckdb`: DuckDB allows one
writer per file. The extracts are the exception: the sources fetch at the same time, with no lock held, and their
short writes wait for the file's lock in turn. So are the models' tasks after dbt's one build: they read what it
reported, several at a time, and one that runs dbt itself (a retry) waits for its turn at the file. Under the
CeleryExecutor all of them go to the Celery queue `socialcx_duckdb`, which the one worker that holds the file
serves. On PostgreSQL the enrichment chunks and dbt's tasks do not open it: they run in `default_pool`, on
Airflow's default queue, on any worker.
Tasks are thin; the work is in `socialcx.stages`, which `socialcx run` calls too.

**Backfills.** `airflow backfill create --dag-id socialcx_pipeline --from-date 2026-10-01 --to-date 2026-10-07`
(with the scheduler running, `make up`) re-processes each run's data interval: its posts are re-enriched and
the incremental marts rebuild the conversations opened in it, however old. A manual run can do the same for
any range with the params `backfill_start` / `backfill_end` (YYYY-MM-DD), like `socialcx backfill`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, ExecutionMode, InvocationMode, LoadMode, TestBehavior
from jinja2 import pass_context

from socialcx.core import sources
from socialcx.core.settings import dbt_env, get_settings

POOL = "socialcx_duckdb"
# the Celery queue of the tasks that open the working DuckDB file: served by the one worker that holds the file
# (docker-compose.yml's airflow-worker-duckdb); the other workers take Airflow's default queue
QUEUE = "socialcx_duckdb"
settings = get_settings()
# dbt builds in the DuckDB file, or in PostgreSQL, which takes many writers: the one-slot pool is DuckDB's only
DBT_POOL, DBT_QUEUE = (POOL, QUEUE) if settings.target == "duckdb" else ("default_pool", "default")
for _source in settings.sources:  # an unknown source fails the DAG's import, naming it and the known ones
    sources.get(_source)
MANIFEST = settings.dbt_project_dir / "target" / "manifest.json"
if not MANIFEST.exists():
    raise FileNotFoundError(
        f"dbt manifest {MANIFEST} is missing; create it with `make dbt-manifest` (dbt parse) before loading the DAG"
    )


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _run_conf(context) -> dict:
    """A run's params, overridden by what its trigger passed as conf."""
    return {**(context.get("params") or {}), **(context["dag_run"].conf or {})}


def reprocess_window(context) -> tuple[str, str] | None:
    """The days a run re-processes: the params of a manual run, the data interval of a backfill run, else none."""
    dag_run = context["dag_run"]
    conf = _run_conf(context)
    if conf.get("backfill_start"):
        return str(conf["backfill_start"]), str(conf.get("backfill_end") or conf["backfill_start"])
    if dag_run.run_type == "backfill":
        return context["data_interval_start"].date().isoformat(), context["data_interval_end"].date().isoformat()
    return None


def full_validation_asked(context) -> bool | None:
    """True when a manual run asks for every row to be validated (param ``full_validation``); None leaves it to
    the daily rule (SOCIALCX_FULL_VALIDATION_HOURS)."""
    return True if _run_conf(context).get("full_validation") in (True, "true", "True", 1, "1") else None


@pass_context
def backfill_day(context, end: bool = False) -> str:
    """The first (or, with ``end``, the last) day a run re-processes (`reprocess_window`), as the dbt tasks pass it
    in `dbt build --vars`; empty outside a backfill. A macro of the DAG, so the rule is written once; a call
    compiles in a fifth of the time the rule written out in Jinja did, for each of the 62 dbt tasks a run."""
    window = reprocess_window(context)
    return "" if window is None else window[1 if end else 0]


# the same rule for the dbt tasks, as templates cosmos renders into `dbt build --vars`: outside a backfill they
# render to socialcx.stages.dbt.PIPELINE_VARS, what every other dbt command passes, so dbt keeps its parse
BACKFILL_VARS = {"backfill_start": "{{ socialcx_backfill_day() }}",
                 "backfill_end": "{{ socialcx_backfill_day(end=True) }}"}


# not in the one-slot pool: the extracts of different sources fetch at the same time (network first, no lock held)
# and take turns only for their short writes, waiting on the file's lock (SOCIALCX_LOCK_RETRIES)
@task(queue=QUEUE)
def extract(source: str) -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.extract(source, run_id=_run_id())


@task(pool=POOL, queue=QUEUE)
def enrich() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.enrich(run_id=_run_id(), reprocess=reprocess_window(get_current_context()))


# SOCIALCX_TARGET=postgres: enrichment is mapped over chunks of the pending posts, so that every Celery worker
# annotates some of them; the chunks touch PostgreSQL only, and take no slot of the DuckDB pool
@task(pool=POOL, queue=QUEUE)
def enrich_plan() -> list[dict[str, object]]:
    """raw and enriched into PostgreSQL, the pending posts queued there in chunks: one mapped task per chunk."""
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():
        plan = stages.enrich_plan(run_id=_run_id(), reprocess=reprocess_window(get_current_context()))
        return [{"chunk": chunk, "model": plan["model"]} for chunk in plan["chunks"]]


@task(retries=3)
def enrich_chunk(job: dict[str, object]) -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():
        return stages.enrich_chunk(int(job["chunk"]), run_id=_run_id(), model=str(job["model"]))


# none_failed: with nothing pending there is no chunk, and the mapped task is skipped; this still runs
@task(pool=POOL, queue=QUEUE, trigger_rule="none_failed")
def enrich_collect() -> dict[str, object]:
    """The chunks' annotations into the working file; survey comments and brand topics; enriched into PostgreSQL."""
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():
        return stages.enrich_collect(run_id=_run_id())


@task(pool=POOL, queue=QUEUE)
def from_postgres() -> dict[str, int]:
    """SOCIALCX_TARGET=postgres: the marts dbt built there, into the working file validation reads."""
    from socialcx.core.logs import task_hygiene
    from socialcx.stages.transformation import sync_to_postgres

    with task_hygiene():
        return {"rows": sum(sync_to_postgres(get_settings(), back=True).values())}


def _profile() -> ProfileConfig:
    """dbt's profile: the project's duckdb output; on PostgreSQL, cosmos' mapping of the Airflow connection
    socialcx_warehouse (AIRFLOW_CONN_SOCIALCX_WAREHOUSE=postgresql://...), read when a task runs, so no secret is
    in the DAG."""
    if settings.target == "postgres":
        from cosmos.profiles import PostgresUserPasswordProfileMapping

        return ProfileConfig(profile_name="socialcx", target_name="postgres",
                             profile_mapping=PostgresUserPasswordProfileMapping(
                                 conn_id="socialcx_warehouse", profile_args={"schema": "public", "threads": 2}))
    return ProfileConfig(profile_name="socialcx", target_name="duckdb",
                         profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml")


@task(pool=POOL, queue=QUEUE)
def validate() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.validate(run_id=_run_id(), full=full_validation_asked(get_current_context()))


@task(pool=POOL, queue=QUEUE)
def publish() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.publish(run_id=_run_id())


@task(pool=POOL, queue=QUEUE)
def report() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.report(run_id=_run_id())


# right after validation, beside publish and ahead of it: what is urgent waits neither for the marts to be published
# nor on publishing succeeding (it reads the validated marts). Both take the one slot: with weight 5 against
# publish's 3 (itself, report, retain) the scheduler gives the alert the slot first
@task(pool=POOL, queue=QUEUE, priority_weight=5)
def alert() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.alert(run_id=_run_id())


@task(pool=POOL, queue=QUEUE)
def retain() -> dict[str, object]:
    from socialcx import stages
    from socialcx.core.logs import task_hygiene

    with task_hygiene():  # secrets and e-mails masked in the task log, errors included
        return stages.retain(run_id=_run_id())


def _watcher_pushes_only_what_its_tasks_read() -> None:
    """Three cosmos defaults that cost the watcher's one `dbt build` most of its time, and buy nothing here.

    - Every XCom the producer pushes is also written, with all the previous ones, to an Airflow Variable, so that
      a retry of the producer can restore them (`[cosmos] enable_watcher_reliable_retry`). The producer is not
      retried here (its `retries` is 0), and the rewrite grows with every push.
    - Each model's dbt events (start, compiling, executing, finished) are pushed one by one, so that a task
      watching the model can log them as they come. The tasks here start after the producer: each reads only the
      last one. The finished event and errors are still pushed.
    - Every dbt test's events are pushed too, under the test's id; no task reads them (a model's test task reads
      the status of all its tests, aggregated), and a model's events are pushed when it succeeded, where its task
      logs no more than its state says. Each push is a call to Airflow's API that the dbt thread waits for (about
      30 ms of the API's CPU under `airflow dags test`): 166 of the 328 pushes of a run. What is left: each node's
      status, each model's compiled SQL (its task's rendered template), and the events of a model that failed or
      was skipped, whose task log then says why; all of it pushed once the build has ended (`_producer_pushes_once`).

    All are module settings of the pinned cosmos, so they hold for every DAG the process loads: another watcher
    DAG there would lose only its event logs of tests and of models that succeeded, and on a producer retry its
    tasks would re-run their models one by one instead of reading restored results (cosmos' own fallback), slower
    but the same. An upgrade that drops any leaves cosmos' defaults (slower, not broken);
    tests/dags/test_dag_integrity.py then fails.
    """
    from cosmos import settings as cosmos_settings
    from cosmos.operators._watcher import base as watcher

    cosmos_settings.enable_watcher_reliable_retry = False
    errors = getattr(watcher, "_DBT_ERROR_EVENTS_TYPES", None)
    if errors is not None and hasattr(watcher, "_DBT_EVENT_ALLOWLIST"):
        watcher._DBT_EVENT_ALLOWLIST = errors | {"NodeFinished"}
    push_event = getattr(watcher, "_process_dbt_log_event", None)
    if push_event is None or getattr(push_event, "socialcx_read_events_only", False):
        return

    def push_read_events(task_instance, dbt_log: dict) -> None:
        node = (dbt_log.get("data") or {}).get("node_info") or {}
        if node.get("resource_type") == "test" or node.get("node_status") == "success":
            return None
        return push_event(task_instance, dbt_log)

    push_read_events.socialcx_read_events_only = True
    watcher._process_dbt_log_event = push_read_events


# What the producer's one `dbt build` reported, in one XCom pushed once it has ended (`_producer_pushes_once`): each
# node that succeeded and each model whose data tests passed ("succeeded"), and each model's compiled SQL
# ("compiled_sql"), both under cosmos' own keys. A model's task reads it once (`_build_of`): its template (`MODEL_SQL`)
# takes the SQL, its poke (`lean_poke`) the status
BUILD_KEY = "socialcx_build"


class _HeldPushes:
    """The producer's task instance as cosmos' producer sees it during its `dbt build`: its XComs are held in
    memory, not pushed one by one from dbt's threads. Everything else is the task instance's own."""

    def __init__(self, ti) -> None:
        import threading

        object.__setattr__(self, "_ti", ti)
        object.__setattr__(self, "_held", {})
        object.__setattr__(self, "_lock", threading.Lock())

    def __getattr__(self, name):
        if name in ("_ti", "_held", "_lock"):  # not set yet (a copy): no recursion
            raise AttributeError(name)
        return getattr(self._ti, name)

    def __setattr__(self, name, value) -> None:
        setattr(self._ti, name, value)

    def xcom_push(self, key: str, value, **kwargs) -> None:
        with self._lock:
            self._held[key] = value

    def xcom_pull(self, task_ids=None, key: str = "return_value", **kwargs):
        with self._lock:
            if task_ids in (None, self._ti.task_id) and key in self._held:
                return self._held[key]
        return self._ti.xcom_pull(task_ids=task_ids, key=key, **kwargs)

    def push(self) -> int:
        """Push what was held: the successes and the compiled SQL in one XCom, the rest (a failure, a skip,
        a failed test's verdict, the events a failed model's task logs, cosmos' own keys) one by one under its own
        key, where cosmos' poke reads it. Returns the number of pushes."""
        from cosmos.operators._watcher.state import is_dbt_node_status_success

        with self._lock:
            held = dict(self._held)
        built, sql, pushes = {}, {}, 0
        for key, value in held.items():
            if key.endswith("_compiled_sql"):
                sql[key] = value
            elif key.endswith("_tests_status") and is_dbt_node_status_success(value):
                built[key] = value
            elif (key.endswith("_status") and not key.endswith("_tests_status") and isinstance(value, dict)
                  and is_dbt_node_status_success(value.get("status"))):
                built[key] = value
            else:
                self._ti.xcom_push(key=key, value=value)
                pushes += 1
        self._ti.xcom_push(key=BUILD_KEY, value={"succeeded": built, "compiled_sql": sql})
        return pushes + 1


def _producer_pushes_once() -> None:
    """The producer pushes what its `dbt build` reported once the build has ended, not node by node during it.

    cosmos' producer pushes each node's status, each model's compiled SQL and each model's tests' verdict as dbt
    reports them (170 XComs a build at 1M), so that a model's task watching beside the build can end as soon as its
    model is built. Here the models' tasks start once the producer has ended (`_producer_first`), so nothing reads
    a push before then. Each push is a call to Airflow's API that a dbt thread waits for, under a lock both threads
    share, and that the API's process spends CPU on; on 2 cores that CPU is the build's. The producer now holds
    them (`_HeldPushes`) and pushes, once dbt has ended, whatever the outcome:

    - one XCom (`BUILD_KEY`) with every node that succeeded and every model whose data tests passed, and every
      model's compiled SQL, under cosmos' own keys. A model's task reads it once (`_build_of`), as its template is
      rendered: the SQL is the template (`MODEL_SQL`), and the task ends there when its model and tests passed
      (`lean_poke`). One XCom, not one for the successes and one for the SQL: one call to Airflow's API less for each
      of the 61 tasks (about 15 ms each under `airflow dags test`);
    - everything else under its own key, as cosmos pushed it: a failure, a skip, a failed test's verdict, a failed
      model's events, cosmos' command flags and end mark. cosmos' poke reads those, for a model that did not
      succeed and on a retry, as before.

    A producer killed mid-build pushes nothing: each model's task then finds no status and a failed producer, and
    runs its model itself (cosmos' fallback), as when the producer fails before dbt starts. Patched once per
    process, like the other cosmos settings here.
    """
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    execute = DbtProducerWatcherOperator.execute
    if getattr(execute, "socialcx_pushes_once", False):
        return

    def execute_pushing_once(self, context, **kwargs):
        from socialcx.stages.runs import long_lived_frozen

        held = _HeldPushes(context["ti"])
        try:
            with long_lived_frozen():  # the garbage collector walks what the build makes, not all Airflow holds
                result = execute(self, {**context, "ti": held, "task_instance": held}, **kwargs)
        except BaseException:
            try:  # what dbt reported before it failed: the models' tasks read it; the build's error is the one raised
                held.push()
            except Exception:
                self.log.exception("What dbt reported could not be pushed; each model's task will run its model")
            raise
        self.log.info("Pushed what dbt reported in %d XComs", held.push())
        return result

    execute_pushing_once.socialcx_pushes_once = True
    DbtProducerWatcherOperator.execute = execute_pushing_once


# the debug-level dbt events the producer's callback still sees: each node's end (its status) and the version lines
_READ_DEBUG_EVENTS = frozenset({"NodeFinished", "MainReportVersion", "AdapterRegistered"})


def _watcher_reads_only_what_it_shows() -> None:
    """Two more cosmos defaults that cost each run seconds of Airflow's API, for nothing a task shows.

    - The producer turns every dbt event into JSON and parses it back (``MessageToJson`` in its callback), debug
      events included: each SQL statement, connection and cache step, thousands a build. Its parser reads a node's
      end (``NodeFinished``, debug level), errors and the version lines; the task log shows INFO and above. The
      callback now sees the events at INFO and above, those three and the errors; the rest never reach it.
    - Each model's task, when the producer reported success, makes six calls to Airflow's
      API: the producer's state, its version lines (logged at debug level), the status, the compiled SQL, the
      rendered template, the model's dbt events (never pushed for a success, see above). The first, second and last
      are read only on a retry, when no status came or when the node did not succeed. On a first try that
      succeeded a task now reads one XCom, what the build reported (`_producer_pushes_once`): every success, which
      holds its model's status and its tests' verdict when it has tests (`_tests_in_model_tasks`), and every
      model's compiled SQL. It reads it as its template is rendered, before it runs (the SQL is the template,
      `_producer_first`), so the rendered template is written once, not again after the task, and its poke takes
      what the render kept (`_build_of`): one call (about 15 ms under `airflow dags test`), two when a verdict is
      not a pass. Anything else (a retry, no status, a failure, a skip) goes through cosmos' own poke, as before.

    Module settings of the pinned cosmos, as above: an upgrade that drops a name leaves cosmos' defaults;
    tests/dags/test_dag_integrity.py then fails.
    """
    import cosmos.dbt.runner as dbt_runner
    from cosmos.operators._watcher import base as watcher
    from cosmos.operators._watcher.state import get_status_xcom_key, is_dbt_node_status_success

    run_command = dbt_runner.run_command
    if not getattr(run_command, "socialcx_events_read", False):
        read = _READ_DEBUG_EVENTS | getattr(watcher, "_DBT_ERROR_EVENTS_TYPES", frozenset())

        def reading(callback):
            def read_event(event) -> None:
                if event.info.level != "debug" or event.info.name in read:
                    callback(event)
            return read_event

        def run_command_reading_events(command, env, cwd, callbacks=None, **kwargs):
            return run_command(command, env, cwd, callbacks=[reading(c) for c in callbacks or []] or callbacks,
                               **kwargs)

        run_command_reading_events.socialcx_events_read = True
        dbt_runner.run_command = run_command_reading_events

    poke = watcher.BaseConsumerSensor.poke
    if getattr(poke, "socialcx_lean", False):
        return

    def lean_poke(self, context) -> bool:
        ti = context["ti"]
        if ti.try_number == 1:
            built = _build_of(self, ti, take=True).get("succeeded") or {}
            status = (built.get(get_status_xcom_key(self.model_unique_id)) or {}).get("status")
            if is_dbt_node_status_success(status):  # the SQL is rendered already: _producer_first's template
                _its_tests_passed(self, ti, built)
                return True
        return poke(self, context)

    lean_poke.socialcx_lean = True
    watcher.BaseConsumerSensor.poke = lean_poke


def _fallbacks_take_turns() -> None:
    """A model's task that runs dbt itself waits for its turn at the DuckDB file, and holds the file while it runs.

    The models' tasks only read what the producer pushed, so they run outside the one-slot pool, several at a time
    (as many as the executor's parallelism allows: a 0.1% run of 20k posts through a scheduler 42.6-44.1 s against
    45.7-49.3 s in the one slot, benchmarks/README.md). A retry, or a task whose producer failed before it built
    anything, falls back to cosmos' own run of its model with dbt in the task's process; two of them would open the
    file at once, and dbt-duckdb does not wait for a lock. So each takes the machine's turn (`writer_turn`), then
    holds the file as `socialcx transform` does (dbt's connections in the process share it), and lets it go before
    the turn passes on. On PostgreSQL dbt does not open the file: nothing to wait for. Patched once per process,
    like the poke above.
    """
    from cosmos.operators._watcher import base as watcher

    fallback = watcher.BaseConsumerSensor._fallback_to_non_watcher_run
    if settings.target != "duckdb" or getattr(fallback, "socialcx_turns", False):
        return

    def in_turn(self, try_number: int, context) -> bool:
        from socialcx.core.warehouse import open_warehouse, writer_turn
        from socialcx.stages.dbt import release_dbt_connections

        with writer_turn(settings.warehouse):
            try:
                with open_warehouse(settings.warehouse, retries=settings.lock_retries):
                    return fallback(self, try_number, context)
            finally:
                release_dbt_connections()  # dbt-duckdb keeps the file open; the next in turn needs it

    in_turn.socialcx_turns = True
    watcher.BaseConsumerSensor._fallback_to_non_watcher_run = in_turn


def _its_tests_passed(task, ti, built: dict) -> None:
    """A model's task succeeds when the model was built and every data test on it passed (`_tests_in_model_tasks`).
    A passing verdict is in what the producer pushed as built (`_producer_pushes_once`); any other is read from its
    own key."""
    tests = getattr(task, "socialcx_tests", ())
    if not tests:
        return
    from airflow.exceptions import AirflowException
    from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
    from cosmos.operators._watcher.state import get_xcom_val, is_dbt_node_status_success

    key = get_tests_status_xcom_key(task.model_unique_id)
    verdict = built.get(key)
    if is_dbt_node_status_success(verdict):
        return
    verdict = get_xcom_val(ti, task.producer_task_id, key)
    if is_dbt_node_status_success(verdict):
        return
    what = "a data test on it failed" if verdict is not None else "its data tests reported no result"
    names = ", ".join(sorted(test.split(".")[2] for test in tests))
    raise AirflowException(
        f"dbt built '{task.model_unique_id}', but {what}; the log of '{task.producer_task_id}' names the test, and "
        f"the models after it were not built. Its tests: {names}. A retry builds the model and runs its tests again.")


def _members(group) -> tuple[dict, object]:
    """The watcher group's tasks by id, and its producer (the one `dbt build`)."""
    tasks = {member.task_id: member for member in group.iter_tasks()}
    return tasks, tasks[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]


def _tests_in_model_tasks(group) -> None:
    """Each model's task reports the model and the data tests on it: one task per model, not two.

    cosmos renders a task per model and, with TestBehavior.AFTER_EACH, another per model's tests: 48 of the 109
    tasks that report what the producer's one `dbt build` did. Under a scheduler each costs a process and a turn of
    the one-slot pool (about 1.2 s a task with Airflow's default idle sleep, measured), under `airflow dags test`
    about 110 ms; under the watcher the tests' task only reads a verdict the producer pushed. cosmos'
    TestBehavior.BUILD, which folds them, is refused in watcher mode. So the group renders no test task
    (TestBehavior.NONE), and here:

    - the producer's `dbt build` still runs every data test: cosmos limits it to models, seeds and snapshots under
      TestBehavior.NONE (`--resource-type`), and those flags are removed. dbt still skips what follows a test that
      failed, so a bad row never reaches the marts;
    - a model's task reads its tests' verdict (`_its_tests_passed`) after its own status, and fails naming the model
      and its tests when one failed;
    - a retry of that task runs `dbt build --select <model>` (the model, then its tests), not `dbt run`.

    A model with no data test reads its status only, as before.
    """
    tasks, producer = _members(group)
    flags, kept = list(producer.dbt_cmd_flags or []), []
    while flags:
        flag = flags.pop(0)
        if flag == "--resource-type":
            flags.pop(0)
        else:
            kept.append(flag)
    producer.dbt_cmd_flags = kept
    tests_per_node = producer.tests_per_model
    for member in tasks.values():
        tests = tests_per_node.get(getattr(member, "model_unique_id", None) or "")
        if member is not producer and tests:
            member.socialcx_tests = tuple(tests)
            member.base_cmd = ["build"]


def _build_of(task, ti, take: bool = False) -> dict:
    """What the producer's build reported (`BUILD_KEY`), as a model's task reads it: once a try. Its template
    (`model_sql`) reads it first, while the task's fields are rendered, and keeps it on the task for that task
    instance; its poke (`lean_poke`) then takes what was kept (``take``: the task holds it no longer, nor the task
    instance). Another task instance (a retry, a test's) reads it again."""
    kept = getattr(task, "socialcx_build", None)
    if kept is not None and kept[0] is ti:
        if take:
            task.socialcx_build = None
        return kept[1]
    build = ti.xcom_pull(task_ids=task.producer_task_id, key=BUILD_KEY) or {}
    task.socialcx_build = None if take else (ti, build)
    return build


def model_sql(ti, task) -> str:
    """A model's compiled SQL as the producer pushed it, among every model's, under cosmos' key: the rendered
    template of the model's task (`MODEL_SQL`, a macro of the DAG). Empty when the producer pushed none."""
    from cosmos.operators._watcher.state import get_compiled_sql_xcom_key

    return (_build_of(task, ti).get("compiled_sql") or {}).get(get_compiled_sql_xcom_key(task.model_unique_id)) or ""


# the template of a model's task's `compiled_sql`: the macro above, on the task's own attributes (no id in the text)
MODEL_SQL = "{{ socialcx_model_sql(ti, task) }}"


BUILT = ("model.", "seed.", "snapshot.")  # the nodes a task of the group builds (its tests are in its task)


def _producer_first(group, own_node: bool = False) -> None:
    """The watcher's per-model tasks read what the producer's one `dbt build` reported, so they start after it.

    cosmos starts them beside the producer and lets them wait deferred; run one task at a time (`airflow dags
    test`, a one-slot pool) a task that waits for a producer that cannot start never ends. They start once it is
    done, whether it succeeded or not (`all_done`): a model that failed fails its own task. ``own_node``: the group
    renders one node (`_own_node`), whose trigger rule is then read from its parents in dbt's graph.
    """
    tasks, producer = _members(group)
    nodes = group.dbt_graph.nodes if own_node else {}  # every node of the project, when the group renders one
    for member in tasks.values():
        # the producer builds in the warehouse: on DuckDB it takes the one slot. The models' tasks read what it
        # pushed, several at a time; one that runs dbt itself (a retry) waits for its turn (`_fallbacks_take_turns`)
        member.pool = DBT_POOL if member is producer else "default_pool"
        member.queue = DBT_QUEUE
        # each template field rendered once: cosmos names `compiled_sql` twice among a model's task's fields, and
        # rendered twice the model's SQL itself was read as a Jinja template (a `{#` in a string literal failed it)
        member.template_fields = tuple(dict.fromkeys(member.template_fields))
        # the node's own task, rendered alone, has none of the upstream tasks the whole group gives it: its
        # parents in dbt's graph say whether it has
        dbt_node = nodes.get(getattr(member, "model_unique_id", None) or "")
        built_after = [parent for parent in (dbt_node.depends_on if dbt_node else ()) if parent.startswith(BUILT)]
        if member is not producer and not built_after and not member.upstream_task_ids & tasks.keys():
            producer >> member
            member.trigger_rule = "all_done"
        node = getattr(member, "model_unique_id", None) or ""
        if node.startswith("model.") and not getattr(member, "is_test_sensor", True):
            member.compiled_sql = MODEL_SQL  # rendered with the task's other template fields, before it runs



def _own_node() -> list[str]:
    """The dbt node whose task this process runs, when it is one model's or seed's task; nothing otherwise.

    Under a scheduler each task runs in its own process, which parses this file to find its operator: building
    cosmos' 60 operators was 0.12 s of each model task's 0.45 s (py-spy, session 22), for one operator. Airflow's
    parsing context names the task being run (None when the dag-processor or `airflow dags test` parses), so such a
    process renders the group for that node alone: the same operator (tests/dags/test_dag_integrity.py compares
    each with the full render), without the other 59. The producer's own process still renders everything."""
    from airflow.sdk import get_parsing_context

    context = get_parsing_context()
    group, _, name = (context.task_id or "").partition(".")
    if context.dag_id != "socialcx_pipeline" or group != "transform" or name == PRODUCER_WATCHER_TASK_ID:
        return []
    for suffix in ("_run", "_seed"):
        if name.endswith(suffix):
            return [name.removesuffix(suffix)]
    return []


@dag(
    dag_id="socialcx_pipeline",
    schedule=settings.schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["socialcx"],
    doc_md=__doc__,
    user_defined_macros={"socialcx_model_sql": model_sql, "socialcx_backfill_day": backfill_day},
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "owner": "socialcx"},
    params={
        "backfill_start": Param("", type="string", description="re-process from this day (YYYY-MM-DD); empty: no"),
        "backfill_end": Param("", type="string", description="re-process up to this day, inclusive"),
        "full_validation": Param(False, type="boolean",
                                 description="validate every row now, not only what changed (daily by default)"),
    },
)
def socialcx_pipeline() -> None:
    extracts = [extract.override(task_id=f"extract_{source}")(source) for source in settings.sources]
    if settings.target == "postgres":
        plan = enrich_plan()
        enriched = enrich_chunk.expand(job=plan) >> enrich_collect()
        extracts >> plan
    else:
        enriched = enrich()
        extracts >> enriched
    own_node = _own_node()
    transform = DbtTaskGroup(
        group_id="transform",
        project_config=ProjectConfig(
            dbt_project_path=settings.dbt_project_dir,
            manifest_path=MANIFEST,
            env_vars=dbt_env(settings, connection=False),
        ),
        profile_config=_profile(),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # one `dbt build` is not retried whole: a model task that failed re-runs its model alone on retry.
            # Unit tests check the SQL, not the data: `make test` runs them, a pipeline run does not (as `socialcx run`)
            # dbt's debug log file goes to the copy of the project cosmos deletes after the build: not written;
            # nor are manifest.json (1.7 MB, after parsing and again at the end) and run_results.json, which nothing
            # reads there (`socialcx run` skips them too): 0.3-0.5 s of the producer after dbt ends, at 1M posts
            setup_operator_args={"retries": 0, "dbt_cmd_flags": ["--exclude-resource-type", "unit_test",
                                                                 "--log-level-file", "none", "--no-write-json"]},
        ),
        # no Airflow asset per model: no DAG here is scheduled on one, and each would cost every model's task an
        # asset event (the DuckDB file's path in its URI). cosmos reads this from RenderConfig only (operator_args'
        # emit_datasets is overridden by it)
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.NONE,
                                   emit_datasets=False, select=own_node),
        operator_args={"pool": DBT_POOL, "queue": DBT_QUEUE, "install_deps": False,
                       "vars": BACKFILL_VARS},
    )
    _producer_first(transform, own_node=bool(own_node))
    _tests_in_model_tasks(transform)
    _watcher_pushes_only_what_its_tasks_read()
    _producer_pushes_once()
    _watcher_reads_only_what_it_shows()
    _fallbacks_take_turns()
    validated, published = validate(), publish()
    if settings.target == "postgres":
        enriched >> transform >> from_postgres() >> validated
    else:
        enriched >> transform >> validated
    validated >> [alert(), published]
    published >> [report(), retain()]


socialcx_pipeline()
