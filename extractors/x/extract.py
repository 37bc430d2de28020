"""Source ``x``: each brand's mentions and its own replies, by X API v2 recent search.

One stream per brand: ``(@brand OR from:brand) -is:retweet``, resumed from the stream's stored ``since_id``.
All pages of a stream are fetched before anything is written; the posts and the new ``since_id`` are then
committed in one transaction, so a failure part-way leaves the cursor where it was and the next run
fetches the same tweets again (the merge makes that harmless).
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
import pandas as pd

from extractors.load import LoadResult, get_cursor, load_posts, save_cursor
from extractors.x.client import HttpXClient, XClient
from socialcx.warehouse import transaction

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
    from socialcx.logs import register_with_airflow

    register_with_airflow(token)
    return token


def default_client(base_url: str) -> HttpXClient:
    return HttpXClient(bearer_token=bearer_token(), base_url=base_url)


def stream_query(brand: str) -> str:
    return f"(@{brand} OR from:{brand}) -is:retweet"


def fetch_stream(client: XClient, brand: str, since_id: str | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    tweets: list[dict[str, Any]] = []
    users: dict[str, str] = {}
    next_token = None
    while True:
        page = client.search_recent(stream_query(brand), since_id=since_id, next_token=next_token)
        tweets += page.get("data", [])
        users.update({u["id"]: u["username"] for u in page.get("includes", {}).get("users", [])})
        next_token = page.get("meta", {}).get("next_token")
        if not next_token:
            return tweets, users


def to_posts(tweets: list[dict[str, Any]], users: dict[str, str], brand: str) -> pd.DataFrame:
    rows = []
    for tweet in tweets:
        username = users.get(tweet.get("author_id", ""), "")
        is_brand = username.lower() == brand.lower()
        parent = next((r["id"] for r in tweet.get("referenced_tweets", []) if r.get("type") == "replied_to"), None)
        metrics = tweet.get("public_metrics", {})
        rows.append({
            "post_id": tweet.get("id"), "parent_post_id": parent, "conversation_id": tweet.get("conversation_id"),
            "author_id": username if is_brand else tweet.get("author_id"), "author_handle": username or None,
            "brands_mentioned": None if is_brand else [brand], "is_inbound": not is_brand,
            "created_at": tweet.get("created_at"), "text": tweet.get("text"), "lang": tweet.get("lang"),
            "like_count": metrics.get("like_count"), "reply_count": metrics.get("reply_count"),
            "repost_count": metrics.get("retweet_count"),
        })
    return pd.DataFrame(rows, columns=["post_id", "parent_post_id", "conversation_id", "author_id", "author_handle",
                                       "brands_mentioned", "is_inbound", "created_at", "text", "lang", "like_count",
                                       "reply_count", "repost_count"])


def extract_x(con: duckdb.DuckDBPyConnection, client: XClient, brands: list[str], *, run_id: str) -> list[LoadResult]:
    if not brands:
        raise ValueError("SOCIALCX_X_BRANDS is empty: list the brand handles to follow, comma-separated")
    results = []
    for brand in brands:
        since_id = get_cursor(con, SOURCE, brand)
        tweets, users = fetch_stream(client, brand, since_id)
        frame = to_posts(tweets, users, brand)
        with transaction(con):
            result = load_posts(con, frame, SOURCE, run_id) if len(frame) else LoadResult("raw.posts")
            result.table = f"raw.posts <- x:{brand}"
            if tweets:
                newest = max((t["id"] for t in tweets), key=int)
                save_cursor(con, SOURCE, brand, newest if since_id is None else max(newest, since_id, key=int), run_id)
        results.append(result)
    return results


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's entry point: options client (tests) and brands; defaults from the settings."""
    client = options.get("client") or default_client(settings.x_base_url)
    return extract_x(con, client, list(options.get("brands") or settings.x_brands), run_id=run_id)
