"""socialcx forget: a person's data leaves raw, enriched, marts and the published files."""

from __future__ import annotations

import duckdb
import pytest

from socialcx import stages

pytestmark = pytest.mark.integration


def test_forget_an_author_everywhere(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        author, handle, customer = con.execute("""
            select p.author_id, p.author_handle, c.customer_id from raw.posts p
            join raw.customers c on c.social_handle = p.author_handle
            where p.is_inbound group by all order by count(*) desc limit 1
        """).fetchall()[0]
        mentions = con.execute("select count(*) from raw.posts where text ilike ?", [f"%@{handle}%"]).fetchall()[0][0]
    assert mentions > 0
    result = stages.forget(author=author, settings=settings)
    assert result["posts"] > 0 and result["customers"] == 1 and result["orders"] > 0
    assert result["mentions_redacted"] > 0 and result["republished"]

    def leftovers(path):
        with duckdb.connect(str(path)) as con:
            found = {}
            for (table,) in con.execute("select table_schema || '.' || table_name from information_schema.tables "
                                        "where table_schema in ('raw', 'enriched', 'marts')").fetchall():
                columns = [c for (c, t) in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema || '.' || table_name = ?", [table]).fetchall() if t == "VARCHAR"]
                for column in columns:
                    n = con.execute(f"select count(*) from {table} where {column} = ? or {column} = ? "
                                    f"or {column} ilike ?", [author, customer, f"%{handle}%"]).fetchall()[0][0]
                    if n:
                        found[f"{table}.{column}"] = n
            return found

    assert leftovers(settings.warehouse) == {}
    assert leftovers(settings.published_warehouse) == {}
    for parquet in (settings.publish_dir / "parquet").glob("*.parquet"):
        with duckdb.connect() as con:
            text = con.execute(f"select count(*) from read_parquet('{parquet}') as t "
                               f"where cast(t as varchar) ilike ?", [f"%{handle}%"]).fetchall()[0][0]
        assert text == 0, parquet.name


def test_forget_one_post(copy_built):
    settings = copy_built
    with duckdb.connect(str(settings.warehouse)) as con:
        post = con.execute("select post_id from raw.posts where is_inbound and parent_post_id is not null "
                           "order by post_id limit 1").fetchall()[0][0]
    result = stages.forget(post=f"sample:{post}", settings=settings)
    assert result["posts"] == 1 and result["enriched"] == 1
    with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_posts where post_id = ?", [post]).fetchall() == [(0,)]


def test_forget_needs_one_target(copy_built):
    with pytest.raises(stages.StageError, match="say what to forget"):
        stages.forget(settings=copy_built)


@pytest.mark.parametrize(("text", "redacted"), [
    ("thanks @alice.bsky.social, same here", "thanks @[forgotten], same here"),   # a Bluesky domain handle
    ("cc @bob@other.social please", "cc @[forgotten] please"),                     # a Mastodon user@instance
    ("@carol. are you ok?", "@[forgotten]. are you ok?"),                          # punctuation after a handle
    ("@carolyn and @alice.bsky.socialite", "@carolyn and @alice.bsky.socialite"),  # other people, left alone
])
def test_forgotten_handles_of_every_network_are_redacted_at_load(text, redacted):
    from socialcx.core.erasure import Register, identifier_hash

    register = Register(person={identifier_hash(h) for h in ("alice.bsky.social", "bob@other.social", "carol")})
    assert register.redact(text) == redacted


def test_forgetting_a_bluesky_author_redacts_their_domain_handle_in_other_posts(con):
    from socialcx.governance.privacy import forget_author

    rows = [("at://did:plc:a/app.bsky.feed.post/1", "did:plc:a", "alice.bsky.social", True,
             "@acme.bsky.social my bag is lost"),
            ("at://did:plc:b/app.bsky.feed.post/2", "did:plc:b", "bob.bsky.social", True,
             "@acme.bsky.social same as @alice.bsky.social, lost too")]
    for post_id, author_id, handle, inbound, text in rows:
        con.execute("insert into raw.posts (source, post_id, author_id, author_handle, is_inbound, created_at, text, "
                    "updated_at, ingested_at, run_id) values ('bluesky', ?, ?, ?, ?, now(), ?, now(), now(), 'r1')",
                    [post_id, author_id, handle, inbound, text])
    erasure = forget_author(con, "alice.bsky.social")
    assert (erasure.posts, erasure.mentions_redacted) == (1, 1)
    assert con.execute("select text from raw.posts").fetchall() == [
        ("@acme.bsky.social same as @[forgotten], lost too",)]


def test_forgetting_an_author_removes_their_audience_record_and_engagement_history(con):
    import pandas as pd

    from extractors.load import load_api_posts
    from socialcx.governance.privacy import forget_author

    posts = pd.DataFrame([
        {"post_id": "1", "author_id": "alice@other.social", "author_handle": "alice@other.social", "is_inbound": True,
         "created_at": "2026-11-30T10:00:00Z", "text": "@AcmeHelp hi", "brands_mentioned": ["AcmeHelp"], "like_count": 2},
        {"post_id": "2", "author_id": "bob", "author_handle": "bob", "is_inbound": True,
         "created_at": "2026-11-30T11:00:00Z", "text": "@AcmeHelp me too", "brands_mentioned": ["AcmeHelp"], "like_count": 5}])
    authors = pd.DataFrame([{"author_id": "alice@other.social", "handle": "alice@other.social", "display_name": "Alice A",
                             "followers_count": 900}, {"author_id": "bob", "handle": "bob", "followers_count": 4}])
    load_api_posts(con, "mastodon", posts, run_id="r1", label="t", bad=[], deleted=[], cursors={}, authors=authors)
    erasure = forget_author(con, "alice@other.social")
    assert (erasure.posts, erasure.authors) == (1, 1)
    assert con.execute("select author_id from raw.authors").fetchall() == [("bob",)]
    assert con.execute("select post_id from raw.post_metrics").fetchall() == [("2",)]
    # a later fetch that still describes her stores nothing of her
    again = load_api_posts(con, "mastodon", posts, run_id="r2", label="t", bad=[], deleted=[], cursors={},
                           authors=authors)
    assert again.erased == 1
    assert con.execute("select author_id from raw.authors").fetchall() == [("bob",)]
    assert con.execute("select count(*) from raw.post_metrics where post_id = '1'").fetchone() == (0,)
