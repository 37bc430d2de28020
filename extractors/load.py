"""Loading into the ``raw`` schema: validate, quarantine, merge on natural keys, commit the cursor.

Every extractor hands a data frame to :func:`load_posts` (or :func:`merge_frame` for reference data).
One call is one transaction: rows, quarantine entries and the cursor land together or not at all,
so a crash never leaves half a batch, and re-running a batch changes nothing.

This is hand-written rather than dlt: the merge must compare content so that an edited post with an
unchanged cursor value still updates (dlt's incremental dedup drops it), and a whole run must share
one DuckDB transaction with the cursor.
"""

from __future__ import annotations

import json
import logging
import numbers
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from socialcx.core import failpoints
from socialcx.core.warehouse import quote_ident, quote_table, scalar, transaction

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000

POST_COLUMNS = [
    "source", "post_id", "parent_post_id", "conversation_id", "author_id", "author_handle", "brands_mentioned",
    "is_inbound", "created_at", "text", "lang", "like_count", "reply_count", "repost_count", "is_deleted",
    "updated_at", "ingested_at", "run_id",
]
# columns whose change makes an update; ingested_at and run_id keep the first load's values otherwise
POST_CONTENT = [
    "parent_post_id", "conversation_id", "author_id", "author_handle", "brands_mentioned", "is_inbound",
    "created_at", "text", "lang", "like_count", "reply_count", "repost_count", "is_deleted",
]


class SourceError(RuntimeError):
    """A source cannot be read at all; the message names the input and the fix. Nothing was committed."""


@dataclass
class LoadResult:
    table: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    erased: int = 0  # rows of people or posts in the erasure register: dropped at load, by design
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Rows that passed validation and are in the table (new, changed or unchanged):
        read = loaded + quarantined + erased."""
        return self.read - self.quarantined - self.erased

    def as_dict(self) -> dict[str, object]:
        return {"table": self.table, "read": self.read, "loaded": self.loaded, "inserted": self.inserted,
                "updated": self.updated, "quarantined": self.quarantined, "erased": self.erased,
                "reasons": self.reasons, "notes": self.notes}


def _as_bool(value: object) -> bool:
    """Booleans as sources write them: True/False, 1/0, "true"/"false", "yes"/"no"; missing is False."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes", "y")
    return bool(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def quarantine(con: duckdb.DuckDBPyConnection, source: str, records: list[tuple[str, str]], run_id: str) -> int:
    """Store bad records with their reason; the same record with the same reason is stored once. A record
    holding a forgotten person's identifier is not stored (the erasure register); it still counts as handled."""
    if not records:
        return 0
    from socialcx.core.erasure import Register

    register = Register.load(con)
    if register:
        kept = [(record, reason) for record, reason in records if not register.holds(record)]
        if len(kept) < len(records):
            log.info("%d quarantine record(s) of forgotten people or posts dropped", len(records) - len(kept))
        if not kept:
            return len(records)
        records, total = kept, len(records)
    else:
        total = len(records)
    frame = pd.DataFrame(records, columns=["record", "reason"])
    frame["source"] = source
    frame["run_id"] = run_id
    frame["quarantined_at"] = utcnow()
    con.register("_quarantine_in", frame)
    try:
        con.execute("""
            insert into raw.quarantine (source, record, reason, run_id, quarantined_at)
            select distinct q.source, q.record, q.reason, q.run_id, q.quarantined_at
            from _quarantine_in as q
            where not exists (
                select 1 from raw.quarantine as e
                where e.source = q.source and e.record = q.record and e.reason = q.reason
            )
        """)
    finally:
        con.unregister("_quarantine_in")
    return total


def _record(row: pd.Series) -> str:
    return json.dumps({k: (None if pd.isna(v) else str(v)) if not isinstance(v, list | tuple) else list(v)
                       for k, v in row.items()}, ensure_ascii=False, default=str)


def earliest_post_date() -> pd.Timestamp:
    """The oldest plausible post date (SOCIALCX_EARLIEST_POST_DATE): older dates are export errors (0001-01-01,
    1970-01-01 from a zero epoch) that would stretch every chart over centuries."""
    from socialcx.core.settings import get_settings

    return pd.Timestamp(get_settings().earliest_post_date, tz="UTC")


def validate_posts(frame: pd.DataFrame, now: datetime | None = None,
                   earliest: pd.Timestamp | None = None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Split posts into good rows and (record, reason) pairs. Expects ``created_at`` already parsed (NaT if not)."""
    now = now or utcnow()
    earliest = earliest if earliest is not None else earliest_post_date()
    reasons = pd.Series("", index=frame.index, dtype=object)

    def flag(mask: pd.Series, reason: str) -> None:
        reasons[mask & (reasons == "")] = reason

    post_id = frame["post_id"].astype("string")
    flag(post_id.isna() | (post_id.str.strip() == ""), "missing post_id")
    flag(frame["author_id"].isna() | (frame["author_id"].astype("string").str.strip() == ""), "missing author_id")
    flag(frame["created_at"].isna(), "unparseable created_at")
    flag(frame["created_at"] > pd.Timestamp(now) + pd.Timedelta(minutes=5), "created_at in the future")
    flag(frame["created_at"] < earliest,
         f"created_at before {earliest.date().isoformat()} (SOCIALCX_EARLIEST_POST_DATE)")
    text = frame["text"].astype("string")
    flag(text.isna() | (text.str.strip() == ""), "empty text")
    flag(text.str.len() > MAX_TEXT_CHARS, f"text longer than {MAX_TEXT_CHARS} characters")
    flag(text.str.contains("\ufffd", regex=False).fillna(False), "invalid UTF-8 in text")
    duplicated = post_id.duplicated(keep="first") & (reasons == "")
    flag(duplicated, "duplicate post_id within input")
    bad = reasons != ""
    bad_records = [(_record(frame.loc[i]), reasons[i]) for i in frame.index[bad]]
    return frame.loc[~bad], bad_records


def merge_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, keys: list[str],
                content: list[str], columns: list[str] | None = None) -> tuple[int, int]:
    """Upsert ``frame`` into ``table`` on ``keys``; rows whose ``content`` is unchanged are left alone.

    Returns (inserted, updated).
    """
    if frame.empty:
        return 0, 0
    columns = columns or list(frame.columns)
    target = quote_table(table)  # the pipeline's own table names and columns, quoted by the one helper
    q = {c: quote_ident(c) for c in {*columns, *keys, *content}}
    before = scalar(con, f"select count(*) from {target}")
    con.register("_merge_in", frame[columns])
    try:
        on = " and ".join(f"t.{q[k]} = s.{q[k]}" for k in keys)
        changed = " or ".join(f"t.{q[c]} is distinct from s.{q[c]}" for c in content) or "false"
        updates = ", ".join(f"{q[c]} = s.{q[c]}" for c in columns if c not in keys and c not in ("ingested_at",))
        cols = ", ".join(q[c] for c in columns)
        vals = ", ".join(f"s.{q[c]}" for c in columns)
        touched = con.execute(f"""
            merge into {target} as t using _merge_in as s on {on}
            when matched and ({changed}) then update set {updates}
            when not matched then insert ({cols}) values ({vals})
        """).fetchall()[0][0]
    finally:
        con.unregister("_merge_in")
    inserted = scalar(con, f"select count(*) from {target}") - before
    return inserted, touched - inserted


def load_posts(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> LoadResult:
    """Validate, quarantine and merge posts. The caller owns the transaction."""
    from socialcx.core.erasure import Register

    result = LoadResult(table="raw.posts", read=len(frame))
    now = utcnow()
    frame, result.erased = Register.load(con).filter_posts(frame, source)  # forgotten stays forgotten
    if result.erased:
        result.notes.append(f"{result.erased} post(s) of forgotten people or posts not loaded (erasure register)")
    frame = frame.copy()
    frame["source"] = source
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, errors="coerce", format="mixed")
    good, bad = validate_posts(frame, now)
    result.quarantined = quarantine(con, source, bad, run_id)
    for _, reason in bad:
        result.reasons[reason] = result.reasons.get(reason, 0) + 1
    good = good.copy()
    defaults = {"parent_post_id": None, "conversation_id": None, "author_handle": None, "brands_mentioned": None,
                "lang": None, "like_count": None, "reply_count": None, "repost_count": None, "is_deleted": False}
    for column, value in defaults.items():
        if column not in good:
            good[column] = value
    good["is_deleted"] = good["is_deleted"].map(_as_bool).astype(bool)
    for column in ("post_id", "parent_post_id", "conversation_id", "author_id"):
        good[column] = good[column].astype("string")
    good["updated_at"] = now
    good["ingested_at"] = now
    good["run_id"] = run_id
    result.inserted, result.updated = merge_frame(con, "raw.posts", good, ["source", "post_id"],
                                                  [c for c in POST_CONTENT if c in good], POST_COLUMNS)
    return result


def merge_source_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, source: str, key: str,
                       run_id: str) -> tuple[int, int]:
    """Merge reference rows (customers, orders) of one source on (source, key); returns (inserted, updated)."""
    frame = frame.assign(source=source, run_id=run_id)
    content = [c for c in frame.columns if c not in ("source", key, "updated_at", "run_id")]
    return merge_frame(con, table, frame, ["source", key], content)


def save_cursor(con: duckdb.DuckDBPyConnection, source: str, stream: str, value: str | None, run_id: str) -> None:
    con.execute("""
        insert into raw.extract_state (source, stream, cursor_value, updated_at, run_id) values (?, ?, ?, ?, ?)
        on conflict (source, stream) do update set cursor_value = excluded.cursor_value,
            updated_at = excluded.updated_at, run_id = excluded.run_id
    """, [source, stream, value, utcnow(), run_id])
    failpoints.hit("extract:before_commit")  # the cursor is the last write of an extract's transaction


def get_cursor(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> str | None:
    return scalar(con, "select cursor_value from raw.extract_state where source = ? and stream = ?", [source, stream])


AUTHOR_FIELDS = ["author_id", "handle", "display_name", "followers_count", "following_count", "is_verified"]
METRIC_FIELDS = ["post_id", "like_count", "repost_count", "reply_count", "quote_count"]


def _count(value: object) -> int | None:
    """A count as the network reports it, or None when it is missing or not a non-negative whole number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, numbers.Integral):
        return int(value) if value >= 0 else None
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(value: object) -> str | None:
    """A text field as given, or None when missing (None, NaN, NA) or blank."""
    return value if isinstance(value, str) and value.strip() else None


def load_authors(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> LoadResult:
    """Merge authors (AUTHOR_FIELDS) on (source, author_id): the newest description wins, field by field (a field
    a fetch leaves empty keeps its earlier value). Forgotten people are not stored (the erasure register); an
    author without an id is skipped. The caller owns the transaction."""
    from socialcx.core.erasure import Register

    result = LoadResult(table="raw.authors", read=len(frame))
    if frame.empty:
        return result
    register = Register.load(con)
    rows = {}
    for author in frame.to_dict("records"):
        author_id = author.get("author_id")
        if not isinstance(author_id, str) or not author_id.strip():
            continue
        if register.is_person(author_id) or register.is_person(author.get("handle")):
            result.erased += 1
            continue
        rows[author_id] = [source, author_id, _text(author.get("handle")), _text(author.get("display_name")),
                           _count(author.get("followers_count")), _count(author.get("following_count")),
                           author.get("is_verified") if isinstance(author.get("is_verified"), bool) else None,
                           utcnow(), run_id]
    incoming = pd.DataFrame(list(rows.values()), columns=["source", "author_id", "handle", "display_name",
                                                          "followers_count", "following_count", "is_verified",
                                                          "updated_at", "run_id"]).astype(
        {"handle": "string", "display_name": "string", "followers_count": "Int64", "following_count": "Int64",
         "is_verified": "boolean"})
    con.register("incoming_authors", incoming)
    try:
        # what a fetch does not say (a profile not read this time) keeps what an earlier one said; a description
        # that changes nothing is not written (a re-run updates no row)
        merged = """
            select i.source, i.author_id, coalesce(i.handle, a.handle) as handle,
                   coalesce(i.display_name, a.display_name) as display_name,
                   coalesce(i.followers_count, a.followers_count) as followers_count,
                   coalesce(i.following_count, a.following_count) as following_count,
                   coalesce(i.is_verified, a.is_verified) as is_verified, i.updated_at, i.run_id,
                   a.author_id is null as is_new
            from incoming_authors as i
            left join raw.authors as a on a.source = i.source and a.author_id = i.author_id
            where a.author_id is null
               or (coalesce(i.handle, a.handle), coalesce(i.display_name, a.display_name),
                   coalesce(i.followers_count, a.followers_count), coalesce(i.following_count, a.following_count),
                   coalesce(i.is_verified, a.is_verified))
                  is distinct from (a.handle, a.display_name, a.followers_count, a.following_count, a.is_verified)"""
        result.inserted, result.updated = (int(v or 0) for v in con.execute(
            f"select count(*) filter (where is_new), count(*) filter (where not is_new) from ({merged})").fetchone())
        con.execute(f"""
            insert into raw.authors
            select * exclude (is_new) from ({merged})
            on conflict (source, author_id) do update set
                handle = excluded.handle, display_name = excluded.display_name,
                followers_count = excluded.followers_count, following_count = excluded.following_count,
                is_verified = excluded.is_verified, updated_at = excluded.updated_at, run_id = excluded.run_id""")
    finally:
        con.unregister("incoming_authors")
    return result


def record_metrics(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> int:
    """One observation of each post's engagement (METRIC_FIELDS) in raw.post_metrics, for posts raw.posts holds
    (an erased or quarantined post gets none), and only when a count changed since the last observation: a
    re-run that sees the same counts adds nothing. The rows written."""
    if frame.empty:
        return 0
    observed = pd.DataFrame({"post_id": frame["post_id"].astype(str),
                             **{c: frame[c].map(_count).astype("Int64") if c in frame else pd.array([None] * len(frame), dtype="Int64")
                                for c in METRIC_FIELDS[1:]}}).drop_duplicates("post_id", keep="last")
    con.register("observed_metrics", observed)
    now = utcnow()
    try:
        return int(con.execute("""
            insert into raw.post_metrics
            select ?, o.post_id, ?, o.like_count, o.repost_count, o.reply_count, o.quote_count, ?, ?
            from observed_metrics as o
            semi join raw.posts as p on p.source = ? and p.post_id = o.post_id
            where not exists (
                select 1 from (
                    select * from raw.post_metrics as m where m.source = ? and m.post_id = o.post_id
                    order by m.observed_at desc limit 1
                ) as last
                where last.like_count is not distinct from o.like_count
                  and last.repost_count is not distinct from o.repost_count
                  and last.reply_count is not distinct from o.reply_count
                  and last.quote_count is not distinct from o.quote_count
            )""", [source, now, run_id, now, source, source]).fetchall()[0][0])
    finally:
        con.unregister("observed_metrics")


def record_metric_history(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> int:
    """Engagement observations a source already holds with their own times (``observed_at`` and METRIC_FIELDS):
    a generated world, or an export of a network's analytics. Kept as given, for posts raw.posts holds; an
    observation already stored (same post and time) is left alone, so a re-run adds nothing. The rows written."""
    if frame.empty:
        return 0
    observed = pd.DataFrame({"post_id": frame["post_id"].astype(str),
                             "observed_at": pd.to_datetime(frame["observed_at"], utc=True),
                             **{c: frame[c].map(_count).astype("Int64") for c in METRIC_FIELDS[1:]}})
    con.register("observed_history", observed)
    try:
        before = scalar(con, "select count(*) from raw.post_metrics where source = ?", [source])
        con.execute("""
            insert or ignore into raw.post_metrics
            select ?, o.post_id, o.observed_at, o.like_count, o.repost_count, o.reply_count, o.quote_count, ?, ?
            from observed_history as o
            semi join raw.posts as p on p.source = ? and p.post_id = o.post_id""", [source, run_id, utcnow(), source])
        return int(scalar(con, "select count(*) from raw.post_metrics where source = ?", [source]) - before)
    finally:
        con.unregister("observed_history")


SHARE_KINDS = ("repost", "quote")


def record_shares(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, run_id: str) -> int:
    """Who reposted or quoted a post (columns post_id, author_id, kind in SHARE_KINDS, shared_at), for posts
    raw.posts holds; a forgotten sharer is not stored, a share already stored is left alone. The rows written.
    The caller owns the transaction."""
    from socialcx.core.erasure import Register

    if frame.empty:
        return 0
    register = Register.load(con)
    keep = frame["kind"].isin(SHARE_KINDS) & frame["author_id"].map(
        lambda a: isinstance(a, str) and bool(a.strip()) and not register.is_person(a))
    shares = pd.DataFrame({"post_id": frame.loc[keep, "post_id"].astype(str),
                           "author_id": frame.loc[keep, "author_id"].astype(str),
                           "kind": frame.loc[keep, "kind"].astype(str),
                           "shared_at": pd.to_datetime(frame.loc[keep, "shared_at"], utc=True)})
    con.register("observed_shares", shares)
    try:
        before = scalar(con, "select count(*) from raw.post_shares where source = ?", [source])
        con.execute("""
            insert or ignore into raw.post_shares
            select ?, s.post_id, s.author_id, s.kind, s.shared_at, ?, ?
            from observed_shares as s
            semi join raw.posts as p on p.source = ? and p.post_id = s.post_id""", [source, run_id, utcnow(), source])
        return int(scalar(con, "select count(*) from raw.post_shares where source = ?", [source]) - before)
    finally:
        con.unregister("observed_shares")


def record_audience(con: duckdb.DuckDBPyConnection, source: str, posts: pd.DataFrame, authors: pd.DataFrame | None,
                    run_id: str, result: LoadResult) -> None:
    """After the posts of a fetch are loaded: their engagement as observed now, and their authors; noted on
    ``result`` (the posts' load). The caller owns the transaction."""
    observed = record_metrics(con, posts, source, run_id)
    if observed:
        result.notes.append(f"{observed} engagement observation(s) recorded")
    if authors is not None and len(authors):
        described = load_authors(con, authors, source, run_id)
        result.notes.append(f"{described.inserted} new and {described.updated} updated author(s)")


def recent_posts(con: duckdb.DuckDBPyConnection, source: str, limit: int) -> list[str]:
    """The ids of a source's ``limit`` newest posts still live (an API source re-reads them: deleted upstream, or
    their engagement grew)."""
    if not limit:
        return []
    return [r[0] for r in con.execute(
        "select post_id from raw.posts where source = ? and not is_deleted order by created_at desc limit ?",
        [source, limit]).fetchall()]


def load_api_posts(con: duckdb.DuckDBPyConnection, source: str, frame: pd.DataFrame, *, run_id: str, label: str,
                   bad: list[tuple[str, str]], deleted: list[str], cursors: dict[str, str | None],
                   authors: pd.DataFrame | None = None) -> LoadResult:
    """An API source's fetch, written in one transaction: its posts (validated, merged) and their engagement as
    observed now, their authors, the items it could not read (quarantined with their reasons), the posts deleted
    upstream (marked deleted) and its cursors."""
    with transaction(con):
        result = load_posts(con, frame, source, run_id) if len(frame) else LoadResult("raw.posts")
        record_audience(con, source, frame, authors, run_id, result)
        result.read += len(bad)
        result.quarantined += quarantine(con, source, bad, run_id)
        for _, reason in bad:
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
        if deleted:
            con.execute("update raw.posts set is_deleted = true, updated_at = now() "
                        "where source = ? and list_contains(?, post_id)", [source, deleted])
            result.notes.append(f"{len(deleted)} post(s) deleted upstream, marked deleted")
        result.table = f"raw.posts <- {label}"
        for stream, cursor in cursors.items():
            if cursor:
                save_cursor(con, source, stream, cursor, run_id)
    return result


def stored_posts(con: duckdb.DuckDBPyConnection, source: str, post_ids: list[str]) -> set[str]:
    """Which of ``post_ids`` raw.posts already holds for ``source``."""
    return {r[0] for r in con.execute("select post_id from raw.posts where source = ? and list_contains(?, post_id)",
                                      [source, post_ids]).fetchall()}
