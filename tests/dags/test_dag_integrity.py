"""The DAG file imports cleanly and wires the expected tasks. Parsing needs no database (cosmos reads the manifest)."""

from __future__ import annotations

import types

import pytest

from tests.support import ROOT


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(bag):
    assert bag.import_errors == {}
    assert "socialcx_pipeline" in bag.dags


def _run(dag, model: str) -> str:
    """The task that reports a model and the data tests on it."""
    return f"transform.{model}_run"


def test_task_graph_is_extract_enrich_transform_validate_publish(bag):
    dag = bag.dags["socialcx_pipeline"]
    ids = set(dag.task_ids)
    models = {"stg_raw__posts", "stg_raw__brands", "stg_raw__customers", "stg_raw__orders", "stg_enriched__post_nlp",
              "int_posts_enriched", "int_posts_threaded", "int_brands_resolved", "int_conversations_aggregated",
              "int_conversations_business_time", "fct_posts", "fct_conversations", "dim_brands", "dim_customers",
              "mart_service_performance", "mart_sentiment", "mart_amplification", "mart_amplification_daily",
              "mart_advocates", "mart_spike_drivers", "mart_engagement_value", "mart_brand_health",
              "fct_survey_responses", "mart_nps", "mart_nps_by_service_experience", "fct_detractor_loops",
              "mart_closed_loop", "mart_promoter_voice"}
    assert {"extract_sample", "enrich", "validate", "publish", "report", "alert", "retain"} <= ids
    task = dag.get_task
    # one `dbt build` (the watcher's producer), then one task per model (and its data tests), in dbt's order
    assert task("extract_sample").downstream_task_ids == {"enrich"}
    assert task("enrich").downstream_task_ids == {"transform.dbt_producer_watcher"}
    producer = task("transform.dbt_producer_watcher")
    assert type(producer).__name__ == "DbtProducerWatcherOperator"
    assert "--exclude-resource-type" in producer.dbt_cmd_flags  # unit tests run in `make test`, not on data
    # dbt's debug log would go to the project's copy cosmos deletes after the build
    assert producer.dbt_cmd_flags[producer.dbt_cmd_flags.index("--log-level-file") + 1] == "none"
    assert "--no-write-json" in producer.dbt_cmd_flags  # nor its manifest and results, which nothing reads there
    for model in models:
        assert type(task(_run(dag, model))).__name__ == "DbtRunWatcherOperator"
        assert task(_run(dag, model)).emit_datasets is False  # no asset event per model
    assert producer._should_generate_model_uris is False
    # a model's data tests are reported by the model's own task: no task of its own (_tests_in_model_tasks)
    assert not [t for t in ids if t.endswith(".test") or ".run" in t]
    assert len([t for t in dag.tasks if t.task_id.startswith("transform.") and t is not producer]) == 62
    # ... and the producer's `dbt build` runs them: no --resource-type limits it to models, seeds and snapshots
    assert "--resource-type" not in producer.dbt_cmd_flags
    assert set(producer.tests_per_model["model.socialcx.fct_conversations"]) == set(
        task(_run(dag, "fct_conversations")).socialcx_tests)
    assert "test.socialcx.unique_fct_conversations_conversation_id" in {
        t.rsplit(".", 1)[0] for t in task(_run(dag, "fct_conversations")).socialcx_tests}
    assert task(_run(dag, "fct_conversations")).base_cmd == ["build"]  # a retry builds it and runs its tests
    assert getattr(task(_run(dag, "stg_raw__survey_responses")), "socialcx_tests", ()) == ()  # it has none
    assert task(_run(dag, "stg_raw__survey_responses")).base_cmd == ["run"]
    # the models' tasks start once the producer is done, whatever its outcome: a failed model fails its own task
    root = task(_run(dag, "stg_raw__posts"))
    assert root.upstream_task_ids == {"transform.dbt_producer_watcher"} and root.trigger_rule == "all_done"
    assert _run(dag, "int_posts_enriched") in task(_run(dag, "int_posts_threaded")).upstream_task_ids
    assert _run(dag, "fct_conversations") in task(_run(dag, "int_conversations_business_time")).downstream_task_ids
    assert _run(dag, "mart_spike_drivers") in task(_run(dag, "mart_sentiment")).downstream_task_ids
    # cosmos links the group's leaves to what follows it
    assert task("validate").upstream_task_ids >= {_run(dag, "mart_service_performance"),
                                                  _run(dag, "mart_brand_health"), _run(dag, "mart_spike_drivers"),
                                                  "transform.dbt_producer_watcher_done"}
    assert task("validate").downstream_task_ids == {"alert", "publish"}
    assert task("publish").downstream_task_ids == {"report", "retain"}
    assert all(task(t).downstream_task_ids == set() for t in ("report", "alert", "retain"))
    # the alert goes first when both wait for the one slot: a higher weight than publish and all after it
    assert task("alert").priority_weight > len(task("publish").get_flat_relative_ids(upstream=False)) + 1


class _Recorder:
    """The producer's task instance: what it pushed to Airflow, in order."""

    task_id, dag_id, try_number, map_index = "transform.dbt_producer_watcher", "socialcx_pipeline", 1, -1

    def __init__(self):
        self.pushed: list[tuple[str, object]] = []

    def xcom_push(self, key, value):
        self.pushed.append((key, value))

    def xcom_pull(self, task_ids=None, key=None, **kwargs):
        return None


def test_the_watcher_pushes_only_what_its_tasks_read(bag):
    from cosmos import settings as cosmos_settings
    from cosmos.operators._watcher import base as watcher

    assert bag.dags["socialcx_pipeline"]  # the DAG file tuned cosmos as it was imported
    assert cosmos_settings.enable_watcher_reliable_retry is False
    assert watcher._DBT_EVENT_ALLOWLIST == watcher._DBT_ERROR_EVENTS_TYPES | {"NodeFinished"}
    assert "NodeStart" not in watcher._DBT_EVENT_ALLOWLIST

    def event(name, resource_type, uid, status, message=None):
        return {"info": {"name": name, "msg": message or ""},
                "data": {"node_info": {"resource_type": resource_type, "unique_id": uid, "node_status": status},
                         "run_result": {"message": message}}}

    ti = _Recorder()
    for log in (event("NodeFinished", "test", "test.socialcx.not_null_x", "pass"),
                event("RunResultFailure", "test", "test.socialcx.unique_x", "fail", "Got 2 results"),
                event("NodeFinished", "model", "model.socialcx.ok", "success"),
                event("NodeFinished", "seed", "seed.socialcx.agent_teams", "success"),
                event("NodeStart", "model", "model.socialcx.broken", "started"),
                event("NodeFinished", "model", "model.socialcx.broken", "error", "Binder Error: no column x"),
                event("NodeFinished", "model", "model.socialcx.after_broken", "skipped")):
        watcher._process_dbt_log_event(ti, log)
    # only what a task reads: the events of the model that failed and of the one skipped, with dbt's message
    pushed = dict(ti.pushed)
    assert len(ti.pushed) == 2 and set(pushed) == {"model__socialcx__broken_dbt_event",
                                                   "model__socialcx__after_broken_dbt_event"}
    assert pushed["model__socialcx__broken_dbt_event"]["msg"] == "Binder Error: no column x"


def test_the_producer_reads_no_debug_event_it_does_not_use(bag, monkeypatch):
    from types import SimpleNamespace

    import cosmos.dbt.runner as dbt_runner

    assert bag.dags["socialcx_pipeline"]
    events = [SimpleNamespace(info=SimpleNamespace(level=level, name=name)) for level, name in (
        ("debug", "SQLQuery"), ("debug", "ConnectionUsed"), ("debug", "NodeFinished"), ("info", "LogModelResult"),
        ("info", "MainReportVersion"), ("debug", "AdapterRegistered"), ("error", "RunResultError"),
        ("debug", "CatchableExceptionOnRun"), ("warn", "FreshnessCheckComplete"))]
    seen = []

    class Runner:  # stands for dbt's runner: fires the events through the callbacks it was given
        def __init__(self, callbacks):
            self.callbacks = callbacks

        def invoke(self, args):
            for event in events:
                for callback in self.callbacks:
                    callback(event)
            return "result"

    monkeypatch.setattr(dbt_runner, "get_runner", lambda callbacks=None: Runner(callbacks or []))
    monkeypatch.setattr(dbt_runner, "_cleanup_dbt_adapters", lambda: None)
    assert dbt_runner.run_command(["dbt", "build"], {}, str(ROOT), callbacks=[seen.append]) == "result"
    assert [event.info.name for event in seen] == ["NodeFinished", "LogModelResult", "MainReportVersion",
                                                   "AdapterRegistered", "RunResultError", "CatchableExceptionOnRun",
                                                   "FreshnessCheckComplete"]


def test_the_producer_pushes_what_dbt_reported_once_it_has_ended(bag, monkeypatch, tmp_path):
    """cosmos' producer pushed each node's status, SQL and tests' verdict from dbt's threads as the build went, an API
    call each. It now holds them and pushes once dbt has ended: every success and every model's SQL in one XCom,
    and what did not succeed under cosmos' own keys, where cosmos' poke reads it. Then each model's task reads that
    one XCom, once, as its SQL is rendered: built, it ends; failed, its tests failed, or skipped, it fails as
    before."""
    import json

    from airflow.exceptions import AirflowException
    from cosmos.operators import base as cosmos_base

    dag = bag.dags["socialcx_pipeline"]
    producer = dag.get_task("transform.dbt_producer_watcher")
    BUILD_KEY = "socialcx_build"
    compiled = tmp_path / "target" / "compiled" / "socialcx" / "models"
    for path, sql in (("marts/fct_posts.sql", "select 1 as posts"), ("marts/fct_conversations.sql", "select 2"),
                      ("staging/stg_raw__posts.sql", "select 3")):
        (compiled / path).parent.mkdir(parents=True, exist_ok=True)
        (compiled / path).write_text(sql)

    def line(name, uid="", resource="model", status="", path="", message=None):
        node = {"unique_id": uid, "resource_type": resource, "node_status": status, "node_path": path} if uid else {}
        return json.dumps({"info": {"name": name, "level": "debug", "msg": message or name, "ts": "t"},
                           "data": {"node_info": node, "run_result": {"message": message}}})

    fct_posts_tests = list(producer.tests_per_model["model.socialcx.fct_posts"])
    failing, *passing = producer.tests_per_model["model.socialcx.fct_conversations"]
    report = [line("MainReportVersion", message="Running with dbt=1.11"),
              line("NodeFinished", "model.socialcx.stg_raw__posts", status="success", path="staging/stg_raw__posts.sql"),
              line("NodeFinished", "model.socialcx.fct_posts", status="success", path="marts/fct_posts.sql"),
              *(line("NodeFinished", test, "test", "pass") for test in fct_posts_tests),
              line("NodeFinished", "model.socialcx.fct_conversations", status="success",
                   path="marts/fct_conversations.sql"),
              line("NodeFinished", failing, "test", "fail", message="Got 2 results"),
              *(line("NodeFinished", test, "test", "pass") for test in passing),
              line("NodeFinished", "model.socialcx.mart_nps", status="error", message="Binder Error: no column x")]
    ti = _Recorder()
    during = []

    def build(self, context, **kwargs):  # stands for dbt's build: its events through the producer's own parser
        parse = self._make_parse_callable()
        for text in report:
            parse(text, {"context": context, "project_dir": str(tmp_path)})
        during.append(list(ti.pushed))
        if kwargs.get("fail"):
            raise RuntimeError("dbt ended badly")
        return "built"

    monkeypatch.setattr(cosmos_base.AbstractDbtBase, "execute", build)
    context = {"ti": ti, "task_instance": ti, "run_id": "r", "dag_run": types.SimpleNamespace(conf={})}
    assert producer.execute(context) == "built"
    pushes = dict(ti.pushed)
    assert during == [[]] and len(ti.pushed) == len(pushes)  # nothing reached Airflow while dbt ran; each key once
    built = pushes[BUILD_KEY]["succeeded"]
    assert built == {"model__socialcx__stg_raw__posts_status": {"status": "success", "outlet_uris": []},
                     "model__socialcx__fct_posts_status": {"status": "success", "outlet_uris": []},
                     "model__socialcx__fct_posts_tests_status": "pass",
                     "model__socialcx__fct_conversations_status": {"status": "success", "outlet_uris": []}}
    assert pushes[BUILD_KEY]["compiled_sql"] == {"model__socialcx__stg_raw__posts_compiled_sql": "select 3",
                                                 "model__socialcx__fct_posts_compiled_sql": "select 1 as posts",
                                                 "model__socialcx__fct_conversations_compiled_sql": "select 2"}
    # what did not succeed, under its own key: the failed model's status and events, the failed test's verdict
    assert pushes["model__socialcx__mart_nps_status"] == {"status": "error", "outlet_uris": []}
    assert pushes["model__socialcx__mart_nps_dbt_event"]["msg"] == "Binder Error: no column x"
    assert pushes["model__socialcx__fct_conversations_tests_status"] == "fail"
    assert pushes["task_status"] == "completed" and pushes["dbt_startup_events"][0]["msg"] == "Running with dbt=1.11"
    assert len(ti.pushed) == 7  # with its command flags; cosmos pushed 13 for this build, one by one as dbt reported

    # each model's task reads what was pushed: one read for a model built and tested, as its SQL is rendered
    def read(model):
        task = dag.get_task(_run(dag, model))
        consumer = _TaskInstance(pushes)
        monkeypatch.setattr(type(task), "_get_producer_task_status", lambda self, context: "success")
        return task, consumer, (lambda: task.poke({"ti": consumer, "task_instance": consumer, "run_id": "r"}))

    task, consumer, poke = read("fct_posts")
    assert task.render_template(task.compiled_sql, {"ti": consumer, "task": task}) == "select 1 as posts"
    assert poke() is True and consumer.pulled == [BUILD_KEY]
    _, consumer, poke = read("fct_conversations")  # built, but a data test on it failed
    with pytest.raises(AirflowException, match="a data test on it failed"):
        poke()
    assert consumer.pulled == [BUILD_KEY, "model__socialcx__fct_conversations_tests_status"]
    _, consumer, poke = read("mart_nps")  # failed: cosmos' own poke, its events in the task's log
    with pytest.raises(AirflowException, match="finished with status 'error'"):
        poke()
    assert "model__socialcx__mart_nps_dbt_event" in consumer.pulled

    # a build that fails still pushes what it reported, and fails the producer
    ti.pushed.clear()
    with pytest.raises(RuntimeError, match="dbt ended badly"):
        producer.execute(context, fail=True)
    assert dict(ti.pushed)[BUILD_KEY]["succeeded"] == built and "model__socialcx__mart_nps_status" in dict(ti.pushed)
    # and when Airflow's API refuses the pushes too, the build's own error is the one the producer fails with
    monkeypatch.setattr(ti, "xcom_push", lambda key, value: (_ for _ in ()).throw(ConnectionError("API down")))
    with pytest.raises(RuntimeError, match="dbt ended badly"):
        producer.execute(context, fail=True)


class _TaskInstance:
    """What a consumer task reads of the producer's XComs, and in which order."""

    def __init__(self, values: dict, try_number: int = 1):
        self.values, self.try_number, self.map_index, self.pulled = values, try_number, -1, []

    def xcom_pull(self, task_ids=None, key=None, **kwargs):
        self.pulled.append(key)
        return self.values.get(key)


def test_a_model_that_succeeded_reads_its_status_and_sql_only(bag, monkeypatch):
    from airflow.exceptions import AirflowException
    from cosmos.operators._watcher.state import get_compiled_sql_xcom_key

    dag = bag.dags["socialcx_pipeline"]
    task = dag.get_task("transform.fct_posts_run")
    status, sql = "model__socialcx__fct_posts_status", get_compiled_sql_xcom_key("model.socialcx.fct_posts")
    tests = "model__socialcx__fct_posts_tests_status"  # the verdict of its data tests, pushed by the producer
    build = "socialcx_build"  # the producer's one XCom: the build's successes and every model's compiled SQL
    pushed = {build: {"succeeded": {status: {"status": "success", "outlet_uris": []}, tests: "pass"},
                      "compiled_sql": {sql: "select 1 as posts"}}}
    ti = _TaskInstance(pushed)
    # the SQL is a template of the task, rendered before it runs (one rendered-template write); the poke that follows
    # reads what the render read: one call to Airflow's API for the task
    assert task.render_template(task.compiled_sql, {"ti": ti, "task": task}) == "select 1 as posts"
    assert task.poke({"ti": ti, "task_instance": ti, "run_id": "r"}) is True
    assert ti.pulled == [build] and task.socialcx_build is None  # the poke took it: the task holds it no longer
    other = _TaskInstance(pushed)  # another task instance (a test's, a retry's) reads it for itself
    assert task.poke({"ti": other, "task_instance": other, "run_id": "r"}) is True and other.pulled == [build]
    assert task.render_template(task.compiled_sql, {"ti": _TaskInstance({}), "task": task}) == ""  # none pushed
    # a model with no data test reads the same one XCom
    bare = dag.get_task("transform.stg_raw__survey_responses_run")
    ti = _TaskInstance({build: {"succeeded": {"model__socialcx__stg_raw__survey_responses_status": {
        "status": "success", "outlet_uris": []}}}})
    assert bare.poke({"ti": ti, "task_instance": ti, "run_id": "r"}) is True
    assert ti.pulled == [build]

    # built, but a data test on it failed (or none reported): the model's task fails, naming the model and its tests
    for verdict, says in (("fail", "a data test on it failed"), (None, "its data tests reported no result")):
        ti = _TaskInstance({build: {"succeeded": {status: {"status": "success", "outlet_uris": []}}},
                            tests: verdict})
        with pytest.raises(AirflowException, match=says) as failure:
            task.poke({"ti": ti, "task_instance": ti, "run_id": "r"})
        assert "'model.socialcx.fct_posts'" in str(failure.value)
        assert "unique_fct_posts_post_key" in str(failure.value) and "dbt_producer_watcher" in str(failure.value)

    # a model that failed goes through cosmos' own poke: the producer's state, its events, the error
    asked = []
    monkeypatch.setattr(type(task), "_get_producer_task_status", lambda self, context: asked.append(1) or "failed")
    ti = _TaskInstance({status: {"status": "error", "outlet_uris": []}})
    with pytest.raises(AirflowException, match="finished with status 'error'"):
        task.poke({"ti": ti, "task_instance": ti, "run_id": "r"})
    assert asked == [1] and "model__socialcx__fct_posts_dbt_event" in ti.pulled
    # so does a retry, which builds the model alone once the producer is done, and runs its data tests again
    reran = []
    monkeypatch.setattr(type(task), "build_and_run_cmd",
                        lambda self, context, cmd_flags=None: reran.append((self.base_cmd, cmd_flags)))
    ti = _TaskInstance({status: {"status": "success", "outlet_uris": []}}, try_number=2)
    assert task.poke({"ti": ti, "task_instance": ti, "run_id": "r"}) is True
    assert reran == [(["build"], ["--select", "fct_posts"])]


def test_a_models_sql_is_rendered_once_and_shown_as_dbt_compiled_it(bag):
    """Every template field of a model's task renders once. cosmos names `compiled_sql` twice among the sensor's
    template fields; rendered twice, the model's SQL itself was read as a Jinja template: a `{#` or `{{` in one of
    its string literals failed the task or changed the SQL the UI shows."""
    import copy

    from cosmos.operators._watcher.state import get_compiled_sql_xcom_key

    dag = bag.dags["socialcx_pipeline"]
    sql = "select '{{ brand }}' as literal, regexp_matches(text, '[{#]x') as braced, '{% raw %}' as tag"
    for task_id in ("transform.fct_posts_run", "transform.stg_raw__survey_responses_run"):
        task = copy.copy(dag.get_task(task_id))
        assert len(task.template_fields) == len(set(task.template_fields)) and "compiled_sql" in task.template_fields
        ti = _TaskInstance({"socialcx_build": {"compiled_sql": {get_compiled_sql_xcom_key(task.model_unique_id): sql}}})
        run = types.SimpleNamespace(conf={}, run_type="manual")
        task.render_template_fields({"ti": ti, "task": task, "params": {}, "dag_run": run,
                                     "data_interval_start": None, "data_interval_end": None})
        assert task.compiled_sql == sql and ti.pulled == ["socialcx_build"]
        assert task.vars == {"backfill_start": "", "backfill_end": ""}  # the other templates rendered as before


def test_every_duckdb_task_shares_the_one_slot_pool(bag):
    dag = bag.dags["socialcx_pipeline"]
    extracts = {t.task_id for t in dag.tasks if t.task_id.startswith("extract_")}
    # the models' tasks read what dbt's one build (the producer) pushed: several at a time, outside the pool
    models = {t.task_id for t in dag.tasks if t.task_id.startswith("transform.")} - {"transform.dbt_producer_watcher"}
    assert len(models) == 62 and dag.get_task("transform.dbt_producer_watcher").pool == "socialcx_duckdb"
    assert extracts and {t.pool for t in dag.tasks if t.task_id not in extracts | models} == {"socialcx_duckdb"}
    # the sources fetch at the same time; their writes wait for the file's lock in turn
    assert {t.pool for t in dag.tasks if t.task_id in extracts | models} == {"default_pool"}
    # under Celery, on the one worker that holds the file (docker-compose.yml: airflow-worker-duckdb)
    assert {t.queue for t in dag.tasks} == {"socialcx_duckdb"}


def test_a_model_task_that_runs_dbt_itself_waits_for_its_turn_and_holds_the_file(bag, monkeypatch):
    """Two models' tasks retried at once: each falls back to running its model with dbt in its own process. One at a
    time, and while one runs, the DuckDB file is its process's: another process cannot open it."""
    import subprocess
    import sys
    import threading
    import time

    from socialcx.core.settings import get_settings

    dag = bag.dags["socialcx_pipeline"]
    first, second = dag.get_task("transform.fct_posts_run"), dag.get_task("transform.stg_raw__posts_run")
    assert type(first) is type(second)
    warehouse = str(get_settings().warehouse)
    running, overlaps, refused = [], [], []

    def build(self, context, cmd_flags=None):  # stands for cosmos' dbt run of the model
        running.append(self.task_id)
        overlaps.append(len(running))
        other = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({warehouse!r})"],
                               capture_output=True, text=True)
        refused.append(other.returncode != 0 and "lock" in other.stderr.lower())
        time.sleep(0.2)
        running.remove(self.task_id)

    monkeypatch.setattr(type(first), "build_and_run_cmd", build)
    monkeypatch.setattr(type(first), "_get_producer_task_status", lambda self, context: "success")

    def retry(task):
        ti = _TaskInstance({}, try_number=2)
        assert task.poke({"ti": ti, "task_instance": ti, "run_id": "r"}) is True

    threads = [threading.Thread(target=retry, args=(task,)) for task in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1, 1] and refused == [True, True]


def test_a_model_task_process_builds_its_own_operator_alone_and_the_same(bag, monkeypatch):
    """Under a scheduler each task's process parses the DAG file; Airflow's parsing context names the task. A
    model's or seed's process renders the group for that node alone (`_own_node`): its operator is the one the whole
    render gives, as the scheduler serialised it (only the downstream tasks it does not build are missing), with the
    attributes our code sets beside cosmos'."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import OperatorSerialization

    full = bag.dags["socialcx_pipeline"]
    own_tasks = [t for t in full.task_ids if t.startswith("transform.") and t.endswith(("_run", "_seed"))]
    assert len(own_tasks) == 61
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "socialcx_pipeline")

    def serialised(task) -> dict:
        fields = OperatorSerialization.serialize_operator(task)
        fields.pop("downstream_task_ids", None)
        return fields

    for task_id in own_tasks:
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", task_id)
        alone = DagBag(dag_folder=str(ROOT / "dags")).dags["socialcx_pipeline"]
        assert [t for t in alone.task_ids if t.endswith(("_run", "_seed"))] == [task_id]
        mine, whole = alone.get_task(task_id), full.get_task(task_id)
        assert serialised(mine) == serialised(whole), task_id
        for name in ("trigger_rule", "base_cmd", "socialcx_tests", "producer_task_id", "pool", "queue"):
            assert getattr(mine, name, None) == getattr(whole, name, None), (task_id, name)
    assert full.get_task("transform.fct_conversations_run").socialcx_tests  # compared above, not only empty
    assert full.get_task("transform.stg_raw__posts_run").trigger_rule == "all_done"
    assert full.get_task("transform.fct_conversations_run").trigger_rule == "all_success"
    # the producer's process, and every other task's, render the whole group
    for task_id in ("transform.dbt_producer_watcher", "transform.dbt_producer_watcher_done", "validate"):
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", task_id)
        assert DagBag(dag_folder=str(ROOT / "dags")).dags["socialcx_pipeline"].task_ids == full.task_ids


def test_a_model_task_process_imports_neither_duckdb_nor_the_stages():
    """A model's task only reads what the producer pushed: the process that runs it parses the DAG file without
    DuckDB or the pipeline's stages (0.2 s of each of the 61 model tasks' processes under a scheduler), in a fresh
    interpreter as Airflow's task runner would."""
    import os
    import subprocess
    import sys

    code = ("import sys, importlib.util\n"
            "spec = importlib.util.spec_from_file_location('socialcx_pipeline', sys.argv[1])\n"
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
            "assert module.socialcx_pipeline\n"
            "print(sorted(name for name in ('duckdb', 'socialcx.stages', 'spacy', 'great_expectations') "
            "if name in sys.modules))")
    env = {**os.environ, "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "socialcx_pipeline",
           "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "transform.fct_posts_run"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "dags" / "socialcx_pipeline.py")], env=env,
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_schedule_retries_and_no_catchup(bag):
    dag = bag.dags["socialcx_pipeline"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.schedule == "*/5 * * * *"  # every five minutes (README: what a run costs)
    # the one `dbt build` is not retried whole; a model's task that failed re-runs that model alone
    assert {t.task_id for t in dag.tasks if t.retries != 2} == {"transform.dbt_producer_watcher"}
    assert dag.get_task("transform.dbt_producer_watcher").retries == 0
    assert dag.doc_md and "extract" in dag.doc_md


def test_one_extract_task_per_configured_source(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("SOCIALCX_SOURCES", "sample,file")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    dag = bag.dags["socialcx_pipeline"]
    assert {t for t in dag.task_ids if t.startswith("extract_")} == {"extract_sample", "extract_file"}


def _context(run_type: str, conf: dict | None = None, params: dict | None = None):
    from types import SimpleNamespace

    import pendulum

    return {"dag_run": SimpleNamespace(run_type=run_type, conf=conf or {}),
            "params": params or {"backfill_start": "", "backfill_end": ""},
            "data_interval_start": pendulum.datetime(2026, 10, 5, 13), "data_interval_end": pendulum.datetime(2026, 10, 5, 14)}


@pytest.mark.parametrize(("run_type", "conf", "window"), [
    ("scheduled", None, None),
    ("manual", None, None),
    ("backfill", None, ("2026-10-05", "2026-10-05")),
    ("manual", {"backfill_start": "2026-09-01", "backfill_end": "2026-09-30"}, ("2026-09-01", "2026-09-30")),
    ("manual", {"backfill_start": "2026-09-01"}, ("2026-09-01", "2026-09-01")),
])
def test_backfill_runs_reprocess_their_window_in_enrich_and_dbt(bag, run_type, conf, window):
    import importlib.util

    spec = importlib.util.spec_from_file_location("socialcx_pipeline_module", ROOT / "dags" / "socialcx_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = _context(run_type, conf)
    assert module.reprocess_window(context) == window
    task = bag.dags["socialcx_pipeline"].get_task("transform.dbt_producer_watcher")  # the one `dbt build`
    rendered = task.render_template(task.vars, context)
    assert (rendered["backfill_start"], rendered["backfill_end"]) == (window or ("", ""))
    # dbt keeps its parse of the project only while vars, --profile and --target stay the same: outside a
    # backfill the producer passes exactly what `socialcx run`, validate's source freshness and `make dbt-manifest` do
    from socialcx.core.settings import get_settings
    from socialcx.stages.dbt import PIPELINE_VARS, pipeline_flags

    assert set(rendered) == set(PIPELINE_VARS)
    if window is None:
        assert rendered == PIPELINE_VARS
    flags = pipeline_flags(get_settings(), dict(rendered))
    assert (task.profile_config.profile_name, task.profile_config.target_name) == (
        flags[flags.index("--profile") + 1], flags[flags.index("--target") + 1])


def test_on_postgres_the_dag_moves_data_around_dbt_and_maps_the_connection():
    """SOCIALCX_TARGET=postgres: enrichment mapped over chunks (plan, chunk, collect) before dbt, from_postgres after
    it, dbt's profile from the Airflow connection socialcx_warehouse (no secret in the DAG), and the one-slot DuckDB
    pool only for tasks that open the DuckDB file. Parsed in a subprocess: the DAG reads settings once."""
    import json
    import os
    import subprocess

    from tests.support import VENV_BIN

    script = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=FOLDER)
dag = bag.dags["socialcx_pipeline"]
task = dag.get_task
producer = task("transform.dbt_producer_watcher")
print(json.dumps({"errors": list(bag.import_errors), "tasks": sorted(dag.task_dict),
                  "plan": sorted(task("enrich_plan").downstream_task_ids),
                  "mapped": type(task("enrich_chunk")).__name__,
                  "chunk": sorted(task("enrich_chunk").downstream_task_ids),
                  "collect": sorted(task("enrich_collect").downstream_task_ids),
                  "collect_rule": getattr(task("enrich_collect").trigger_rule, "value", None),
                  "pools": {t.task_id: t.pool for t in dag.tasks},
                  "queues": {t.task_id: t.queue for t in dag.tasks},
                  "from_up": sorted(t for t in task("from_postgres").upstream_task_ids if t.endswith("_done")),
                  "from": sorted(task("from_postgres").downstream_task_ids),
                  "conn": producer.profile_config.profile_mapping.conn_id,
                  "target": producer.profile_config.target_name}))
""".replace("FOLDER", repr(str(ROOT / "dags")))
    env = {**os.environ, "SOCIALCX_TARGET": "postgres", "SOCIALCX_POSTGRES_URL": ""}
    out = subprocess.run([str(VENV_BIN / "python"), "-c", script], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    graph = json.loads(out.strip().splitlines()[-1])
    assert graph["errors"] == []
    assert "enrich" not in graph["tasks"] and "to_postgres" not in graph["tasks"]
    assert graph["plan"] == ["enrich_chunk"] and graph["mapped"].endswith("MappedOperator")
    assert graph["chunk"] == ["enrich_collect"] and graph["collect"] == ["transform.dbt_producer_watcher"]
    assert graph["collect_rule"] == "none_failed"  # nothing pending: no chunk, collect still runs
    duckdb_tasks = {t for t, pool in graph["pools"].items() if pool == "socialcx_duckdb"}
    assert duckdb_tasks == {"enrich_plan", "enrich_collect", "from_postgres", "validate", "publish", "report",
                            "alert", "retain"}
    extracts = {t for t in graph["tasks"] if t.startswith("extract_")}
    assert extracts and {graph["pools"][t] for t in extracts} == {"default_pool"}  # they fetch at the same time
    # and under Celery they go to the one worker beside the file; the chunks and dbt to any worker
    duckdb_tasks |= extracts
    assert {t for t, queue in graph["queues"].items() if queue == "socialcx_duckdb"} == duckdb_tasks
    assert {queue for t, queue in graph["queues"].items() if t not in duckdb_tasks} == {"default"}
    assert graph["from_up"] == ["transform.dbt_producer_watcher_done"] and graph["from"] == ["validate"]
    assert graph["conn"] == "socialcx_warehouse" and graph["target"] == "postgres"
