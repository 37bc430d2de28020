"""A local HTTP server on 127.0.0.1 that answers like a Mastodon instance's REST API (the parts socialcx reads).

Written from the public documentation (docs.joinmastodon.org: methods/accounts, notifications, statuses,
api/rate-limits, api/guidelines#pagination):

- ``GET /api/v1/accounts/verify_credentials``: the token's account;
- ``GET /api/v1/notifications`` with ``types[]``, ``limit`` (default 40, at most 80), ``max_id``, ``since_id``,
  ``min_id``: newest first; ``min_id`` gives the page immediately newer than it; a ``Link`` header with
  ``rel="next"`` (``max_id`` = the page's oldest id) and ``rel="prev"`` (``min_id`` = its newest id);
- ``GET /api/v1/accounts/:id/statuses`` with the same paging and ``exclude_reblogs``;
- ``GET /api/v1/statuses/:id`` (404 ``{"error": "Record not found"}`` once deleted) and ``.../context``
  (``ancestors`` oldest first, ``descendants``);
- every answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO 8601);
  past the limit, 429 ``{"error": "Too many requests"}``; a wrong token, 401
  ``{"error": "The access token is invalid"}``; statuses queued in ``fail_next`` are answered next.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.support.json_api import JsonApiServer


@dataclass
class MockMastodon(JsonApiServer):
    token: str = "test-token"
    rate_limit: int = 300
    window_seconds: float = 300.0
    fail_next: list[int] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    me: str | None = None  # the account the token belongs to

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._used = 0
        self._window_started = time.time()
        self._next_status = 110_000_000_000_000_000
        self._next_notification = 9_000

    # --- data ----------------------------------------------------------------------------------
    def add_account(self, username: str, *, domain: str | None = None, followers: int = 10, me: bool = False) -> str:
        account_id = str(100_000 + len(self.accounts))
        acct = f"{username}@{domain}" if domain else username
        self.accounts[account_id] = {
            "id": account_id, "username": username, "acct": acct, "display_name": username.title(),
            "locked": False, "bot": False, "created_at": "2022-01-01T00:00:00.000Z", "note": "",
            "url": f"https://{domain or 'mock.social'}/@{username}", "followers_count": followers,
            "following_count": 3, "statuses_count": 0, "emojis": [], "fields": []}
        if me:
            self.me = account_id
        return account_id

    def add_status(self, author: str, text: str, created_at: datetime, *, reply_to: str | None = None,
                   mentions: list[str] = (), language: str = "en", favourites: int = 0) -> str:
        """A status by account ``author`` mentioning the accounts ``mentions`` (rendered as Mastodon renders
        them: an h-card link whose visible text is ``@username``). Mentioning the token's account notifies it."""
        self._next_status += 1_000
        status_id = str(self._next_status)
        account = self.accounts[author]
        cards = "".join(
            f'<span class="h-card" translate="no"><a href="{html.escape(self.accounts[m]["url"])}" '
            f'class="u-url mention">@<span>{html.escape(self.accounts[m]["username"])}</span></a></span> '
            for m in mentions)
        self.statuses[status_id] = {
            "id": status_id, "created_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "in_reply_to_id": reply_to, "in_reply_to_account_id": self.statuses[reply_to]["account"]["id"] if reply_to else None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": language,
            "uri": f"https://mock.social/users/{account['username']}/statuses/{status_id}",
            "url": f"https://mock.social/@{account['username']}/{status_id}",
            "replies_count": 0, "reblogs_count": 0, "favourites_count": favourites, "edited_at": None,
            "content": f"<p>{cards}{html.escape(text)}</p>", "reblog": None, "account": account,
            "media_attachments": [], "mentions": [{"id": m, "username": self.accounts[m]["username"],
                                                   "url": self.accounts[m]["url"], "acct": self.accounts[m]["acct"]}
                                                  for m in mentions],
            "tags": [], "emojis": [], "card": None, "poll": None}
        if reply_to:
            self.statuses[reply_to]["replies_count"] += 1
        if self.me in mentions and author != self.me:
            self._next_notification += 1
            self.notifications.append({"id": str(self._next_notification), "type": "mention",
                                       "created_at": self.statuses[status_id]["created_at"], "account": account,
                                       "status": self.statuses[status_id]})
        return status_id

    def load(self, payload: dict[str, Any]) -> None:
        """Serve entities shaped elsewhere (extractors/sample/payloads.py): the token's account and statuses;
        every status mentioning the account by someone else notifies it."""
        me = payload["me"]
        self.accounts[me["id"]], self.me = me, me["id"]
        for status in sorted(payload["statuses"], key=lambda s: int(s["id"])):
            self.accounts.setdefault(status["account"]["id"], status["account"])
            self.statuses[status["id"]] = status
            if status["account"]["id"] != me["id"] and any(m["id"] == me["id"] for m in status["mentions"]):
                self._next_notification += 1
                self.notifications.append({"id": str(self._next_notification), "type": "mention",
                                           "created_at": status["created_at"], "account": status["account"],
                                           "status": status})

    def delete(self, status_id: str) -> None:
        self.deleted.add(status_id)

    def _rate_headers(self) -> dict[str, str]:
        reset = datetime.fromtimestamp(self._window_started + self.window_seconds, UTC)
        return {"X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(0, self.rate_limit - self._used)),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def _answer(self, verb: str, raw_path: str, authorization: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if verb != "GET":  # every method socialcx reads is a GET
            return 404, {"error": "Record not found"}, {}
        url = urlparse(raw_path)
        query = parse_qs(url.query)
        with self._lock:
            self.requests.append({"path": url.path, "query": query})
            if time.time() - self._window_started >= self.window_seconds:
                self._window_started, self._used = time.time(), 0
            if self.fail_next:
                return self.fail_next.pop(0), {"error": "Something went wrong"}, {}
            if authorization != f"Bearer {self.token}":
                return 401, {"error": "The access token is invalid"}, {}
            self._used += 1
            headers = self._rate_headers()
            if self._used > self.rate_limit:
                return 429, {"error": "Too many requests"}, headers
            parts = url.path.strip("/").split("/")
            if url.path == "/api/v1/accounts/verify_credentials":
                return 200, {**self.accounts[self.me], "source": {"privacy": "public"}}, headers
            if url.path == "/api/v1/notifications":
                types = query.get("types[]") or []
                items = [n for n in self.notifications if not types or n["type"] in types]
                items = [n for n in items if n["status"]["id"] not in self.deleted]  # as Mastodon drops them
                return self._paged(items, query, url.path, headers)
            if parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses":
                items = [s for s in self.statuses.values() if s["account"]["id"] == parts[3] and s["id"] not in self.deleted]
                return self._paged(items, query, url.path, headers)
            if parts[:3] == ["api", "v1", "statuses"] and len(parts) in (4, 5):
                status_id = parts[3]
                if status_id not in self.statuses or status_id in self.deleted:
                    return 404, {"error": "Record not found"}, headers
                if len(parts) == 4:
                    return 200, self.statuses[status_id], headers
                if parts[4] == "context":
                    return 200, self._context(status_id), headers
            return 404, {"error": "Record not found"}, headers

    def _context(self, status_id: str) -> dict[str, Any]:
        ancestors = []
        parent = self.statuses[status_id]["in_reply_to_id"]
        while parent and parent in self.statuses:
            if parent not in self.deleted:
                ancestors.insert(0, self.statuses[parent])
            parent = self.statuses[parent]["in_reply_to_id"]
        descendants, frontier = [], [status_id]
        while frontier:
            children = sorted((s for s in self.statuses.values() if s["in_reply_to_id"] in frontier
                               and s["id"] not in self.deleted), key=lambda s: int(s["id"]))
            descendants += children
            frontier = [c["id"] for c in children]
        return {"ancestors": ancestors, "descendants": descendants}

    def _paged(self, items: list[dict[str, Any]], query: dict[str, list[str]], path: str,
               headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        limit = min(int((query.get("limit") or ["40"])[0]), 80)
        items = sorted(items, key=lambda i: int(i["id"]), reverse=True)
        if query.get("max_id"):
            items = [i for i in items if int(i["id"]) < int(query["max_id"][0])]
        if query.get("since_id"):
            items = [i for i in items if int(i["id"]) > int(query["since_id"][0])]
        if query.get("min_id"):  # the page immediately newer than min_id, still newest first
            newer = [i for i in items if int(i["id"]) > int(query["min_id"][0])]
            page = sorted(newer, key=lambda i: int(i["id"]))[:limit]
            page.reverse()
        else:
            page = items[:limit]
        if page:
            links = [f'<{self.url}{path}?{urlencode({"max_id": page[-1]["id"]})}>; rel="next"',
                     f'<{self.url}{path}?{urlencode({"min_id": page[0]["id"]})}>; rel="prev"']
            headers = {**headers, "Link": ", ".join(links)}
        return 200, page, headers


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)
