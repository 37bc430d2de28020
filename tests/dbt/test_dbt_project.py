"""dbt's own tests on a built warehouse: the hand-worked unit tests and every data test."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_unit_tests_pass(built):
    from socialcx.stages import dbt_invoke

    settings, _ = built
    result = dbt_invoke(["test", "--select", "test_type:unit"], settings)
    names = sorted(r.node.name for r in result.result.results)
    assert len(names) >= 4
    assert all(str(r.status) == "pass" for r in result.result.results), names


def test_schemas_are_named_exactly(built):
    import duckdb

    settings, _ = built
    with duckdb.connect(str(settings.warehouse)) as con:
        schemas = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
    assert {"raw", "enriched", "staging", "intermediate", "marts", "ops"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


@pytest.mark.parametrize("level", [None, "debug"])
def test_dbts_log_file_holds_each_nodes_start_and_end_and_every_statement_only_when_asked(copy_built, tmp_path,
                                                                                        monkeypatch, level):
    """The pipeline's dbt commands write dbt's log file at INFO (a node's start, end, warnings and errors), not at
    dbt's DEBUG default (every SQL statement and connection step as well); DBT_LOG_LEVEL_FILE set says otherwise."""
    from socialcx import stages

    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    if level:
        monkeypatch.setenv("DBT_LOG_LEVEL_FILE", level)
    else:
        monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    stages.transform(select="stg_raw__brands", settings=copy_built)
    log = (tmp_path / "dbt-logs" / "dbt.log").read_text()
    assert "START sql view model staging.stg_raw__brands" in log
    assert "OK created sql view model staging.stg_raw__brands" in log
    statements = [line for line in log.splitlines()
                  if 'create view "' in line.lower() or "create or replace view" in line.lower()]
    assert bool(statements) == (level == "debug"), statements[:3]
