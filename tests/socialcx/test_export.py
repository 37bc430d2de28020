"""`socialcx export`: the published conversations or replies, filtered by brand and dates, as CSV or Parquet."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from socialcx.cli import main
from socialcx.serving.export import export


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "socialcx.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("""create table marts.fct_conversations as select * from (values
        ('s:1', 'A', timestamptz '2026-03-01 10:00:00+00'), ('s:2', 'A', timestamptz '2026-03-02 23:30:00+00'),
        ('s:3', 'B', timestamptz '2026-03-02 10:00:00+00'), ('s:4', 'A', timestamptz '2026-03-03 00:00:00+00'))
        as t(conversation_id, brand, first_inbound_at)""")
    con.execute("""create table marts.fct_replies as select * from (values
        ('s:r1', 's:1', 'A', timestamptz '2026-03-01 10:05:00+00')) as t(reply_key, conversation_id, brand, replied_at)""")
    con.close()
    return path


def test_conversations_of_a_brand_and_days_as_csv(published, tmp_path):
    result = export(published, "conversations", tmp_path / "out" / "c.csv", brands=["A"], start=date(2026, 3, 2),
                    end=date(2026, 3, 2))
    assert result.rows == 1
    lines = (tmp_path / "out" / "c.csv").read_text().splitlines()
    assert lines[0] == "conversation_id,brand,first_inbound_at" and lines[1].startswith("s:2,A,")
    # every brand, every day, as Parquet
    everything = export(published, "conversations", tmp_path / "all.parquet", fmt="parquet")
    assert everything.rows == 4
    assert duckdb.sql(f"select list(conversation_id) from '{tmp_path / 'all.parquet'}'").fetchall()[0][0] == [
        "s:1", "s:3", "s:2", "s:4"]


def test_a_hostile_brand_is_a_value_and_bad_arguments_name_the_fix(published, tmp_path, capsys):
    result = export(published, "replies", tmp_path / "r.csv", brands=["A' or '1'='1"])
    assert result.rows == 0  # matched as a brand name, never as SQL
    with pytest.raises(ValueError, match="after --end"):
        export(published, "replies", tmp_path / "r.csv", start=date(2026, 3, 2), end=date(2026, 3, 1))
    assert main(["export", "conversations", "--output", str(tmp_path / "x.csv")]) == 1  # nothing published here
    assert "run `socialcx publish`" in capsys.readouterr().err
