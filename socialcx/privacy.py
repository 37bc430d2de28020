"""Erasure: remove a person's data, or one post, from raw, enriched, marts and the published files.

``socialcx forget --author ID`` serves a GDPR erasure request: the person's posts are deleted from raw and
enriched, their quarantined records too, their CRM customer rows and orders (matched by social handle), and
their handle is replaced in everybody else's posts (brand replies address them by @handle). ``--post`` does the
same for one post deleted at the source. The marts are then rebuilt (the incremental models drop vanished
keys) and re-published, so the published DuckDB file and Parquet files no longer hold the data either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from socialcx.warehouse import scalar, transaction

PLACEHOLDER = "@[forgotten]"


@dataclass
class Erasure:
    posts: int = 0
    enriched: int = 0
    quarantined: int = 0
    customers: int = 0
    orders: int = 0
    mentions_redacted: int = 0
    handles: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("posts", "enriched", "quarantined", "customers", "orders",
                                              "mentions_redacted")}


def forget_author(con: duckdb.DuckDBPyConnection, author: str) -> Erasure:
    """Delete everything the warehouse holds about the person with this author id or handle."""
    erasure = Erasure()
    with transaction(con):
        handles = {h for (h,) in con.execute(
            "select distinct author_handle from raw.posts where (author_id = ? or lower(author_handle) = lower(?)) "
            "and author_handle is not null", [author, author]).fetchall()}
        handles |= {h for (h,) in con.execute(
            "select distinct social_handle from raw.customers where customer_id = ? or lower(social_handle) = lower(?)",
            [author, author]).fetchall() if h}
        handles.add(author.lstrip("@"))
        erasure.handles = sorted(handles)
        posts = "select source, post_id from raw.posts where author_id = ? or list_contains(?, lower(author_handle))"
        lowered = [h.lower() for h in handles]
        erasure.enriched = scalar(con, f"select count(*) from enriched.post_nlp where (source, post_id) in ({posts})",
                                  [author, lowered])
        con.execute(f"delete from enriched.post_nlp where (source, post_id) in ({posts})", [author, lowered])
        erasure.posts = scalar(con, f"select count(*) from ({posts})", [author, lowered])
        _touch_neighbours(con, posts, [author, lowered])
        con.execute("delete from raw.posts where author_id = ? or list_contains(?, lower(author_handle))",
                    [author, lowered])
        quarantined = ("select rowid from raw.quarantine where json_extract_string(record, '$.author_id') = ? "
                       "or list_contains(?, lower(json_extract_string(record, '$.author_id')))")
        erasure.quarantined = scalar(con, f"select count(*) from ({quarantined})", [author, lowered])
        con.execute(f"delete from raw.quarantine where rowid in ({quarantined})", [author, lowered])
        customers = "select customer_id from raw.customers where customer_id = ? or list_contains(?, lower(social_handle))"
        erasure.orders = scalar(con, f"select count(*) from raw.orders where customer_id in ({customers})",
                                [author, lowered])
        con.execute(f"delete from raw.orders where customer_id in ({customers})", [author, lowered])
        erasure.customers = scalar(con, f"select count(*) from ({customers})", [author, lowered])
        con.execute("delete from raw.customers where customer_id = ? or list_contains(?, lower(social_handle))",
                    [author, lowered])
        erasure.mentions_redacted = _redact_mentions(con, handles)
    return erasure


def forget_post(con: duckdb.DuckDBPyConnection, source: str, post_id: str) -> Erasure:
    """Delete one post (deleted at the source, or on request) from raw and enriched."""
    erasure = Erasure()
    with transaction(con):
        erasure.enriched = scalar(con, "select count(*) from enriched.post_nlp where source = ? and post_id = ?",
                                  [source, post_id])
        con.execute("delete from enriched.post_nlp where source = ? and post_id = ?", [source, post_id])
        erasure.posts = scalar(con, "select count(*) from raw.posts where source = ? and post_id = ?",
                               [source, post_id])
        _touch_neighbours(con, "select source, post_id from raw.posts where source = ? and post_id = ?",
                          [source, post_id])
        con.execute("delete from raw.posts where source = ? and post_id = ?", [source, post_id])
    return erasure


def _touch_neighbours(con: duckdb.DuckDBPyConnection, posts: str, params: list) -> None:
    """Mark the parents and replies of posts about to be deleted as changed. A deleted row leaves no trace for
    the incremental marts to find; its neighbours' conversations are the ones that change."""
    con.execute(f"""
        update raw.posts set updated_at = now()
        where (source, post_id) in (select p.source, p.parent_post_id from raw.posts as p
                                    where (p.source, p.post_id) in ({posts}))
           or (source, parent_post_id) in ({posts})
    """, params + params)


def _redact_mentions(con: duckdb.DuckDBPyConnection, handles: set[str]) -> int:
    """Replace @handle in other people's posts (raw text and redacted text); returns the posts changed."""
    changed = 0
    for handle in sorted(handles):
        pattern = rf"(?i)@{re.escape(handle)}\b"
        changed += scalar(con, "select count(*) from raw.posts where regexp_matches(text, ?)", [pattern])
        con.execute("update raw.posts set text = regexp_replace(text, ?, ?, 'g'), updated_at = now() "
                    "where regexp_matches(text, ?)", [pattern, PLACEHOLDER, pattern])
        con.execute("update enriched.post_nlp set text_redacted = regexp_replace(text_redacted, ?, ?, 'g') "
                    "where regexp_matches(text_redacted, ?)", [pattern, PLACEHOLDER, pattern])
    return changed
