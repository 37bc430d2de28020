"""The whole DAG runs with dag.test() on a small generated world, and the marts hold what the world implies."""

from __future__ import annotations

import json

import duckdb
import pytest

from extractors.sample.generator import generate
from tests.support import ROOT

pytestmark = pytest.mark.integration


# dbt-duckdb keeps its DuckDB instance open in this process after dag.test(); a second connection to the
# working file must use the same (default, read-write) configuration.
def _counts(path):
    with duckdb.connect(str(path)) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0]
                for t in ("raw.posts", "enriched.post_nlp", "marts.fct_conversations", "marts.fct_posts")}


def test_dag_runs_end_to_end_and_fills_the_marts(airflow_db, monkeypatch, tmp_path, caplog, capfd):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    from socialcx.core.settings import get_settings

    monkeypatch.setenv("SOCIALCX_WAREHOUSE", str(tmp_path / "wh" / "socialcx.duckdb"))
    monkeypatch.setenv("SOCIALCX_PUBLISH_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("SOCIALCX_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("SOCIALCX_SAMPLE_POSTS", "2000")
    monkeypatch.setenv("SOCIALCX_SAMPLE_SEED", "7")
    settings = get_settings()

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    dag = bag.dags["socialcx_pipeline"]
    run = dag.test()
    assert str(run.state) == "success"

    # what the world says, computed from the generator directly
    world = generate(2000, seed=7, end_date=str(settings.source("sample")["end_date"]))
    posts = world.posts
    roots = posts[posts["parent_post_id"].isna()]
    answered = set(posts.loc[~posts["is_inbound"], "conversation_id"])

    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute("select count(*) from raw.posts").fetchall()[0][0] == len(posts)
        assert con.execute("select count(*) from enriched.post_nlp").fetchall()[0][0] == len(posts)
        conversations, responded, posts_in_conversations = con.execute(
            "select count(*), count(*) filter (where is_responded), sum(post_count) from marts.fct_conversations"
        ).fetchall()[0]
        assert conversations == len(roots)
        assert responded == len(answered & set(roots["post_id"]))
        assert posts_in_conversations == len(posts)  # every post lands in exactly one conversation
        brand_of_root = dict(zip("sample:" + roots["post_id"], roots["brand"], strict=True))
        brands = dict(con.execute("select conversation_id, brand from marts.fct_conversations").fetchall())
        assert brands == brand_of_root
        validation = con.execute("select count(*), bool_and(success) from ops.validation_results").fetchall()[0]
        assert validation[0] > 20 and validation[1] is True

    published = settings.published_warehouse
    assert published.exists()
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_conversations").fetchall()[0][0] == len(roots)
    assert (settings.publish_dir / "parquet" / "fct_conversations.parquet").exists()
    # publish took the fingerprint validate recorded: validate put what dbt-duckdb, holding the file open in this
    # process, had committed into the file before marking its state, and nothing wrote in between
    manifest = json.loads((settings.publish_dir / "manifest.json").read_text())
    assert manifest["fingerprinted_by"] == "validation"

    # a second run of the same stages adds nothing
    from socialcx import stages
    from socialcx.stages import dbt as dbt_stage

    events: list[str] = []
    callback = dbt_stage.dbt_callback
    monkeypatch.setattr(dbt_stage, "dbt_callback", lambda event: (events.append(event.info.name), callback(event)))
    before = _counts(settings.warehouse)
    stages.run_all(settings=settings)
    assert _counts(settings.warehouse) == before
    # dbt kept its parse of the project from the DAG's last dbt command (same vars, profile and target)
    assert events.count("PartialParsingSkipParsing") >= 2 and "UnableToPartialParse" not in events

    # a dbt test that fails names itself: its task fails, what depends on it does not run, nothing is published
    published_version = (settings.publish_dir / "current").resolve()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update enriched.post_nlp set sentiment_label = 'furious' "
                    "where post_id = (select min(post_id) from enriched.post_nlp where sentiment_label = 'negative')")
    for task in dag.tasks:
        task.retries = 0  # a retry would re-run the failing test alone, a minute later, and fail again
    sync_bag_to_db(bag, "dags-folder", None)
    caplog.clear()
    capfd.readouterr()
    failed = dag.test()
    assert str(failed.state) == "failed"
    # the producer's `dbt build` kept the parse `socialcx run`'s dbt commands left. It logs dbt's messages, to the
    # task log: Airflow's structlog output here, or Python's logging, depending on how logging was set up before
    out = capfd.readouterr()
    dbt_says = out.out + out.err + "\n".join(r.getMessage() for r in caplog.records)
    assert "Running with dbt" in dbt_says and "Unable to do partial parsing" not in dbt_says
    states = _states(failed.run_id)
    # the model built, its test failed: the model's task fails (it reports the model and the tests on it)
    assert states["transform.stg_enriched__post_nlp_run"] == "failed"
    assert "dbt built 'model.socialcx.stg_enriched__post_nlp', but a data test on it failed" in dbt_says
    assert "accepted_values_stg_enriched__post_nlp_sentiment_label" in dbt_says
    assert states["transform.dbt_producer_watcher"] == "failed"  # the one `dbt build` exits non-zero
    assert states["transform.stg_raw__posts_run"] == "success"  # unrelated models and their tests report success
    assert states["transform.int_posts_enriched_run"] == "upstream_failed"
    assert states["transform.fct_conversations_run"] == "upstream_failed"
    assert {states[t] for t in ("validate", "publish", "report", "alert")} == {"upstream_failed"}
    assert (settings.publish_dir / "current").resolve() == published_version


def _states(run_id: str) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: str(ti.state) for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run_id)}
