"""dbt's own tests on a built warehouse: the hand-worked unit tests and every data test."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_unit_tests_pass(built):
    from socialcx.stages import dbt_invoke
    from socialcx.stages.dbt import node_results

    settings, _ = built
    result = dbt_invoke(["test", "--select", "test_type:unit"], settings)
    tests = node_results(result)  # not the on-run-end hook
    names = sorted(r.node.name for r in tests)
    assert len(names) >= 4
    assert all(str(r.status) == "pass" for r in tests), names


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


def test_unique_combination_fails_on_each_combination_held_twice_nulls_included(copy_built):
    """The uniqueness test groups by a hash first (tests/generic/test_unique_combination.sql); a duplicated
    combination, one with a NULL among its columns, and an untouched table give the plain `group by`'s verdicts."""
    import duckdb

    from socialcx.stages import dbt_invoke
    from socialcx.stages.dbt import node_results
    from socialcx.stages.runs import StageError

    select = ["test", "--select", "test_name:unique_combination,mart_wallet_share"]
    [only] = node_results(dbt_invoke(select, copy_built))
    assert (str(only.status), only.failures) == ("pass", 0)
    with duckdb.connect(str(copy_built.warehouse)) as con:
        rows = con.execute("select count(*) from marts.mart_wallet_share").fetchone()[0]
        assert rows >= 3
        con.execute("insert into marts.mart_wallet_share select * from marts.mart_wallet_share "
                    "order by customer_id, activity_month, brand limit 1")
        # the same row twice more with its customer NULL: the combination (NULL, month, brand) held twice
        con.execute("insert into marts.mart_wallet_share select * replace (null as customer_id) "
                    "from marts.mart_wallet_share order by customer_id desc, activity_month, brand limit 1")
        con.execute("insert into marts.mart_wallet_share select * replace (null as customer_id) "
                    "from marts.mart_wallet_share where customer_id is not null "
                    "order by customer_id desc, activity_month, brand limit 1")
        assert con.execute("select count(*) from marts.mart_wallet_share").fetchone()[0] == rows + 3
    with pytest.raises(StageError, match="unique_combination_mart_wallet_share.*Got 2 results"):
        dbt_invoke(select, copy_built)
