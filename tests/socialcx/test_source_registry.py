"""A new source is one package plus one registry entry: a toy source in a temporary package is seen by Settings,
.env.example, the CLI, the DAG, dbt source freshness and the GX known-sources check, with no other change."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from tests.support import ROOT

TOY_PACKAGE = '''
from socialcx.core.sources import Option, Source

SOURCE = Source(
    "toy", "toy_source.extract", "a toy feed of posts", streams=("posts",),
    options=(Option("greeting", "what the toy posts say", "hello", cli="--greeting"),),
    freshness_warn_hours=5, freshness_error_hours=9,
)
'''

TOY_EXTRACT = '''
import pandas as pd

from extractors.load import load_posts, save_cursor
from socialcx.core.warehouse import transaction


def run(con, settings, run_id, **options):
    frame = pd.DataFrame([
        {"post_id": str(i), "author_id": f"u{i}", "is_inbound": True, "created_at": "2026-11-30T10:00:00Z",
         "text": f"@ToyHelp {options['greeting']} {i}", "brands_mentioned": ["ToyHelp"]}
        for i in (1, 2)
    ])
    with transaction(con):
        result = load_posts(con, frame, "toy", run_id)
        save_cursor(con, "toy", "posts", "2", run_id)
    return [result]
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    package = tmp_path / "plugins" / "toy_source"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(TOY_PACKAGE))
    (package / "extract.py").write_text(textwrap.dedent(TOY_EXTRACT))
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    dbt_project = tmp_path / "dbt_project"  # the generated sources file is written here, not in the repository
    shutil.copytree(ROOT / "dbt_project", dbt_project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    for name, value in {"SOCIALCX_SOURCE_PLUGINS": "toy_source", "SOCIALCX_SOURCES": "toy",
                        "SOCIALCX_TOY_GREETING": "hi there", "SOCIALCX_WAREHOUSE": str(tmp_path / "w.duckdb"),
                        "SOCIALCX_DBT_PROJECT_DIR": str(dbt_project)}.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_settings_env_example_and_gx_read_the_registry(toy):
    from expectations.suites import raw__posts
    from socialcx.core.settings import get_settings
    from socialcx.core.sources import env_example

    assert get_settings().source("toy") == {"greeting": "hi there"}
    assert "# what the toy posts say\nSOCIALCX_TOY_GREETING=hello\n" in env_example()
    assert raw__posts.parameters(0)["known_sources"] == ["bluesky", "file", "mastodon", "sample", "toy", "x"]  # crm loads no posts


@pytest.mark.integration
def test_a_toy_source_is_extracted_checked_for_freshness_and_scheduled(toy):
    import duckdb

    from socialcx.cli import main
    from socialcx.core.settings import get_settings
    from socialcx.stages.freshness import source_freshness

    # the CLI: `socialcx extract toy --greeting ...`, the flag from the registry entry
    assert main(["extract", "toy", "--greeting", "bonjour"]) == 0
    with duckdb.connect(str(toy / "w.duckdb"), read_only=True) as con:
        assert con.execute("select source, post_id, text from raw.posts order by post_id").fetchall() == [
            ("toy", "1", "@ToyHelp bonjour 1"), ("toy", "2", "@ToyHelp bonjour 2")]

    # dbt source freshness: the toy's table is generated from the registry, with its own thresholds
    checks = source_freshness(get_settings())
    assert {(c["column"], c["severity"], c["success"], c["observed"]["status"]) for c in checks} == {
        ("toy", "warning", True, "pass"), ("toy", "critical", True, "pass")}
    generated = (toy / "dbt_project" / "models" / "staging" / "raw" / "_extracts__sources.yml").read_text()
    assert "get(''toy'', {}).get(''warn'', 5)" in generated and "get(''toy'', {}).get(''error'', 9)" in generated

    # the DAG, rendered from the manifest `make dbt-manifest` parses: one extract task for the configured toy
    # source, upstream of enrich
    from airflow.dag_processing.dagbag import DagBag

    from socialcx.stages.freshness import main as stages_main

    stages_main(["parse"])

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["socialcx_pipeline"]
    assert dag.get_task("extract_toy").downstream_task_ids == {"enrich"}
    assert not [t for t in dag.task_ids if t.startswith("extract_") and t != "extract_toy"]


def test_an_unknown_source_is_refused_naming_the_known_ones(monkeypatch):
    from socialcx import stages

    monkeypatch.delenv("SOCIALCX_SOURCE_PLUGINS", raising=False)
    with pytest.raises(stages.StageError, match="unknown source 'myspace'; known sources: sample, file, x, bluesky, mastodon, crm"):
        stages.extract("myspace")
