"""An incremental dbt run after late replies, an edit and a deletion equals a full refresh."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from extractors.load import load_posts
from socialcx import stages
from socialcx.settings import Settings

pytestmark = pytest.mark.integration
MARTS = ("fct_posts", "fct_conversations", "mart_service_performance", "mart_customer_recovery", "mart_sentiment")


def _copy(built, tmp_path, name, monkeypatch) -> Settings:
    settings, _ = built
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("checkpoint")
    target = tmp_path / name / "socialcx.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copy(settings.warehouse, target)
    monkeypatch.setenv("SOCIALCX_WAREHOUSE", str(target))
    return Settings()


def _rows(path, table) -> pd.DataFrame:
    with duckdb.connect(str(path)) as con:
        frame = con.execute(f"select * exclude (changed_at) from marts.{table}" if table.startswith("fct_")
                            else f"select * from marts.{table}").df()
    for column in frame.columns:  # lists (categories) as text, so rows can be sorted and compared
        if frame[column].map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).any():
            frame[column] = frame[column].map(lambda v: None if v is None else ",".join(map(str, v)))
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_incremental_run_equals_full_refresh(built, tmp_path, monkeypatch):
    settings = _copy(built, tmp_path, "incremental", monkeypatch)
    with duckdb.connect(str(settings.warehouse)) as con:
        newest = con.execute("select max(created_at) from raw.posts").fetchall()[0][0]
        unanswered = con.execute("""
            select p.post_id, p.brands_mentioned[1], p.author_id from raw.posts p
            join marts.fct_conversations c on c.root_post_id = p.post_id
            where not c.is_responded and c.is_actionable order by c.first_inbound_at desc limit 2
        """).fetchall()
        edited = con.execute("select post_id, text from raw.posts where is_inbound order by post_id limit 1").fetchall()[0]
        deleted = con.execute("select post_id from raw.posts where is_inbound and parent_post_id is not null "
                              "order by post_id desc limit 1").fetchall()[0][0]
        before = con.execute("select count(*) filter (where is_responded) from marts.fct_conversations").fetchall()[0][0]
        assert len(unanswered) == 2
        rows = [{"post_id": f"late-{root}", "parent_post_id": root, "author_id": brand, "author_handle": brand,
                 "is_inbound": False, "created_at": newest, "text": f"@{author} Sorry for the wait, we're on it ^JK",
                 "conversation_id": root} for root, brand, author in unanswered]
        current = con.execute("select * exclude (updated_at, ingested_at, run_id) from raw.posts "
                              "where post_id in (?, ?)", [edited[0], deleted]).df()
        current.loc[current["post_id"] == edited[0], "text"] = edited[1] + " UPDATE: still waiting, not happy"
        current.loc[current["post_id"] == deleted, "is_deleted"] = True
        con.execute("begin transaction")
        load_posts(con, pd.concat([pd.DataFrame(rows), current.drop(columns=["source"])], ignore_index=True),
                   "sample", "late")
        con.execute("commit")
    stages.enrich(settings=settings)
    stages.transform(settings=settings)
    incremental = settings.warehouse

    with duckdb.connect(str(incremental)) as con:
        con.execute("checkpoint")
        after = con.execute("select count(*) filter (where is_responded) from marts.fct_conversations").fetchall()[0][0]
        assert after == before + 2  # the late replies were picked up
        assert con.execute("select count(*) from marts.fct_posts where post_id = ?", [deleted]).fetchall() == [(0,)]
    full = tmp_path / "full" / "socialcx.duckdb"
    full.parent.mkdir()
    shutil.copy(incremental, full)
    monkeypatch.setenv("SOCIALCX_WAREHOUSE", str(full))
    stages.dbt_invoke(["build", "--full-refresh"], Settings())
    for table in MARTS:
        pd.testing.assert_frame_equal(_rows(incremental, table), _rows(full, table), obj=table)
