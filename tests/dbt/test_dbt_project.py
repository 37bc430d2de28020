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
