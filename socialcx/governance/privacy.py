"""Erasure: a person, or one post, leaves the warehouse, the published files and the reports, and stays gone.

``socialcx forget --author ID`` serves a GDPR erasure request (art. 17). It

1. resolves everything that identifies the person: author ids and handles in ``raw.posts``, the CRM customer
   ids, handles and names matched through them, and any ``--email`` given;
2. registers the request in ``ops.erasure_requests`` and the identifiers in ``ops.erasure_identifiers``,
   **hashed** (SHA-256 of the normalised value), so the register does not itself keep the identifiers;
3. deletes the person's posts with their engagement history, shares and enrichments, their own reposts and
   quotes of others' posts (``raw.post_shares``), their author record (``raw.authors``), their survey answers
   with their follow-ups and enrichment (matched by CRM id, handle or e-mail digest), CRM customers and
   orders, and every quarantined record that holds one of the identifiers (whatever its layout: a JSON row, an
   unreadable CSV line, a CRM duplicate);
4. replaces the person's @handle in everybody else's posts, and their name in the posts addressed to them
   (a brand's "Hi Umar"), in raw and enriched text and in recorded alert messages.

Every extract consults the register (:class:`Register`): a re-delivered file, an API page or a CRM export
that still holds the person loads without them; mentions and names are redacted as the rows arrive. The
stage (``socialcx.stages.forget``) then rebuilds and re-publishes, drops older published versions, redacts
the identifiers in dbt's logs and artifacts and the report folder, and compacts the working DuckDB file so
the deleted bytes are gone from disk.

``--post SOURCE:POST_ID`` does the same for one post (deleted at the source): deleted now, refused at load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from socialcx.core.erasure import HANDLE, NAME_PLACEHOLDER, PLACEHOLDER, WORD, Register, identifier_hash, normalise
from socialcx.core.pii import email_hash
from socialcx.core.warehouse import (
    connect,
    has_table,
    open_published,
    quote_ident,
    quote_table,
    scalar,
    scratch,
    transaction,
)


@dataclass
class Erasure:
    posts: int = 0
    enriched: int = 0
    quarantined: int = 0
    customers: int = 0
    orders: int = 0
    authors: int = 0
    survey_responses: int = 0
    mentions_redacted: int = 0
    names_redacted: int = 0
    request_id: str = ""
    identifiers: list[str] = field(default_factory=list)  # in memory only, for artefacts and the final check

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("request_id", "posts", "enriched", "quarantined", "customers",
                                              "orders", "authors", "survey_responses", "mentions_redacted",
                                              "names_redacted")}


def _request_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def _register(con: duckdb.DuckDBPyConnection, kind: str, identifiers: dict[str, set[str]]) -> str:
    request_id = _request_id(kind)
    rows = {(identifier_hash(value), id_kind) for id_kind, values in identifiers.items() for value in values
            if normalise(value)}
    con.execute("insert into ops.erasure_requests values (?, ?, ?, ?, 'pending', null)",
                [request_id, kind, datetime.now(UTC), len(rows)])
    con.executemany("insert or ignore into ops.erasure_identifiers values (?, ?, ?)",
                    [(digest, id_kind, request_id) for digest, id_kind in sorted(rows)])
    return request_id


def _resolve(con: duckdb.DuckDBPyConnection, author: str, emails: list[str]) -> dict[str, set[str]]:
    """Every identifier of the person: ids, handles, customer ids, e-mails, and their names."""
    key = author.strip().lstrip("@")
    ids, handles = {key}, {key}
    for author_id, handle in con.execute(
            "select distinct author_id, author_handle from raw.posts where author_id = ? or lower(author_handle) = lower(?)",
            [key, key]).fetchall():
        ids.add(author_id)
        if handle:
            handles.add(handle)
    digests = [d for d in (email_hash(e) for e in emails) if d]  # the CRM keeps e-mails only as their digest
    customers = con.execute(
        "select customer_id, social_handle, name from raw.customers "
        "where customer_id = ? or list_contains(?, lower(social_handle)) or list_contains(?, email_hash)",
        [key, [h.lower() for h in handles], digests]).fetchall()
    names: set[str] = set()
    for customer_id, handle, name in customers:
        ids.add(customer_id)
        if handle:
            handles.add(handle)
        if name and name.strip():
            names.add(name.strip())
    firsts = {WORD.findall(n)[0] for n in names if len(WORD.findall(n)) > 1}
    return {"person": ids | handles | {e.strip() for e in emails if e.strip()}, "name": names, "first_name": firsts}


def forget_author(con: duckdb.DuckDBPyConnection, author: str, emails: list[str] | None = None) -> Erasure:
    """Delete everything the warehouse holds about the person with this author id, handle or customer id, and
    register them so no extract brings them back."""
    erasure = Erasure()
    with transaction(con):
        identifiers = _resolve(con, author, emails or [])
        erasure.request_id = _register(con, "author", identifiers)
        register = Register.load(con)
        erasure.identifiers = sorted(identifiers["person"] | identifiers["name"])
        people = [normalise(v) for v in identifiers["person"]]
        by_person = "list_contains(?, lower(author_id)) or list_contains(?, lower(author_handle))"
        posts = f"select source, post_id from raw.posts where {by_person}"
        erasure.names_redacted = _redact_names(con, posts, [people, people], identifiers)
        erasure.enriched = _rows(con, f"delete from enriched.post_nlp where (source, post_id) in ({posts})",
                                 [people, people])
        _touch_neighbours(con, posts, [people, people])
        con.execute(f"delete from raw.text_expired where (source, post_id) in ({posts})", [people, people])
        con.execute(f"delete from raw.post_metrics where (source, post_id) in ({posts})", [people, people])
        # the shares of their posts, and their own reposts and quotes of others' posts; those posts' reach changes,
        # so they are marked changed for the incremental marts (mart_amplification) to find, as neighbours are
        con.execute("update raw.posts set updated_at = now() where (source, post_id) in "
                    "(select source, post_id from raw.post_shares where list_contains(?, lower(author_id)))", [people])
        con.execute(f"delete from raw.post_shares where (source, post_id) in ({posts}) "
                    "or list_contains(?, lower(author_id))", [people, people, people])
        erasure.posts = _rows(con, f"delete from raw.posts where {by_person}", [people, people])
        erasure.authors = _rows(con, "delete from raw.authors where list_contains(?, lower(author_id)) "
                                     "or list_contains(?, lower(handle))", [people, people])
        # their survey answers (by CRM id, handle or e-mail digest), the answers' enrichment and follow-ups
        digests = [d for d in (email_hash(v) for v in identifiers["person"]) if d] + [d for (d,) in con.execute(
            "select email_hash from raw.customers where email_hash is not null and list_contains(?, lower(customer_id))",
            [people]).fetchall()]
        answers = ("select source, response_id from raw.survey_responses where list_contains(?, lower(respondent_id)) "
                   "or list_contains(?, lower(social_handle)) or list_contains(?, email_hash)")
        for table in ("enriched.survey_nlp", "raw.survey_followups"):
            con.execute(f"delete from {table} where (source, response_id) in ({answers})", [people, people, digests])
        erasure.survey_responses = _rows(con, f"delete from raw.survey_responses where (source, response_id) in "
                                              f"({answers})", [people, people, digests])
        erasure.quarantined = _delete_quarantined(con, register)
        customers = ("select customer_id from raw.customers where list_contains(?, lower(customer_id)) "
                     "or list_contains(?, lower(social_handle)) or list_contains(?, lower(trim(name))) "
                     "or list_contains(?, email_hash)")
        names = [normalise(n) for n in identifiers["name"]]
        erasure.orders = _rows(con, f"delete from raw.orders where customer_id in ({customers}) "
                                    "or list_contains(?, lower(customer_id))", [people, people, names, digests, people])
        erasure.customers = _rows(con, f"delete from raw.customers where customer_id in ({customers})",
                                  [people, people, names, digests])
        # handles of every network: word characters (X), domain handles (Bluesky), user@instance (Mastodon)
        handles = {v for v in identifiers["person"] if HANDLE.fullmatch("@" + v.lstrip("@"))}
        erasure.mentions_redacted = _redact_mentions(con, handles)
    return erasure


def forget_post(con: duckdb.DuckDBPyConnection, source: str, post_id: str) -> Erasure:
    """Delete one post (deleted at the source, or on request) from raw and enriched; never load it again."""
    erasure = Erasure()
    with transaction(con):
        erasure.request_id = _register(con, "post", {"post": {f"{source}:{post_id}"}})
        erasure.enriched = _rows(con, "delete from enriched.post_nlp where source = ? and post_id = ?",
                                 [source, post_id])
        _touch_neighbours(con, "select source, post_id from raw.posts where source = ? and post_id = ?",
                          [source, post_id])
        con.execute("delete from raw.text_expired where source = ? and post_id = ?", [source, post_id])
        con.execute("delete from raw.post_metrics where source = ? and post_id = ?", [source, post_id])
        con.execute("delete from raw.post_shares where source = ? and post_id = ?", [source, post_id])
        erasure.posts = _rows(con, "delete from raw.posts where source = ? and post_id = ?", [source, post_id])
    return erasure


def _rows(con: duckdb.DuckDBPyConnection, statement: str, params: list) -> int:
    """Run a delete or an update; the rows it changed (DuckDB returns the count as the statement's result)."""
    return int(con.execute(statement, params).fetchall()[0][0])


def complete_requests(con: duckdb.DuckDBPyConnection) -> int:
    """Mark pending requests complete once a publish without their data has succeeded; how many."""
    return _rows(con, "update ops.erasure_requests set status = 'complete', completed_at = ? where status = 'pending'",
                 [datetime.now(UTC)])


def _delete_quarantined(con: duckdb.DuckDBPyConnection, register: Register) -> int:
    """Quarantined records holding a forgotten identifier, whatever their layout (JSON rows, CSV lines)."""
    rows = con.execute("select rowid, record from raw.quarantine").fetchall()
    doomed = [rowid for rowid, record in rows if register.holds(record)]
    if doomed:
        con.execute("delete from raw.quarantine where list_contains(?, rowid)", [doomed])
    return len(doomed)


def _touch_neighbours(con: duckdb.DuckDBPyConnection, posts: str, params: list) -> None:
    """Mark the parents and replies of posts about to be deleted as changed. A deleted row leaves no trace for
    the incremental marts to find; its neighbours' conversations are the ones that change."""
    con.execute(f"""
        update raw.posts set updated_at = now()
        where (source, post_id) in (select p.source, p.parent_post_id from raw.posts as p
                                    where (p.source, p.post_id) in ({posts}))
           or (source, parent_post_id) in ({posts})
    """, params + params)


def _name_patterns(identifiers: dict[str, set[str]]) -> list[str]:
    names = sorted(identifiers["name"] | identifiers["first_name"], key=len, reverse=True)  # full names first
    return [r"(?i)\b" + r"\s+".join(re.escape(w) for w in WORD.findall(n)) + r"\b" for n in names if WORD.findall(n)]


def _redact_names(con: duckdb.DuckDBPyConnection, posts: str, params: list, identifiers: dict[str, set[str]]) -> int:
    """The person's name in the posts addressed to them (replies to their posts, posts mentioning them)."""
    patterns = _name_patterns(identifiers)
    if not patterns:
        return 0
    handles = [normalise(h) for h in identifiers["person"]]
    addressed = f"""
        select source, post_id from raw.posts
        where (source, parent_post_id) in ({posts})
           or list_has_any(?, regexp_extract_all(lower(text), '@(\\w+)', 1))
    """
    changed = 0
    for pattern in patterns:
        where = f"(source, post_id) in ({addressed}) and regexp_matches(text, ?)"
        changed += _rows(con, f"update raw.posts set text = regexp_replace(text, ?, ?, 'g'), updated_at = now() "
                              f"where {where}", [pattern, NAME_PLACEHOLDER, *params, handles, pattern])
        con.execute(f"update enriched.post_nlp set text_redacted = regexp_replace(text_redacted, ?, ?, 'g') "
                    f"where (source, post_id) in ({addressed}) and regexp_matches(text_redacted, ?)",
                    [pattern, NAME_PLACEHOLDER, *params, handles, pattern])
    return changed


def _redact_mentions(con: duckdb.DuckDBPyConnection, handles: set[str]) -> int:
    """Replace @handle in other people's posts (raw text, redacted text, alert messages); the posts changed."""
    changed = 0
    has_alerts = has_table(con, "ops", "alert_deliveries")
    for handle in sorted(handles):
        pattern = rf"(?i)@{re.escape(handle.lstrip('@'))}\b"
        changed += _rows(con, "update raw.posts set text = regexp_replace(text, ?, ?, 'g'), updated_at = now() "
                              "where regexp_matches(text, ?)", [pattern, PLACEHOLDER, pattern])
        con.execute("update enriched.post_nlp set text_redacted = regexp_replace(text_redacted, ?, ?, 'g') "
                    "where regexp_matches(text_redacted, ?)", [pattern, PLACEHOLDER, pattern])
        if has_alerts:
            con.execute("update ops.alert_deliveries set message = regexp_replace(message, ?, ?, 'g') "
                        "where regexp_matches(message, ?)", [pattern, PLACEHOLDER, pattern])
    return changed


# ---- after the marts are rebuilt: what is outside the warehouse's tables -------------------------------------

def _pattern(identifiers: list[str]) -> re.Pattern | None:
    usable = sorted({i.strip().lstrip("@") for i in identifiers if len(i.strip().lstrip("@")) >= 3}, key=len,
                    reverse=True)
    if not usable:
        return None
    return re.compile(r"(?<![\w@.])@?(?:" + "|".join(re.escape(i) for i in usable) + r")(?![\w])", re.IGNORECASE)


def redact_files(folders: list[Path], identifiers: list[str]) -> list[str]:
    """Replace the identifiers in every text file under ``folders`` (dbt logs and artefacts, Data Docs,
    reports); the files changed. Binary files are left alone (the warehouse is compacted separately)."""
    pattern = _pattern(identifiers)
    if pattern is None:
        return []
    changed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if not path.is_file() or path.is_symlink() or path.suffix in (".duckdb", ".parquet", ".wal", ".png"):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            redacted = pattern.sub(NAME_PLACEHOLDER, text)
            if redacted != text:
                path.write_text(redacted, encoding="utf-8")
                changed.append(str(path))
    return changed


def still_published(published: Path, parquet_dir: Path, identifiers: list[str]) -> dict[str, int]:
    """Where the identifiers still appear in the published set: {table or file: rows}."""
    found: dict[str, int] = {}
    pattern = _pattern(identifiers)
    if pattern is None:
        return found
    regex = pattern.pattern.replace("(?<![\\w@.])", "(^|[^\\w@.])")  # RE2 has no look-behind
    regex = "(?i)" + regex.replace("(?![\\w])", "([^\\w]|$)")
    if published.exists():
        with open_published(published) as con:
            for (table,) in con.execute("select table_schema || '.' || table_name from information_schema.tables "
                                        "where table_schema = 'marts'").fetchall():
                n = scalar(con, f"select count(*) from {quote_table(table)} as t "
                                "where regexp_matches(cast(t as varchar), ?)", [regex])
                if n:
                    found[str(published) + ":" + table] = int(n)
    for parquet in sorted(parquet_dir.glob("*.parquet")) if parquet_dir.is_dir() else []:
        with scratch() as con:
            n = scalar(con, "select count(*) from read_parquet(?) as t where regexp_matches(cast(t as varchar), ?)",
                       [str(parquet), regex])
        if n:
            found[str(parquet)] = int(n)
    return found


def compact(path: Path) -> dict[str, int]:
    """Rewrite the DuckDB file into a fresh one and swap it in: deleted rows leave free blocks that still hold
    their bytes until reused; a copy holds only live data. The caller holds no other connection to it."""
    import os

    from socialcx.core.warehouse import open_in_this_process

    if open_in_this_process(path):  # swapping the file under an open database would lose whatever it writes next
        raise RuntimeError(f"warehouse {path} is still open in this process; close every connection, then compact")
    fresh = path.with_name(f"{path.name}.compact-{os.getpid()}")
    fresh.unlink(missing_ok=True)
    before = path.stat().st_size
    con = connect(path)
    try:
        con.execute("checkpoint")
        name = scalar(con, "select current_database()")
        con.execute("attach ? as socialcx_compacted", [str(fresh)])
        con.execute(f"copy from database {quote_ident(str(name))} to socialcx_compacted")
        con.execute("detach socialcx_compacted")
    except BaseException:
        con.close()
        fresh.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(fresh, path)
    Path(f"{path}.wal").unlink(missing_ok=True)
    return {"bytes_before": before, "bytes_after": path.stat().st_size}
