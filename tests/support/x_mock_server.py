"""A local HTTP server on 127.0.0.1 that answers like X API v2 recent search.

It keeps tweets in memory and serves ``GET /2/tweets/search/recent`` with ``query`` (``@handle`` / ``from:handle``
terms), ``since_id``, ``max_results`` and ``next_token`` paging, newest first, with ``includes.users`` for
``expansions=author_id``. Like the real API it answers 401 for a wrong bearer token, 429 with
``x-rate-limit-*`` headers once the window's requests are used, and any status queued in ``fail_next``.

    with MockXServer(token="t") as server:
        server.add_tweet(...)
        HttpXClient(bearer_token="t", base_url=server.url)
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class MockXServer:
    token: str = "test-token"
    rate_limit: int = 1000
    window_seconds: float = 900.0
    fail_next: list[int] = field(default_factory=list)  # statuses to answer next, in order
    delay_next: list[float] = field(default_factory=list)  # seconds to stall before answering (timeouts)
    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # misbehaviour, for the tests: raw answers sent next as given (status, headers, body bytes), and a server
    # whose paging loops (every page names the same next_token)
    raw_next: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    looping_next_token: str | None = None

    def __post_init__(self) -> None:
        self._window_started = time.time()
        self._used = 0
        self._lock = threading.Lock()

    # --- data ----------------------------------------------------------------------------------
    def add_user(self, user_id: str, username: str, name: str | None = None, followers: int = 50) -> None:
        self.users[user_id] = {"id": user_id, "username": username, "name": name or username, "verified": False,
                               "public_metrics": {"followers_count": followers, "following_count": 12,
                                                  "tweet_count": 300, "listed_count": 1}}

    def add_tweet(self, tweet_id: str, author_id: str, text: str, created_at: datetime, *,
                  reply_to: str | None = None, conversation_id: str | None = None, lang: str = "en",
                  likes: int = 0) -> None:
        tweet: dict[str, Any] = {
            "id": tweet_id, "author_id": author_id, "text": text, "lang": lang,
            "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": conversation_id or tweet_id,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": likes, "quote_count": 0},
            "edit_history_tweet_ids": [tweet_id],
        }
        if reply_to:
            parent = next(t for t in self.tweets if t["id"] == reply_to)
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["conversation_id"] = parent["conversation_id"]
        self.tweets.append(tweet)

    # --- serving -------------------------------------------------------------------------------
    def __enter__(self) -> MockXServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with server._lock:
                    raw = server.raw_next.pop(0) if server.raw_next else None
                if raw is not None:
                    server.requests.append({"path": urlparse(self.path).path, "raw": True})
                    status, headers, payload = raw
                else:
                    status, headers, body = server.answer(self.path, self.headers.get("Authorization", ""))
                    payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _rate_headers(self) -> dict[str, str]:
        reset = int(self._window_started + self.window_seconds)
        return {"x-rate-limit-limit": str(self.rate_limit),
                "x-rate-limit-remaining": str(max(0, self.rate_limit - self._used)),
                "x-rate-limit-reset": str(reset)}

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            delay = self.delay_next.pop(0) if self.delay_next else 0.0
        if delay:
            time.sleep(delay)  # a stalled answer, outside the lock so other requests are served meanwhile
        with self._lock:
            url = urlparse(path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.requests.append({"path": url.path, **params})
            if authorization != f"Bearer {self.token}":
                return 401, {}, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                 "detail": "Unauthorized"}
            if url.path != "/2/tweets/search/recent":
                return 404, {}, {"title": "Not Found Error", "status": 404, "detail": f"no route {url.path}"}
            if time.time() >= self._window_started + self.window_seconds:
                self._window_started, self._used = time.time(), 0
            if self._used >= self.rate_limit:
                return 429, self._rate_headers(), {"title": "Too Many Requests", "detail": "Too Many Requests",
                                                   "type": "about:blank", "status": 429}
            self._used += 1
            if self.fail_next:
                status = self.fail_next.pop(0)
                return status, self._rate_headers(), {"title": "Service Unavailable", "status": status,
                                                      "detail": "Service Unavailable"}
            return 200, self._rate_headers(), self._search(params)

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        query = params.get("query", "")
        mentions = {m.lower() for m in re.findall(r"(?<!from:)@(\w+)", query)}
        authors = {a.lower() for a in re.findall(r"from:(\w+)", query)}
        by_name = {u["username"].lower(): uid for uid, u in self.users.items()}
        author_ids = {by_name[a] for a in authors if a in by_name}

        def matches(tweet: dict[str, Any]) -> bool:
            text_mentions = {m.lower() for m in re.findall(r"@(\w+)", tweet["text"])}
            return bool(text_mentions & mentions) or tweet["author_id"] in author_ids

        since = int(params["since_id"]) if params.get("since_id") else -1
        found = sorted((t for t in self.tweets if matches(t) and int(t["id"]) > since),
                       key=lambda t: int(t["id"]), reverse=True)
        size = min(int(params.get("max_results", 10)), 100)
        start = int(params.get("next_token", "0") or 0)
        page = found[start:start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if start + size < len(found):
            meta["next_token"] = str(start + size)
        if self.looping_next_token is not None:
            meta["next_token"] = self.looping_next_token
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            if params.get("expansions") == "author_id":
                body["includes"] = {"users": [self.users[a] for a in sorted({t["author_id"] for t in page})
                                              if a in self.users]}
        return body
