"""Source ``x``: each brand's mentions and its own replies, by X API v2 recent search.

One stream per brand: ``(@brand OR from:brand) -is:retweet``, resumed from the stream's stored ``since_id``.
All pages of a stream are fetched before anything is written; the posts and the new ``since_id`` are then
committed in one transaction, so a failure part-way leaves the cursor where it was and the next run
fetches the same tweets again (the merge makes that harmless).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import duckdb
import pandas as pd

from extractors.load import (
    AUTHOR_FIELDS,
    LoadResult,
    get_cursor,
    load_posts,
    quarantine,
    record_audience,
    save_cursor,
)
from extractors.x.client import HttpXClient, XApiError, XClient
from socialcx.core.warehouse import transaction

SOURCE = "x"


def bearer_token() -> str:
    """From SOCIALCX_X_BEARER_TOKEN, else from the password of the Airflow connection ``socialcx_x``."""
    token = os.environ.get("SOCIALCX_X_BEARER_TOKEN", "")
    if token:
        return token
    try:
        from airflow.sdk import BaseHook

        token = BaseHook.get_connection("socialcx_x").password or ""
    except Exception:  # no Airflow, or no such connection: the client says what to set
        return ""
    from socialcx.core.logs import register_secret

    register_secret(token)  # masked in our logs and error messages, and in Airflow's task logs
    return token


def default_client(base_url: str) -> HttpXClient:
    return HttpXClient(bearer_token=bearer_token(), base_url=base_url)


def stream_query(brand: str) -> str:
    return f"(@{brand} OR from:{brand}) -is:retweet"


def fetch_stream(client: XClient, brand: str, since_id: str | None,
                 max_pages: int | None = None) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, dict[str, Any]]]:
    """Every page of a stream. A ``next_token`` seen before (a server paging in circles) and more than
    ``max_pages`` pages stop with XApiError; nothing is written, the cursor stays where it was."""
    tweets: list[dict[str, Any]] = []
    users: dict[str, str] = {}
    profiles: dict[str, dict[str, Any]] = {}  # the users expansion as sent: public_metrics, verified
    next_token = None
    seen: set[str] = set()
    max_pages = max_pages or getattr(client, "max_pages", 500)
    for _ in range(max_pages):
        page = client.search_recent(stream_query(brand), since_id=since_id, next_token=next_token)
        tweets += [t for t in page.get("data") or [] if isinstance(t, dict)]
        expanded = [u for u in (page.get("includes") or {}).get("users") or [] if isinstance(u, dict)]
        users.update({str(u.get("id")): str(u.get("username", "")) for u in expanded})
        profiles.update({str(u.get("id")): u for u in expanded})
        next_token = (page.get("meta") or {}).get("next_token")
        if not next_token:
            return tweets, users, profiles
        if next_token in seen:
            raise XApiError(f"X API repeated next_token {str(next_token)[:40]!r} for @{brand}: the paging loops. "
                            "Nothing was written; the next run starts again from the stored since_id")
        seen.add(next_token)
    raise XApiError(f"X API stream @{brand} has more than {max_pages} pages in one run; nothing was written. Run "
                    "more often, or raise HttpXClient.max_pages")


MENTION = re.compile(r"@(\w{1,15})")


def to_posts(tweets: list[dict[str, Any]], users: dict[str, str], brand: str,
             brands: list[str] | None = None) -> pd.DataFrame:
    """Tweets of one brand's stream as raw.posts rows. Brand identity is decided against every configured brand
    (``brands``): a reply by another watched brand, fetched under this brand's query, is still that brand's reply.
    A customer tweet mentions every configured brand it names, and at least the one whose stream found it."""
    handles = {b.lower(): b for b in (brands or [brand])}
    handles.setdefault(brand.lower(), brand)
    rows = []
    for tweet in tweets:
        username = users.get(str(tweet.get("author_id", "")), "")
        author_brand = handles.get(username.lower())
        parent = next((r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None)
        metrics = tweet.get("public_metrics") or {}
        mentioned = [handles[m.lower()] for m in MENTION.findall(str(tweet.get("text") or "")) if m.lower() in handles]
        mentioned = sorted(set(mentioned) | {brand})
        rows.append({
            "post_id": str(tweet.get("id")), "parent_post_id": parent, "conversation_id": tweet.get("conversation_id"),
            "author_id": author_brand if author_brand else tweet.get("author_id"), "author_handle": username or None,
            "brands_mentioned": None if author_brand else mentioned, "is_inbound": author_brand is None,
            "created_at": tweet.get("created_at"), "text": tweet.get("text"), "lang": tweet.get("lang"),
            "like_count": metrics.get("like_count"), "reply_count": metrics.get("reply_count"),
            "repost_count": metrics.get("retweet_count"), "quote_count": metrics.get("quote_count"),
        })
    return pd.DataFrame(rows, columns=POST_FIELDS)


POST_FIELDS = ["post_id", "parent_post_id", "conversation_id", "author_id", "author_handle", "brands_mentioned",
               "is_inbound", "created_at", "text", "lang", "like_count", "reply_count", "repost_count", "quote_count"]


def _merge_streams(frames: list[pd.DataFrame], con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per tweet across every brand's stream, and across runs: the brands a customer tweet mentions are
    the union of what each fetch (and the row already stored) says, so no brand's fetch overwrites another's."""
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    if frame is None:
        return pd.DataFrame(columns=POST_FIELDS)
    stored = {post_id: list(brands) for post_id, brands in con.execute(
        "select post_id, brands_mentioned from raw.posts where source = ? and list_contains(?, post_id) "
        "and brands_mentioned is not null", [SOURCE, frame["post_id"].astype(str).unique().tolist()]).fetchall()}
    merged = {}
    for row in frame.to_dict("records"):
        key = row["post_id"]
        previous = merged.get(key)
        if previous is not None and row["brands_mentioned"] is not None and previous["brands_mentioned"] is not None:
            row["brands_mentioned"] = sorted(set(previous["brands_mentioned"]) | set(row["brands_mentioned"]))
        if row["brands_mentioned"] is not None and key in stored:
            row["brands_mentioned"] = sorted(set(row["brands_mentioned"]) | set(stored[key]))
        merged[key] = row
    return pd.DataFrame(list(merged.values()), columns=POST_FIELDS)


def to_authors(fetched: list[dict[str, Any]], brands: list[str]) -> pd.DataFrame:
    """The users expansion as raw.authors rows: a configured brand by its handle (as its posts), others by id."""
    handles = {b.lower(): b for b in brands}
    rows = {}
    for stream in fetched:
        for user_id, user in (stream.get("profiles") or {}).items():
            brand = handles.get(str(user.get("username", "")).lower())
            metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
            rows[brand or user_id] = {"author_id": brand or user_id, "handle": user.get("username"),
                                      "display_name": user.get("name"), "followers_count": metrics.get("followers_count"),
                                      "following_count": metrics.get("following_count"),
                                      "is_verified": user.get("verified")}
    return pd.DataFrame(list(rows.values()), columns=AUTHOR_FIELDS)


def _numeric_id(tweet: dict[str, Any]) -> bool:
    return isinstance(tweet.get("id"), str | int) and str(tweet.get("id")).isdigit()


def fetch(client: XClient, brands: list[str], cursors: dict[str, str | None]) -> list[dict[str, Any]]:
    """Every brand's new tweets, fetched while no warehouse lock is held (rate-limit waits can be long)."""
    if not brands:
        raise ValueError("SOCIALCX_X_BRANDS is empty: list the brand handles to follow, comma-separated")
    fetched = []
    for brand in brands:
        since_id = cursors.get(brand)
        tweets, users, profiles = fetch_stream(client, brand, since_id)
        fetched.append({"brand": brand, "since_id": since_id, "tweets": tweets, "users": users, "profiles": profiles})
    return fetched


def load(con: duckdb.DuckDBPyConnection, fetched: list[dict[str, Any]], *, run_id: str) -> list[LoadResult]:
    """Write what :func:`fetch` brought: every brand's tweets merged into one row per tweet, and every brand's new
    since_id, in one transaction."""
    brands = [stream["brand"] for stream in fetched]
    bad: list[tuple[str, str]] = []
    frames = []
    for stream in fetched:
        good = [t for t in stream["tweets"] if _numeric_id(t)]
        bad += [(json.dumps(t, ensure_ascii=False, default=str)[:5000], f"tweet id {str(t.get('id'))[:40]!r} is not numeric")
                for t in stream["tweets"] if not _numeric_id(t)]
        frames.append(to_posts(good, stream["users"], stream["brand"], brands))
    with transaction(con):
        frame = _merge_streams(frames, con)
        result = load_posts(con, frame, SOURCE, run_id) if len(frame) else LoadResult("raw.posts")
        record_audience(con, SOURCE, frame, to_authors(fetched, brands), run_id, result)
        fetched_count = sum(len(s["tweets"]) for s in fetched)
        if fetched_count > len(frame) + len(bad):
            result.notes.append(f"{fetched_count - len(frame) - len(bad)} tweet(s) came in more than one brand's "
                                "stream: stored once, with every brand they mention")
        result.read += len(bad)
        result.quarantined += quarantine(con, SOURCE, bad, run_id)
        if bad:
            result.reasons["tweet id is not numeric"] = len(bad)
        result.table = "raw.posts <- x:" + ",".join(brands)
        for stream in fetched:
            ids = [str(t["id"]) for t in stream["tweets"] if _numeric_id(t)]
            if ids:
                since_id = stream["since_id"]
                newest = max(ids, key=int)
                save_cursor(con, SOURCE, stream["brand"], newest if since_id is None else max(newest, since_id, key=int),
                            run_id)
    return [result]


def cursors(con: duckdb.DuckDBPyConnection, brands: list[str]) -> dict[str, str | None]:
    return {brand: get_cursor(con, SOURCE, brand) for brand in brands}


def extract_x(con: duckdb.DuckDBPyConnection, client: XClient, brands: list[str], *, run_id: str) -> list[LoadResult]:
    """Fetch and load in one call (tests, one-off use); the stage fetches without holding the warehouse."""
    return load(con, fetch(client, brands, cursors(con, brands)), run_id=run_id)


def prepare(read: Any, settings: Any, **options: Any) -> list[dict[str, Any]]:
    """The stage's first half, with no warehouse lock held: ``read(fn)`` runs ``fn(con)`` on a short-lived
    connection (for the cursors); then every page is fetched."""
    brands = list(options.get("brands") or [])
    if not brands:
        raise ValueError("SOCIALCX_X_BRANDS is empty: list the brand handles to follow, comma-separated")
    client = options.get("client") or default_client(str(options["base_url"]))
    return fetch(client, brands, read(lambda con: cursors(con, brands)))


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's second half: ``options['prepared']`` from :func:`prepare`, or fetch here (direct use)."""
    if "prepared" in options:
        return load(con, options["prepared"], run_id=run_id)
    client = options.get("client") or default_client(str(options["base_url"]))
    return extract_x(con, client, list(options.get("brands") or []), run_id=run_id)
