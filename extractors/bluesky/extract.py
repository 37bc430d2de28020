"""Source ``bluesky``: mentions, replies and quotes of a brand account, its own posts, and their threads.

Network first, with no warehouse lock held (:func:`prepare`). With the brand's own account (the session's
handle is the brand): new ``mention``, ``reply`` and ``quote`` notifications from
``app.bsky.notification.listNotifications``. Watching a brand from another account: posts mentioning it from
``app.bsky.feed.searchPosts`` (``mentions``, ``since``). Either way the brand's own posts from
``app.bsky.feed.getAuthorFeed``, the posts hydrated with ``app.bsky.feed.getPosts`` (25 at a time: text,
reply references and counts), the start of every thread a post replies into from
``app.bsky.feed.getPostThread``, and a re-read of recent posts with ``getPosts`` (a post it no longer returns
was deleted upstream). Then one short transaction (:func:`load`): the posts, the deletions and the cursors.

Post ids are AT URIs (``at://did:plc:.../app.bsky.feed.post/...``); the parent is the record's
``reply.parent.uri``. The brand's posts carry its handle as author (the marts attribute them by it); everyone
else is identified by their DID, which survives a change of handle (kept in ``author_handle``).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from extractors.bluesky.client import BlueskyApiError, BlueskyClient, HttpBlueskyClient
from extractors.load import AUTHOR_FIELDS, LoadResult, get_cursor, load_api_posts, recent_posts, stored_posts

SOURCE = "bluesky"
INBOUND_REASONS = ("mention", "reply", "quote")
POST_FIELDS = ["post_id", "parent_post_id", "conversation_id", "author_id", "author_handle", "brands_mentioned",
               "is_inbound", "created_at", "text", "lang", "like_count", "reply_count", "repost_count", "quote_count"]
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
REPLY_DEPTH = 6  # levels of replies read under a brand's post when watching it through search


def _connection() -> tuple[str, str]:
    """(login, password) of the Airflow connection ``socialcx_bluesky``; empty outside Airflow."""
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection("socialcx_bluesky")
    except Exception:  # no Airflow, or no such connection: the client says what to set
        return "", ""
    return connection.login or "", connection.password or ""


def default_client(base_url: str, handle: str) -> HttpBlueskyClient:
    """The app password from SOCIALCX_BLUESKY_APP_PASSWORD, else the Airflow connection ``socialcx_bluesky``."""
    password = os.environ.get("SOCIALCX_BLUESKY_APP_PASSWORD", "")
    if not password or not handle:
        login, secret = _connection()
        handle, password = handle or login, password or secret
        if secret:
            from socialcx.core.logs import register_secret

            register_secret(secret)  # masked in our logs and error messages, and in Airflow's task logs
    return HttpBlueskyClient(identifier=handle, app_password=password, base_url=base_url or "https://bsky.social")


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _newer(value: object, cursor: str | None) -> bool:
    moment, mark = _moment(value), _moment(cursor) if cursor else None
    return mark is None or (moment is not None and moment > mark)


def _pages(fetch: Any, items_of: str, stamp: Any, cursor: str | None, max_pages: int, what: str) -> list[Any]:
    """Pages, newest first, until an item is not newer than ``cursor`` (a time) or the pages end; a first run
    (no cursor) reads back at most ``max_pages`` pages."""
    items: list[Any] = []
    seen: set[str] = set()
    page_cursor = None
    for _ in range(max_pages):
        page = fetch(page_cursor)
        batch = [i for i in page.get(items_of) or []]
        fresh = [i for i in batch if not isinstance(i, dict) or _newer(stamp(i), cursor)]
        items += fresh
        page_cursor = page.get("cursor")
        if not batch or len(fresh) < len(batch) or not page_cursor:
            return items
        if page_cursor in seen:
            raise BlueskyApiError(f"Bluesky {what} paging repeats its cursor: nothing was written; the next run starts "
                                  "again from the stored cursor")
        seen.add(page_cursor)
    if cursor:
        raise BlueskyApiError(f"Bluesky {what}: more than {max_pages} pages of new items in one run; nothing was "
                              "written. Run more often, or raise SOCIALCX_BLUESKY_MAX_PAGES")
    return items


def prepare(read: Any, settings: Any, **options: Any) -> dict[str, Any]:
    client: BlueskyClient = options.get("client") or default_client(str(options.get("base_url") or ""),
                                                                    str(options.get("handle") or ""))
    brand = str(options.get("brand") or client.handle)
    return fetch(client, brand, read(lambda con: state(con, int(options.get("recheck") or 0))),
                 max_pages=int(options.get("max_pages") or 20), max_threads=int(options.get("max_threads") or 50),
                 stored=lambda ids: read(lambda con: stored_posts(con, SOURCE, ids)))


def state(con: duckdb.DuckDBPyConnection, recheck: int) -> dict[str, Any]:
    recent = recent_posts(con, SOURCE, recheck)
    return {stream: get_cursor(con, SOURCE, stream) for stream in ("notifications", "search", "feed")} | {
        "recent": recent}


def _uri(item: Any) -> str | None:
    uri = item.get("uri") if isinstance(item, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") and "/app.bsky.feed.post/" in uri else None


def fetch(client: BlueskyClient, brand: str, known: dict[str, Any], *, max_pages: int = 20,
          max_threads: int = 50, stored: Any = None) -> dict[str, Any]:
    """Everything new since ``known``'s cursors. ``stored(uris)`` says which posts raw already holds: a reply to
    one of them needs no thread fetch (its conversation has its root)."""
    own_account = brand.lower().lstrip("@") == client.handle.lower()
    bad: list[tuple[str, str]] = []
    views: dict[str, dict[str, Any]] = {}
    cursors: dict[str, str | None] = {}
    if own_account:
        notes = _pages(client.list_notifications, "notifications", lambda n: n.get("indexedAt"),
                       known.get("notifications"), max_pages, "notifications")
        inbound = [n for n in notes if not isinstance(n, dict) or n.get("reason") in INBOUND_REASONS]
        bad += [(json.dumps(n, default=str)[:5000], "notification without a post uri") for n in inbound if not _uri(n)]
        uris = list(dict.fromkeys(_uri(n) for n in inbound if _uri(n)))
        cursors["notifications"] = _latest([n.get("indexedAt") for n in notes if isinstance(n, dict)],
                                           known.get("notifications"))
    else:
        found = _pages(lambda c: client.search_posts(f"@{brand}", since=known.get("search"), cursor=c,
                                                       mentions=brand), "posts",
                       lambda p: p.get("indexedAt"), known.get("search"), max_pages, "search")
        bad += [(json.dumps(p, default=str)[:5000], "post without an at:// uri") for p in found if not _uri(p)]
        uris = [u for u in (_uri(p) for p in found) if u]
        cursors["search"] = _latest([p.get("indexedAt") for p in found if isinstance(p, dict)], known.get("search"))
    for view in client.get_posts(uris):  # hydrated: text, reply references, counts
        if _uri(view):
            views[view["uri"]] = view
    feed = _pages(lambda c: client.author_feed(brand, c), "feed",
                  lambda item: (item.get("post") or {}).get("indexedAt"), known.get("feed"), max_pages, "feed")
    for item in feed:
        post = item.get("post") if isinstance(item, dict) else None
        if isinstance(item, dict) and item.get("reason"):
            continue  # a repost by the brand is not the brand's post
        if not _uri(post):
            bad.append((json.dumps(item, default=str)[:5000], "feed item without a post uri"))
            continue
        views[post["uri"]] = post
    cursors["feed"] = _latest([(i.get("post") or {}).get("indexedAt") for i in feed if isinstance(i, dict)],
                              known.get("feed"))
    if not own_account:
        # no notifications to say who answered the brand: the replies under each new post of the brand's (a reply
        # need not mention it), at most max_threads posts a run
        for uri in [u for u, v in views.items() if _is_by(v, brand)][:max_threads]:
            frontier = (client.post_thread(uri, depth=REPLY_DEPTH).get("thread") or {}).get("replies") or []
            while frontier:
                node = frontier.pop()
                if isinstance(node, dict) and node.get("$type", THREAD_VIEW) == THREAD_VIEW and _uri(node.get("post")):
                    views.setdefault(node["post"]["uri"], node["post"])
                    frontier += node.get("replies") or []
    # a post that replies into a thread we have not seen: its ancestors, so the conversation has its root
    threads = 0
    parents = {((_record(v).get("reply") or {}).get("parent") or {}).get("uri") for v in views.values()}
    missing = {p for p in parents if isinstance(p, str)} - set(views)
    have = stored(sorted(missing)) if stored and missing else set()
    for view in list(views.values()):
        parent = ((_record(view).get("reply") or {}).get("parent") or {}).get("uri")
        if parent and parent not in views and parent not in have and threads < max_threads:
            threads += 1
            node = (client.post_thread(view["uri"]).get("thread") or {}).get("parent")
            while isinstance(node, dict) and node.get("$type", THREAD_VIEW) == THREAD_VIEW and _uri(node.get("post")):
                views.setdefault(node["post"]["uri"], node["post"])
                node = node.get("parent")
    recheck = [u for u in known.get("recent") or [] if u not in views]  # re-read: gone upstream, or grew
    reread = [p for p in client.get_posts(recheck) if _uri(p)] if recheck else []
    alive = {p["uri"] for p in reread}
    for view in reread:
        views.setdefault(view["uri"], view)
    # the authors' audiences (followers), for every author of this run's posts
    dids = sorted({str((v.get("author") or {}).get("did")) for v in views.values()
                   if isinstance(v.get("author"), dict) and str(v["author"].get("did", "")).startswith("did:")})
    profiles = {p.get("did"): p for p in client.get_profiles(dids) if isinstance(p, dict)} if dids else {}
    return {"brand": brand.lstrip("@"), "views": list(views.values()), "bad": bad, "profiles": profiles,
            "deleted": [u for u in recheck if u not in alive], "cursors": cursors}


def _latest(stamps: list[Any], cursor: str | None) -> str | None:
    moments = [(m, s) for s in [*stamps, cursor] if s and (m := _moment(s)) is not None]
    return max(moments)[1] if moments else None


def _is_by(view: dict[str, Any], handle: str) -> bool:
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    return str(author.get("handle", "")).lower() == handle.lower().lstrip("@")


def _record(view: dict[str, Any]) -> dict[str, Any]:
    record = view.get("record")
    return record if isinstance(record, dict) else {}


def to_posts(views: list[dict[str, Any]], brand: str) -> pd.DataFrame:
    rows = []
    for view in views:
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        record = _record(view)
        is_brand = _is_by(view, brand)
        langs = record.get("langs") if isinstance(record.get("langs"), list) else []
        rows.append({
            "post_id": view["uri"],
            "parent_post_id": ((record.get("reply") or {}).get("parent") or {}).get("uri"),
            "conversation_id": None,  # threads come from reply.parent (dbt walks them)
            "author_id": brand if is_brand else author.get("did"), "author_handle": author.get("handle"),
            "brands_mentioned": None if is_brand else [brand], "is_inbound": not is_brand,
            "created_at": record.get("createdAt"), "text": record.get("text"), "lang": langs[0] if langs else None,
            "like_count": view.get("likeCount"), "reply_count": view.get("replyCount"),
            "repost_count": view.get("repostCount"), "quote_count": view.get("quoteCount"),
        })
    return pd.DataFrame(rows, columns=POST_FIELDS)


def to_authors(views: list[dict[str, Any]], profiles: dict[str, dict[str, Any]], brand: str) -> pd.DataFrame:
    """The authors of the posts with their audience (``getProfiles``); ids as in :func:`to_posts`."""
    rows = {}
    for view in views:
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        author_id = brand if _is_by(view, brand) else author.get("did")
        if author_id:
            profile = profiles.get(author.get("did")) or {}
            rows[author_id] = {"author_id": author_id, "handle": author.get("handle"),
                               "display_name": profile.get("displayName", author.get("displayName")),
                               "followers_count": profile.get("followersCount"),
                               "following_count": profile.get("followsCount"), "is_verified": None}
    return pd.DataFrame(list(rows.values()), columns=AUTHOR_FIELDS)


def load(con: duckdb.DuckDBPyConnection, fetched: dict[str, Any], *, run_id: str) -> list[LoadResult]:
    """Write what :func:`fetch` brought, the deletions and the cursors, in one transaction."""
    return [load_api_posts(con, SOURCE, to_posts(fetched["views"], fetched["brand"]), run_id=run_id,
                           label=f"bluesky:@{fetched['brand']}", bad=fetched["bad"],
                           deleted=fetched["deleted"], cursors=fetched["cursors"],
                           authors=to_authors(fetched["views"], fetched.get("profiles") or {}, fetched["brand"]))]


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's second half: ``options['prepared']`` from :func:`prepare`, or fetch here (direct use)."""
    if "prepared" not in options:
        options["prepared"] = prepare(lambda query: query(con), settings, **options)
    return load(con, options["prepared"], run_id=run_id)
