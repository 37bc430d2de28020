"""Every stage on SOCIALCX_TARGET=postgres, against a real PostgreSQL server on loopback: the run, the published
schema BI reads (swapped whole, read-only role), and forget."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from socialcx import stages
from socialcx.core import postgres
from socialcx.core.settings import Settings
from socialcx.serving.publish_postgres import publish_schema
from tests.support import parity

pytestmark = pytest.mark.integration


def _scalar(con, sql: str, params: list | None = None):
    with con.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


def test_a_run_on_postgres_publishes_every_mart_for_a_read_only_role(settings_env, postgres_target, postgres_server):
    settings = Settings()
    results = {r["stage"]: r for r in stages.run_all(settings=settings, posts=600, seed=5)}
    assert set(results) >= {"extract_sample", "enrich", "transform", "validate", "publish", "report", "alert"}
    published = results["publish"]["postgres_published"]
    assert published == results["publish"]["tables"] and len(published) >= 37 and published["fct_posts"] > 500

    admin = postgres.connect(postgres.parse_url(postgres_target))
    for table in ("fct_conversations", "mart_service_performance", "mart_sentiment"):  # what BI reads is the marts
        assert parity.compare_table(parity.rows(admin, "published", table, postgres=True),
                                    parity.rows(admin, "marts", table, postgres=True)) is None
    # a BI login granted the read-only role reads published, and nothing else, and cannot write
    with admin.cursor() as cur:
        cur.execute("create role bi_reader login password 'reader-pw-1' in role socialcx_bi")
    admin.commit()
    reader = psycopg2.connect(postgres_server.url_for(admin.info.dbname).replace(
        f"{postgres_server.user}:{postgres_server.password}", "bi_reader:reader-pw-1"))
    assert _scalar(reader, "select count(*) from published.fct_posts") == published["fct_posts"]
    reader.rollback()
    for statement in ("select count(*) from raw.posts", "select count(*) from marts.fct_posts",
                      "delete from published.fct_posts", "create table published.mine (x int)"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _scalar(reader, statement)
        reader.rollback()
    reader.close()

    # forget: the person leaves raw, the models and the published schema in PostgreSQL too
    author = _scalar(admin, "select customer_author_id from published.fct_conversations "
                            "where customer_author_id is not null order by post_count desc limit 1")
    admin.rollback()
    stages.forget(author=author, settings=settings)
    for schema, table, column in (("raw", "posts", "author_id"), ("intermediate", "int_posts_enriched", "author_id"),
                                  ("marts", "fct_posts", "author_id"), ("published", "fct_posts", "author_id"),
                                  ("published", "fct_conversations", "customer_author_id")):
        assert _scalar(admin, f"select count(*) from {schema}.{table} where {column} = %s", [author]) == 0, table
    # and its bytes leave the database's table files (rewritten); PostgreSQL's write-ahead log recycles its own
    database_dir = postgres_server.data / "base" / str(_scalar(admin, "select oid from pg_database "
                                                                      "where datname = current_database()"))
    admin.commit()
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("checkpoint")  # every page on disk, as it is now
    admin.close()
    needle = author.encode()
    holding = [path.name for path in database_dir.iterdir() if path.is_file() and needle in path.read_bytes()]
    assert not holding, holding


def test_readers_never_see_half_a_swap(postgres_target):
    """Two marts, both 1 row in one version and both 2 in the next: a query reading both while the schema is
    swapped 30 times sees (1, 1) or (2, 2), never one of each, never fails, and waits at most for a swap itself."""
    url = postgres.parse_url(postgres_target)
    admin = _two_versions_published(url)
    seen, errors, waits, stop = set(), [], [], threading.Event()

    def read() -> None:
        con = postgres.connect(url)
        con.autocommit = True
        try:
            while not stop.is_set():
                started = time.monotonic()
                seen.add(tuple(_fetch(con, "select (select count(*) from published.a), (select count(*) from published.b)")))
                waits.append(time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            con.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for swap in range(30):
            publish_schema(admin, ["a", "b"], reader_role=None, source_schema="marts_b" if swap % 2 == 0 else "marts")
    finally:
        stop.set()
        reader.join()
    admin.close()
    assert not errors, errors
    assert seen == {(1, 1), (2, 2)}, seen  # both versions were read, and no mixture
    assert max(waits) < 1.0  # a query arriving during a swap waits for it, milliseconds, not for the publish


def _two_versions_published(url):
    """Marts a and b with 1 row each in schema marts and 2 each in marts_b; marts published. An admin connection."""
    admin = postgres.connect(url)
    with admin.cursor() as cur:
        cur.execute("create schema marts; create schema marts_b")
        for schema, rows in (("marts", 1), ("marts_b", 2)):
            for table in ("a", "b"):
                cur.execute(f"create table {schema}.{table} as select generate_series(1, {rows}) as x")
    admin.commit()
    publish_schema(admin, ["a", "b"], reader_role=None)
    return admin


def _fetch(con, sql: str) -> tuple:
    with con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def test_a_reading_transaction_keeps_the_version_it_started_on(postgres_target):
    """A BI transaction reads published.a, a publish swaps in new data meanwhile, then it reads published.b: it
    sees the version it started on for both (the swap waits for it), and the next transaction sees the new one."""
    url = postgres.parse_url(postgres_target)
    admin = _two_versions_published(url)

    reader = postgres.connect(url)
    first = _fetch(reader, "select count(*) from published.a")[0]  # the transaction stays open
    swapper = threading.Thread(target=publish_schema, args=(admin, ["a", "b"]),
                               kwargs={"reader_role": None, "source_schema": "marts_b"})
    swapper.start()
    time.sleep(1.0)  # the swap is trying now
    second = _fetch(reader, "select count(*) from published.b")[0]
    reader.commit()
    swapper.join(timeout=60)
    assert not swapper.is_alive()
    assert (first, second) == (1, 1)
    assert _fetch(reader, "select (select count(*) from published.a), (select count(*) from published.b)") == (2, 2)
    reader.close()
    admin.close()
