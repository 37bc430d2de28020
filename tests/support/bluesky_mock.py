"""A local HTTP server on 127.0.0.1 that answers like Bluesky's XRPC API (the parts socialcx reads).

Written from the AT Protocol lexicons and docs.bsky.app:

- ``POST /xrpc/com.atproto.server.createSession`` ``{identifier, password}`` -> ``{accessJwt, refreshJwt, handle,
  did}`` (401 ``AuthenticationRequired`` on a wrong password); ``POST .../refreshSession`` with the refresh token;
- ``GET app.bsky.notification.listNotifications`` (``limit``, ``cursor``): ``{notifications: [{uri, cid, author,
  reason, reasonSubject, record, isRead, indexedAt}], cursor}``, newest first;
- ``GET app.bsky.feed.getAuthorFeed`` (``actor``, ``filter``, ``limit``, ``cursor``): ``{feed: [{post}], cursor}``;
- ``GET app.bsky.feed.searchPosts`` (``q``, ``mentions``, ``since``, ``sort``, ``limit``, ``cursor``): ``{posts, cursor}``;
- ``GET app.bsky.feed.getPosts`` (``uris``, at most 25): the posts that exist, deleted ones left out;
- ``GET app.bsky.actor.getProfiles`` (``actors``, at most 25): ``{profiles: [{did, handle, displayName,
  followersCount, followsCount, postsCount}]}``;
- ``GET app.bsky.feed.getPostThread`` (``uri``, ``depth``, ``parentHeight``): ``{thread: threadViewPost}`` with its
  ``parent`` chain (``notFoundPost`` for a deleted ancestor);
- every answer carries ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (Unix seconds) and
  ``RateLimit-Policy``; past the limit 429 ``RateLimitExceeded``; an access token past ``expire_after`` requests
  answers 400 ``ExpiredToken``; statuses queued in ``fail_next`` are answered next.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.json_api import JsonApiServer

POST = "app.bsky.feed.post"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class MockBluesky(JsonApiServer):
    handle: str = "acmehelp.bsky.social"
    password: str = "abcd-efgh-ijkl-mnop"
    rate_limit: int = 3000
    window_seconds: float = 300.0
    expire_after: int | None = None  # requests an access token is good for
    fail_next: list[int] = field(default_factory=list)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)  # did -> profile view
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri -> post view
    notifications: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._used = 0
        self._window_started = time.time()
        self._tokens: dict[str, int] = {}  # access token -> requests left (None: unlimited)
        self._refresh: set[str] = set()
        self._serial = 0
        self.me = self.add_actor(self.handle)

    # --- data ----------------------------------------------------------------------------------
    def add_actor(self, handle: str, followers: int = 10) -> str:
        did = f"did:plc:{len(self.actors) + 1:024d}"
        self.actors[did] = {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(),
                            "followersCount": followers, "labels": []}
        return did

    def add_post(self, author: str, text: str, created_at: datetime, *, reply_to: str | None = None,
                 mentions: list[str] = (), reason: str | None = None, likes: int = 0) -> str:
        """A post by ``author`` (a did). Replying to or mentioning the session's account notifies it."""
        self._serial += 1
        uri = f"at://{author}/{POST}/3l{self._serial:011d}"
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": stamp(created_at), "langs": ["en"]}
        facets = []
        for did in mentions:
            handle = self.actors[did]["handle"]
            start = text.encode().find(f"@{handle}".encode())
            if start >= 0:
                facets.append({"index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
                               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
        if facets:
            record["facets"] = facets
        if reply_to:
            root = self.posts[reply_to]["record"].get("reply", {}).get("root") or {
                "uri": reply_to, "cid": self.posts[reply_to]["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": reply_to, "cid": self.posts[reply_to]["cid"]}}
            self.posts[reply_to]["replyCount"] += 1
        indexed = stamp(created_at + timedelta(seconds=1))
        self.posts[uri] = {"uri": uri, "cid": f"bafyrei{self._serial:040d}", "author": self.actors[author],
                           "record": record, "replyCount": 0, "repostCount": 0, "likeCount": likes, "quoteCount": 0,
                           "indexedAt": indexed, "labels": []}
        if author != self.me:
            why = reason or ("reply" if reply_to and self.posts[reply_to]["author"]["did"] == self.me
                             else "mention" if self.me in mentions else None)
            if why:
                self.notifications.append({"uri": uri, "cid": self.posts[uri]["cid"], "author": self.actors[author],
                                           "reason": why, "record": record, "isRead": False, "indexedAt": indexed,
                                           "labels": []})
        return uri

    def load(self, payload: dict[str, Any]) -> None:
        """Serve post views shaped elsewhere (extractors/sample/payloads.py), signed in as ``payload["me"]``:
        a post by someone else that replies to the account's post or mentions it notifies it."""
        me = payload["me"]
        self.handle, self.me = me["handle"], me["did"]
        self.actors[me["did"]] = me
        for view in payload["posts"]:
            self.actors.setdefault(view["author"]["did"], view["author"])
            self.posts[view["uri"]] = view
            if view["author"]["did"] == me["did"]:
                continue
            parent = view["record"].get("reply", {}).get("parent", {}).get("uri")
            mentioned = any(f["features"][0].get("did") == me["did"] for f in view["record"].get("facets", []))
            reason = "reply" if parent and self.posts[parent]["author"]["did"] == me["did"] else (
                "mention" if mentioned else None)
            if reason:
                self.notifications.append({"uri": view["uri"], "cid": view["cid"], "author": view["author"],
                                           "reason": reason, "record": view["record"], "isRead": False,
                                           "indexedAt": view["indexedAt"], "labels": []})

    def delete(self, uri: str) -> None:
        self.deleted.add(uri)

    def _session(self) -> dict[str, Any]:
        self._serial += 1
        access, refresh = f"access-{self._serial:08d}-token", f"refresh-{self._serial:08d}-token"
        self._tokens[access] = self.expire_after if self.expire_after is not None else -1
        self._refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.me, "active": True}

    def _answer(self, verb: str, raw_path: str, authorization: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        url = urlparse(raw_path)
        query = parse_qs(url.query)
        method = url.path.removeprefix("/xrpc/")
        token = authorization.removeprefix("Bearer ")
        with self._lock:
            self.requests.append({"method": method, "query": query, "token": token})
            if time.time() - self._window_started >= self.window_seconds:
                self._window_started, self._used = time.time(), 0
            if self.fail_next:
                return self.fail_next.pop(0), {"error": "InternalServerError", "message": "Internal Server Error"}, {}
            self._used += 1
            reset = int(self._window_started + self.window_seconds)
            headers = {"RateLimit-Limit": str(self.rate_limit), "RateLimit-Remaining": str(max(0, self.rate_limit - self._used)),
                       "RateLimit-Reset": str(reset), "RateLimit-Policy": f"{self.rate_limit};w={int(self.window_seconds)}"}
            if self._used > self.rate_limit:
                return 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers
            if method == "com.atproto.server.createSession" and verb == "POST":
                if not isinstance(body, dict) or body.get("identifier") != self.handle or body.get("password") != self.password:
                    return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, headers
                return 200, self._session(), headers
            if method == "com.atproto.server.refreshSession" and verb == "POST":
                if token not in self._refresh:
                    return 400, {"error": "ExpiredToken", "message": "Token has expired"}, headers
                self._refresh.discard(token)
                return 200, self._session(), headers
            if token not in self._tokens:
                return 401, {"error": "AuthenticationRequired", "message": "Authentication Required"}, headers
            if self._tokens[token] == 0:
                return 400, {"error": "ExpiredToken", "message": "Token has expired"}, headers
            if self._tokens[token] > 0:
                self._tokens[token] -= 1
            return self._read(method, query, headers)

    def _read(self, method: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        live = {u: p for u, p in self.posts.items() if u not in self.deleted}
        if method == "app.bsky.notification.listNotifications":
            items = [n for n in self.notifications if n["uri"] not in self.deleted]
            page, cursor = self._page(items, query)
            return 200, {"notifications": page, **({"cursor": cursor} if cursor else {})}, headers
        if method == "app.bsky.feed.getAuthorFeed":
            actor = query["actor"][0]
            items = [{"post": p} for p in live.values() if actor in (p["author"]["did"], p["author"]["handle"])]
            page, cursor = self._page(items, query, key=lambda i: i["post"]["indexedAt"])
            return 200, {"feed": page, **({"cursor": cursor} if cursor else {})}, headers
        if method == "app.bsky.feed.searchPosts":
            mentions = (query.get("mentions") or [""])[0]
            did = next((d for d, a in self.actors.items() if mentions in (d, a["handle"])), None)
            since = (query.get("since") or [""])[0]
            items = [p for p in live.values()
                     if any(f["features"][0].get("did") == did for f in p["record"].get("facets", []))
                     and p["record"]["createdAt"] >= since]
            page, cursor = self._page(items, query)
            return 200, {"posts": page, **({"cursor": cursor} if cursor else {})}, headers
        if method == "app.bsky.feed.getPosts":
            uris = query.get("uris") or []
            if len(uris) > 25:
                return 400, {"error": "InvalidRequest", "message": "uris must not have more than 25 elements"}, headers
            return 200, {"posts": [live[u] for u in uris if u in live]}, headers
        if method == "app.bsky.actor.getProfiles":
            actors = query.get("actors") or []
            if len(actors) > 25:
                return 400, {"error": "InvalidRequest", "message": "actors must not have more than 25 elements"}, headers
            profiles = [{**a, "followsCount": 7, "postsCount": 42} for a in self.actors.values()
                        if a["did"] in actors or a["handle"] in actors]
            return 200, {"profiles": profiles}, headers
        if method == "app.bsky.feed.getPostThread":
            uri = query["uri"][0]
            if uri not in live:
                return 400, {"error": "NotFound", "message": f"Post not found: {uri}"}, headers
            return 200, {"thread": self._thread(uri, int((query.get("depth") or ["6"])[0]))}, headers
        return 400, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, headers

    def _thread(self, uri: str, depth: int, parents: bool = True) -> dict[str, Any]:
        if uri in self.deleted:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
        node: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.posts[uri]}
        parent = self.posts[uri]["record"].get("reply", {}).get("parent", {}).get("uri")
        if parent and parents:
            ancestor = self._thread(parent, 0)
            ancestor.pop("replies", None)
            node["parent"] = ancestor
        if depth > 0:
            node["replies"] = [self._thread(u, depth - 1, parents=False) for u, p in self.posts.items()
                               if p["record"].get("reply", {}).get("parent", {}).get("uri") == uri and u not in self.deleted]
        return node

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, list[str]],
              key: Any = lambda i: i["indexedAt"]) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; the cursor is the offset of the next page (opaque to the client, as the real one is)."""
        limit = min(int((query.get("limit") or ["50"])[0]), 100)
        items = sorted(items, key=key, reverse=True)
        start = int((query.get("cursor") or ["0"])[0])
        page = items[start:start + limit]
        return page, str(start + limit) if start + limit < len(items) else None


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)
