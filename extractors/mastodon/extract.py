"""Source ``mastodon``: a brand account's mentions and its own posts, with the threads they belong to.

Network first, with no warehouse lock held (:func:`prepare`): the brand account from
``GET /api/v1/accounts/verify_credentials``, new mentions from ``GET /api/v1/notifications?types[]=mention``
(kept incremental by ``min_id``, pages followed through the ``Link`` header), the brand's own posts from
``GET /api/v1/accounts/:id/statuses``, the start of every thread a mention replies into from
``GET /api/v1/statuses/:id/context``, and a re-read of recent posts (``GET /api/v1/statuses/:id``: a 404 means
deleted upstream). Then one short transaction (:func:`load`): the posts, the deletions and both cursors.

A status becomes a ``raw.posts`` row: its HTML ``content`` as plain text (mentions kept as ``@handle``), its
``in_reply_to_id`` as the parent, ``favourites/reblogs/replies_count`` as engagement. The brand's posts carry the
brand's handle (its ``acct``) as author, so the marts attribute them to it; everyone else is identified by their
``acct`` (``user`` on the brand's instance, ``user@instance`` elsewhere).
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from typing import Any

import duckdb
import pandas as pd

from extractors.load import AUTHOR_FIELDS, LoadResult, get_cursor, load_api_posts, recent_posts, stored_posts
from extractors.mastodon.client import HttpMastodonClient, MastodonApiError, MastodonClient, NotFound, Page

SOURCE = "mastodon"
POST_FIELDS = ["post_id", "parent_post_id", "conversation_id", "author_id", "author_handle", "brands_mentioned",
               "is_inbound", "created_at", "text", "lang", "like_count", "reply_count", "repost_count", "quote_count"]


def _connection() -> tuple[str, str]:
    """(instance URL, token) of the Airflow connection ``socialcx_mastodon``; empty outside Airflow."""
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection("socialcx_mastodon")
    except Exception:  # no Airflow, or no such connection: the client says what to set
        return "", ""
    host = connection.host or ""
    if host and "://" not in host:
        host = f"{connection.schema or 'https'}://{host}"
    return host, connection.password or ""


def default_client(base_url: str) -> HttpMastodonClient:
    """The token from SOCIALCX_MASTODON_ACCESS_TOKEN, else the Airflow connection ``socialcx_mastodon`` (whose host
    is the instance when SOCIALCX_MASTODON_BASE_URL is unset)."""
    token = os.environ.get("SOCIALCX_MASTODON_ACCESS_TOKEN", "")
    if not token or not base_url:
        host, password = _connection()
        base_url, token = base_url or host, token or password
        if password:
            from socialcx.core.logs import register_secret

            register_secret(password)  # masked in our logs and error messages, and in Airflow's task logs
    return HttpMastodonClient(access_token=token, base_url=base_url)


class _Text(HTMLParser):
    """Mastodon's status HTML as the text a reader sees: paragraphs and line breaks as new lines, links as their
    visible text (a mention renders as ``@handle``), entities decoded. Nothing of the markup is kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: object) -> str:
    parser = _Text()
    parser.feed(str(content or ""))
    parser.close()
    return "".join(parser.parts).strip()


def _newest(ids: list[str]) -> str | None:
    numeric = [i for i in ids if str(i).isdigit()]
    return max(numeric, key=int) if numeric else None


def fetch_new(fetch: Any, cursor: str | None, max_pages: int, what: str) -> list[Any]:
    """Every item newer than ``cursor`` (``min_id``), following ``rel="prev"`` pages up to the newest; without a
    cursor (a first run), the newest items, following ``rel="next"`` back at most ``max_pages`` pages."""
    items: list[Any] = []
    seen: set[str] = set()
    page: Page = fetch(min_id=cursor) if cursor else fetch()
    for _ in range(max_pages):
        items += page.items
        following = page.prev_min_id if cursor else page.next_max_id
        if not page.items or not following:
            return items
        if following in seen:
            raise MastodonApiError(f"Mastodon {what} paging repeats {following!r}: nothing was written; the next run "
                                   "starts again from the stored cursor")
        seen.add(following)
        page = fetch(min_id=following) if cursor else fetch(max_id=following)
    if cursor:
        raise MastodonApiError(f"Mastodon {what}: more than {max_pages} pages of new items in one run; nothing was "
                               "written. Run more often, or raise SOCIALCX_MASTODON_MAX_PAGES")
    return items  # a first run reads back max_pages pages of history, no further


def prepare(read: Any, settings: Any, **options: Any) -> dict[str, Any]:
    """The stage's first half, with no warehouse lock held: ``read(fn)`` runs ``fn(con)`` on a short-lived
    connection (cursors, known posts); then everything is fetched."""
    client: MastodonClient = options.get("client") or default_client(str(options.get("base_url") or ""))
    return fetch(client, read(lambda con: state(con, int(options.get("recheck") or 0))),
                 max_pages=int(options.get("max_pages") or 20), max_threads=int(options.get("max_threads") or 50),
                 stored=lambda ids: read(lambda con: stored_posts(con, SOURCE, ids)))


def state(con: duckdb.DuckDBPyConnection, recheck: int) -> dict[str, Any]:
    """The cursors, and the most recent posts still live (re-read for deletions upstream)."""
    recent = recent_posts(con, SOURCE, recheck)
    return {"notifications": get_cursor(con, SOURCE, "notifications"), "statuses": get_cursor(con, SOURCE, "statuses"),
            "recent": recent}


def fetch(client: MastodonClient, known: dict[str, Any], *, max_pages: int = 20, max_threads: int = 50,
          stored: Any = None) -> dict[str, Any]:
    """Everything new since ``known``'s cursors. ``stored(ids)`` says which post ids raw already holds: a reply to
    one of them needs no thread fetch (its conversation has its root)."""
    account = client.verify_credentials()
    notes = fetch_new(client.notifications, known.get("notifications"), max_pages, "notifications")
    own = fetch_new(lambda **page: client.account_statuses(str(account["id"]), **page), known.get("statuses"),
                    max_pages, "statuses")
    statuses: dict[str, Any] = {}
    bad: list[tuple[str, str]] = []
    for note in notes:
        if isinstance(note, dict) and note.get("type") not in (None, "mention"):
            continue  # asked for mentions only; a server that sends more is not trusted with them
        status = note.get("status") if isinstance(note, dict) else None
        if not isinstance(status, dict) or not str(status.get("id", "")).isdigit():
            bad.append((json.dumps(note, ensure_ascii=False, default=str)[:5000], "mention without a status id"))
            continue
        statuses[str(status["id"])] = status
    for status in own:
        if not isinstance(status, dict) or not str(status.get("id", "")).isdigit():
            bad.append((json.dumps(status, ensure_ascii=False, default=str)[:5000], "status without a numeric id"))
            continue
        statuses[str(status["id"])] = status
    # a mention that replies into a thread we have not seen: its ancestors, so the conversation has its root
    threads = 0
    missing = {str(s["in_reply_to_id"]) for s in statuses.values() if s.get("in_reply_to_id")} - set(statuses)
    have = stored(sorted(missing)) if stored and missing else set()
    for status in list(statuses.values()):
        parent = status.get("in_reply_to_id")
        if parent and str(parent) not in statuses and str(parent) not in have and threads < max_threads:
            threads += 1
            for ancestor in (client.context(str(status["id"])).get("ancestors") or []):
                if isinstance(ancestor, dict) and str(ancestor.get("id", "")).isdigit():
                    statuses.setdefault(str(ancestor["id"]), ancestor)
    deleted = []
    for post_id in known.get("recent") or []:  # re-read: gone upstream, or its engagement grew
        if post_id in statuses or not str(post_id).isdigit():
            continue
        try:
            status = client.status(post_id)
        except NotFound:
            deleted.append(post_id)
            continue
        if str(status.get("id", "")) == post_id:
            statuses[post_id] = status
    note_ids = [str(n.get("id")) for n in notes if isinstance(n, dict)]
    own_ids = [str(s.get("id")) for s in own if isinstance(s, dict)]
    return {"account": {"id": str(account["id"]), "acct": str(account.get("acct") or account.get("username"))},
            "statuses": list(statuses.values()), "bad": bad, "deleted": deleted,
            "cursors": {"notifications": _newest([*note_ids, *[known.get("notifications") or ""]]),
                        "statuses": _newest([*own_ids, *[known.get("statuses") or ""]])}}


def to_posts(statuses: list[dict[str, Any]], account: dict[str, str]) -> pd.DataFrame:
    """Statuses as raw.posts rows. The brand's own posts carry its handle as author (the marts attribute them by
    it); everyone else's mention the brand (they reached it through its mentions or its threads)."""
    brand = account["acct"]
    rows = []
    for status in statuses:
        author = status.get("account") if isinstance(status.get("account"), dict) else {}
        is_brand = str(author.get("id")) == account["id"]
        handle = author.get("acct") or author.get("username")
        spoiler = html_to_text(status.get("spoiler_text")) if status.get("spoiler_text") else ""
        text = html_to_text(status.get("content"))
        rows.append({
            "post_id": str(status.get("id")),
            "parent_post_id": str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
            "conversation_id": None,  # threads come from in_reply_to_id (dbt walks them)
            "author_id": brand if is_brand else handle, "author_handle": brand if is_brand else handle,
            "brands_mentioned": None if is_brand else [brand], "is_inbound": not is_brand,
            "created_at": status.get("created_at"), "text": f"{spoiler}\n{text}".strip() if spoiler else text,
            "lang": status.get("language"), "like_count": status.get("favourites_count"),
            "reply_count": status.get("replies_count"), "repost_count": status.get("reblogs_count"),
            "quote_count": status.get("quotes_count"),
        })
    return pd.DataFrame(rows, columns=POST_FIELDS)


def to_authors(statuses: list[dict[str, Any]], account: dict[str, str]) -> pd.DataFrame:
    """The accounts behind the statuses, with their audience (``followers_count``); ids as in :func:`to_posts`."""
    rows = {}
    for status in statuses:
        author = status.get("account") if isinstance(status.get("account"), dict) else {}
        handle = author.get("acct") or author.get("username")
        author_id = account["acct"] if str(author.get("id")) == account["id"] else handle
        if author_id:
            rows[author_id] = {"author_id": author_id, "handle": handle, "display_name": author.get("display_name"),
                               "followers_count": author.get("followers_count"),
                               "following_count": author.get("following_count"), "is_verified": None}
    return pd.DataFrame(list(rows.values()), columns=AUTHOR_FIELDS)


def load(con: duckdb.DuckDBPyConnection, fetched: dict[str, Any], *, run_id: str) -> list[LoadResult]:
    """Write what :func:`fetch` brought, the deletions and the cursors, in one transaction."""
    return [load_api_posts(con, SOURCE, to_posts(fetched["statuses"], fetched["account"]), run_id=run_id,
                           label=f"mastodon:@{fetched['account']['acct']}", bad=fetched["bad"],
                           deleted=fetched["deleted"], cursors=fetched["cursors"],
                           authors=to_authors(fetched["statuses"], fetched["account"]))]


def run(con: duckdb.DuckDBPyConnection, settings: Any, run_id: str, **options: Any) -> list[LoadResult]:
    """The stage's second half: ``options['prepared']`` from :func:`prepare`, or fetch here (direct use)."""
    if "prepared" not in options:
        options["prepared"] = prepare(lambda query: query(con), settings, **options)
    return load(con, options["prepared"], run_id=run_id)
