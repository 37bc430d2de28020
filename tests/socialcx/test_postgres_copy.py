"""The copy of the working file's raw and enriched schemas into PostgreSQL (socialcx/core/postgres.py:
copy_from_duckdb) sends what changed since the last copy, and the whole table when it cannot know what PostgreSQL
holds. A real PostgreSQL server on loopback."""

from __future__ import annotations

import pytest

from socialcx import stages
from socialcx.core import postgres
from socialcx.core.settings import Settings
from socialcx.core.warehouse import open_warehouse

pytestmark = pytest.mark.integration
POSTS = ("source", "post_id", "text", "is_deleted", "created_at", "brands_mentioned", "like_count")


def _rows(con, table: str, columns=POSTS, pg: bool = False) -> list[tuple]:
    select = f"select {', '.join(columns)} from {table} order by 1, 2"
    if pg:
        with con.cursor() as cur:
            cur.execute(select)
            rows = cur.fetchall()
        con.rollback()
        return rows
    return con.execute(select).fetchall()


def _sent(duck, pg) -> dict[str, int]:
    return {table: n for table, n in postgres.copy_from_duckdb(duck, pg).items() if n}


def test_the_copy_sends_what_changed_and_the_whole_table_when_in_doubt(settings_env, postgres_target):
    settings = Settings()
    stages.extract("sample", settings=settings, posts=120, seed=2)
    pg = postgres.connect(postgres.parse_url(postgres_target))
    with open_warehouse(settings.warehouse) as duck:
        posts = duck.execute("select count(*) from raw.posts").fetchone()[0]
        first = postgres.copy_from_duckdb(duck, pg)
        assert first["raw.posts"] == posts > 100  # the first copy is whole
        assert _rows(pg, "raw.posts", pg=True) == _rows(duck, "raw.posts")

        # nothing changed: nothing is sent
        assert _sent(duck, pg) == {}

        # one post edited, one deleted, one new, one quarantined record: two posts' rows are sent, one deleted, and
        # the quarantine (no primary key) whole
        edited, gone = (r[0] for r in duck.execute("select post_id from raw.posts order by post_id limit 2").fetchall())
        duck.execute("update raw.posts set text = 'edited, 50% off?', like_count = 7 where post_id = ?", [edited])
        duck.execute("delete from raw.posts where post_id = ?", [gone])
        duck.execute("insert into raw.posts select * replace ('new-1' as post_id) from raw.posts where post_id = ?",
                     [edited])
        duck.execute("insert into raw.quarantine (source, record, reason, run_id, quarantined_at) "
                     "values ('sample', '{}', 'missing post_id', 'r', now())")
        quarantined = duck.execute("select count(*) from raw.quarantine").fetchone()[0]
        assert _sent(duck, pg) == {"raw.posts": 2, "raw.quarantine": quarantined}
        assert _rows(pg, "raw.posts", pg=True) == _rows(duck, "raw.posts")
        assert len(_rows(duck, "raw.posts")) == posts  # one gone, one new

        # PostgreSQL's token is not the working file's (another database, a restore): the next copy is whole
        with pg.cursor() as cur:
            cur.execute("update ops.copy_token set token = 'restored'")
        pg.commit()
        assert _sent(duck, pg)["raw.posts"] == posts
        # the working file's record lost (a copy that committed in PostgreSQL, not here): whole again
        duck.execute("delete from ops.postgres_copy_token")
        assert _sent(duck, pg)["raw.posts"] == posts
        assert _sent(duck, pg) == {}
        assert _rows(pg, "raw.posts", pg=True) == _rows(duck, "raw.posts")
        # PostgreSQL's copies carry the working file's primary keys (a key's row is found by its index)
        with pg.cursor() as cur:
            cur.execute("select count(*) from pg_constraint where contype = 'p' and conrelid = 'raw.posts'::regclass")
            assert cur.fetchone()[0] == 1
    pg.close()
