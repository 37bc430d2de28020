"""Bluesky (AT Protocol XRPC), behind a small interface with a real HTTP client.

The real client opens a session with ``com.atproto.server.createSession`` (a handle and an app password),
refreshes it with ``com.atproto.server.refreshSession`` when the server answers ``ExpiredToken`` (opening a new
one if the refresh token expired too), sleeps until ``RateLimit-Reset`` (a Unix time) on a 429, retries 5xx
answers and timeouts with exponential backoff within a cap on all waits of a run, and fails with a clear
message naming the setting when the credentials are refused. Passwords and tokens are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from extractors.api import WaitBudget
from extractors.load import SourceError

log = logging.getLogger(__name__)


class BlueskyApiError(SourceError):
    """The API cannot be used: unreachable, refused the credentials, or kept failing."""


class BlueskyClient(Protocol):
    handle: str
    did: str

    def list_notifications(self, cursor: str | None = None) -> dict[str, Any]: ...

    def author_feed(self, actor: str, cursor: str | None = None) -> dict[str, Any]: ...

    def search_posts(self, q: str, since: str | None = None, cursor: str | None = None,
                     mentions: str | None = None) -> dict[str, Any]: ...

    def get_posts(self, uris: list[str]) -> list[dict[str, Any]]: ...

    def post_thread(self, uri: str, depth: int = 0) -> dict[str, Any]: ...

    def get_profiles(self, actors: list[str]) -> list[dict[str, Any]]: ...


@dataclass
class HttpBlueskyClient(WaitBudget):
    """The real client, on one service (the account's PDS or the bsky.social entryway): ``{base_url}/xrpc/...``."""

    NETWORK = "Bluesky"
    ERROR = BlueskyApiError

    identifier: str
    app_password: str
    base_url: str = "https://bsky.social"
    limit: int = 100  # the documented maximum of listNotifications, getAuthorFeed and searchPosts
    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_rate_limit_wait: float = 600.0
    max_total_wait: float = 1800.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)
    waited: float = field(default=0.0, init=False)
    handle: str = field(default="", init=False)
    did: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if not self.identifier or not self.app_password:
            raise BlueskyApiError("no Bluesky credentials: set SOCIALCX_BLUESKY_HANDLE and SOCIALCX_BLUESKY_APP_PASSWORD "
                                  "(an app password from Settings > Privacy and security > App passwords), or the "
                                  "login and password of the Airflow connection 'socialcx_bluesky'")
        self._http = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout,
                                  headers={"User-Agent": "socialcx"})
        self._access = self._refresh = ""
        self._create_session()

    def __repr__(self) -> str:  # keep the password and tokens out of logs and tracebacks
        return f"HttpBlueskyClient(base_url={self.base_url!r}, handle={self.handle!r})"

    # --- session --------------------------------------------------------------------------------
    def _create_session(self) -> None:
        body = self._call("POST", "com.atproto.server.createSession",
                          json={"identifier": self.identifier, "password": self.app_password}, auth=None)
        self._session(body)

    def _refresh_session(self) -> None:
        try:
            body = self._call("POST", "com.atproto.server.refreshSession", auth=self._refresh, refreshing=True)
        except BlueskyApiError:
            log.warning("Bluesky refresh token refused; opening a new session")
            self._create_session()
            return
        self._session(body)

    def _session(self, body: dict[str, Any]) -> None:
        if not body.get("accessJwt"):
            raise BlueskyApiError("Bluesky createSession answered without an access token")
        self._access, self._refresh = body["accessJwt"], body.get("refreshJwt", "")
        self.handle, self.did = str(body.get("handle", "")), str(body.get("did", ""))

    # --- endpoints ------------------------------------------------------------------------------
    def list_notifications(self, cursor: str | None = None) -> dict[str, Any]:
        return self._get("app.bsky.notification.listNotifications", {"limit": self.limit, "cursor": cursor})

    def author_feed(self, actor: str, cursor: str | None = None) -> dict[str, Any]:
        return self._get("app.bsky.feed.getAuthorFeed", {"actor": actor, "limit": self.limit, "cursor": cursor,
                                                         "filter": "posts_with_replies"})

    def search_posts(self, q: str, since: str | None = None, cursor: str | None = None,
                     mentions: str | None = None) -> dict[str, Any]:
        return self._get("app.bsky.feed.searchPosts", {"q": q, "mentions": mentions, "since": since, "sort": "latest",
                                                       "limit": self.limit, "cursor": cursor})

    def get_posts(self, uris: list[str]) -> list[dict[str, Any]]:
        posts: list[dict[str, Any]] = []
        for start in range(0, len(uris), 25):  # at most 25 uris a call
            posts += self._get("app.bsky.feed.getPosts", {"uris": uris[start:start + 25]}).get("posts") or []
        return posts

    def post_thread(self, uri: str, depth: int = 0) -> dict[str, Any]:
        return self._get("app.bsky.feed.getPostThread", {"uri": uri, "depth": depth, "parentHeight": 80})

    def get_profiles(self, actors: list[str]) -> list[dict[str, Any]]:
        profiles: list[dict[str, Any]] = []
        for start in range(0, len(actors), 25):  # at most 25 actors a call
            profiles += self._get("app.bsky.actor.getProfiles", {"actors": actors[start:start + 25]}).get("profiles") or []
        return profiles

    # --- transport ------------------------------------------------------------------------------
    def _get(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call("GET", method, params={k: v for k, v in params.items() if v is not None})

    def _call(self, verb: str, method: str, *, params: dict[str, Any] | None = None, json: Any = None,
              auth: str | None | bool = True, refreshing: bool = False) -> dict[str, Any]:
        try:
            return self._request(verb, method, params, json, auth, refreshing)
        except BlueskyApiError as exc:
            raise type(exc)(self._scrub(str(exc))) from None

    def _request(self, verb: str, method: str, params: dict[str, Any] | None, body: Any, auth: str | None | bool,
                 refreshing: bool) -> dict[str, Any]:
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            self.requests += 1
            token = self._access if auth is True else auth
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = self._http.request(verb, f"/xrpc/{method}", params=params, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt > self.max_retries:
                    raise BlueskyApiError(f"Bluesky at {self.base_url} unreachable after {attempt} attempts: "
                                          f"{exc.__class__.__name__}") from None
                self._backoff(attempt, exc.__class__.__name__)
                continue
            status = response.status_code
            error, message = _error(response)
            if status == 200:
                try:
                    answer = response.json()
                    if not isinstance(answer, dict):
                        raise ValueError("not a JSON object")
                    return answer
                except ValueError:
                    if attempt > self.max_retries:
                        raise BlueskyApiError(f"Bluesky {method} kept answering malformed JSON") from None
                    self._backoff(attempt, "malformed JSON body")
                    continue
            if error == "ExpiredToken" and auth is True and not refreshed:
                refreshed = True
                self._refresh_session()
                continue
            if status == 429:
                wait = self._rate_limit_wait(response.headers.get("ratelimit-reset"), attempt)
                if wait > self.max_rate_limit_wait:
                    raise BlueskyApiError(f"Bluesky rate limit resets in {wait:.0f}s, more than the "
                                          f"{self.max_rate_limit_wait:.0f}s this run may wait; the next run resumes "
                                          "from the stored cursor")
                log.warning("Bluesky rate limit reached; waiting %.1fs until RateLimit-Reset", wait)
                self._wait(wait)
                continue
            if status in (400, 401) and (auth is None or error in ("AuthenticationRequired", "InvalidToken",
                                                                    "ExpiredToken", "AccountTakedown")):
                if refreshing:
                    raise BlueskyApiError(f"Bluesky refused the refresh token ({error})")
                raise BlueskyApiError(f"Bluesky refused the credentials ({status} {error}: {message}); check "
                                      "SOCIALCX_BLUESKY_HANDLE and SOCIALCX_BLUESKY_APP_PASSWORD (an app password, not "
                                      "the account password) or the 'socialcx_bluesky' connection")
            if status >= 500 and attempt <= self.max_retries:
                self._backoff(attempt, f"HTTP {status}")
                continue
            raise BlueskyApiError(f"Bluesky {method} answered {status} {error}: {message}")

    def _rate_limit_wait(self, reset: str | None, attempt: int) -> float:
        """Seconds until ``RateLimit-Reset`` (a Unix time); back-off when the header is absent or not a number."""
        try:
            return max(0.0, float(reset) - time.time()) + 1.0 if reset else self.backoff_seconds * 2 ** attempt
        except ValueError:
            log.warning("Bluesky sent a non-numeric RateLimit-Reset header; backing off instead")
            return self.backoff_seconds * 2 ** attempt

    def _scrub(self, text: str) -> str:
        for secret in (self.app_password, self._access, self._refresh):
            if secret and len(secret) >= 6:
                text = text.replace(secret, "***")
        return text


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or "")[:100], str(body.get("message") or "")[:300]
