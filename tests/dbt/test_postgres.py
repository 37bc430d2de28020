"""The same marts on PostgreSQL as on DuckDB: every mart row for row, and incremental runs there too.

A real PostgreSQL server (Debian's, started by the ``postgres_server`` fixture on loopback) receives what the
sample world's extract and enrich wrote, and dbt builds the whole project there (SOCIALCX_TARGET=postgres).
"""

from __future__ import annotations

import duckdb
import pytest

from socialcx import stages
from socialcx.core import postgres
from socialcx.core.settings import Settings
from tests.dbt.test_incremental import late_changes
from tests.support import parity

pytestmark = pytest.mark.integration


def _pg(url: str):
    return postgres.connect(postgres.parse_url(url))


def _compare(left, left_pg: bool, right, right_pg: bool, schema: str) -> dict[str, int]:
    """Every table of ``schema`` in ``left`` equals the same table in ``right``; rows per table."""
    tables = parity.table_names(left, schema, postgres=left_pg)
    assert tables == parity.table_names(right, schema, postgres=right_pg)
    counts, different = {}, {}
    for table in tables:
        mine = parity.rows(left, schema, table, postgres=left_pg)
        theirs = parity.rows(right, schema, table, postgres=right_pg)
        difference = parity.compare_table(mine, theirs)
        if difference:
            different[table] = difference
        counts[table] = len(mine[1])
    assert not different, different
    return counts


def test_every_mart_is_the_same_on_postgres(copy_built, postgres_target, tmp_path):
    settings = Settings()
    assert settings.target == "postgres"
    built_by_duckdb = tmp_path / "built_by_duckdb.duckdb"  # the marts DuckDB built, before PostgreSQL's replace them
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("attach ? as kept", [str(built_by_duckdb)])
        con.execute("create schema kept.marts")
        for (table,) in con.execute("select table_name from information_schema.tables "
                                    "where table_schema = 'marts' and table_catalog = 'socialcx'").fetchall():
            con.execute(f'create table kept.marts."{table}" as select * from marts."{table}"')
    result = stages.transform(settings=settings)
    assert result["synced_rows"]["raw.posts"] > 1000
    assert result["nodes"].get("error", 0) == 0 and result["nodes"].get("fail", 0) == 0

    pg = _pg(postgres_target)
    with duckdb.connect(str(built_by_duckdb), read_only=True) as duck:
        counts = _compare(duck, False, pg, True, "marts")
    # the working file now holds PostgreSQL's marts (validation and publishing read them there): the same rows
    assert sum(result["mirrored_rows"].values()) == sum(counts.values())
    with duckdb.connect(str(settings.warehouse), read_only=True) as duck:
        _compare(duck, False, pg, True, "marts")
    pg.close()
    # the parity table, for the record (pytest -s): every mart and its rows, equal on both targets
    print("\n".join(f"{table:<40} {rows:>8,}" for table, rows in sorted(counts.items())))
    assert len(counts) >= 37
    # the marts hold rows (not two empty sets that agree)
    assert counts["fct_posts"] > 1000 and counts["fct_conversations"] > 300 and counts["fct_replies"] > 300
    assert all(counts[name] > 0 for name in ("mart_service_performance", "mart_sentiment", "mart_wallet_share",
                                             "mart_retention", "fct_escalations", "mart_spike_drivers", "mart_nps"))


def test_incremental_run_on_postgres_equals_a_full_refresh(copy_built, postgres_target, postgres_server, monkeypatch):
    settings = Settings()
    stages.transform(settings=settings)
    pg = _pg(postgres_target)
    with pg.cursor() as cur:
        cur.execute("select count(*) filter (where is_responded) from marts.fct_conversations")
        before = cur.fetchone()[0]
    pg.close()

    deleted = late_changes(settings)  # late replies, an edit and a deletion, in the working file
    stages.enrich(settings=settings)
    stages.transform(settings=settings)  # incremental on PostgreSQL

    full_url = postgres_server.create_database("full_refresh_of_incremental")
    monkeypatch.setenv("SOCIALCX_POSTGRES_URL", full_url)
    stages.transform(settings=Settings(), full_refresh=True)

    incremental, full = _pg(postgres_target), _pg(full_url)
    with incremental.cursor() as cur:
        cur.execute("select count(*) filter (where is_responded) from marts.fct_conversations")
        assert cur.fetchone()[0] == before + 2  # the late replies were picked up
        cur.execute("select count(*) from marts.fct_posts where post_id = %s", [deleted])
        assert cur.fetchone()[0] == 0
    _compare(incremental, True, full, True, "marts")
    _compare(incremental, True, full, True, "intermediate")
    incremental.close()
    full.close()
