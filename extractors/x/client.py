"""X API v2 recent search, behind an interface with a real HTTP client and a fixture-backed fake.

The real client honours 429 responses by sleeping until ``x-rate-limit-reset``, retries 5xx answers and
timeouts with exponential backoff, and fails with a clear message on authentication errors. The bearer
token is never logged.
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

TWEET_FIELDS = "conversation_id,in_reply_to_user_id,referenced_tweets,created_at,public_metrics,lang,author_id"
USER_FIELDS = "username,name,public_metrics,verified"


class XApiError(SourceError):
    """The API cannot be used: unreachable, refused the token, or kept failing."""


class XClient(Protocol):
    def search_recent(self, query: str, since_id: str | None = None,
                      next_token: str | None = None) -> dict[str, Any]: ...


@dataclass
class HttpXClient(WaitBudget):
    """The real client: ``GET {base_url}/2/tweets/search/recent``."""

    NETWORK = "X API"
    ERROR = XApiError
    RESUMES_FROM = "the stored since_id"

    bearer_token: str
    base_url: str = "https://api.x.com"
    max_results: int = 100
    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_rate_limit_wait: float = 900.0
    max_total_wait: float = 1800.0  # all waits of this client together (rate limits and back-off)
    max_pages: int = 500  # per stream and run (50,000 tweets); the next run resumes from the stored since_id
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)
    waited: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if not self.bearer_token:
            raise XApiError("no X API bearer token: set SOCIALCX_X_BEARER_TOKEN or the password of the Airflow "
                            "connection 'socialcx_x'")
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                  headers={"Authorization": f"Bearer {self.bearer_token}",
                                           "User-Agent": "socialcx"})

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"HttpXClient(base_url={self.base_url!r})"

    def search_recent(self, query: str, since_id: str | None = None, next_token: str | None = None) -> dict[str, Any]:
        try:
            return self._search_recent(query, since_id, next_token)
        except XApiError as exc:  # a server may echo the token (in a detail, a URL): it never leaves here
            raise XApiError(self._scrub(str(exc))) from None

    def _search_recent(self, query: str, since_id: str | None, next_token: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"query": query, "max_results": self.max_results, "tweet.fields": TWEET_FIELDS,
                                  "expansions": "author_id", "user.fields": USER_FIELDS}
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self._http.get("/2/tweets/search/recent", params=params)
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                if attempt > self.max_retries:
                    raise XApiError(f"X API at {self.base_url} unreachable after {attempt} attempts: "
                                    f"{exc.__class__.__name__}: {exc}") from exc
                self._backoff(attempt, f"{exc.__class__.__name__}")
                continue
            if response.status_code == 200:
                try:
                    body = response.json()
                    if not isinstance(body, dict):
                        raise ValueError("not a JSON object")
                    return body
                except ValueError as exc:
                    if attempt > self.max_retries:
                        raise XApiError(f"X API at {self.base_url} kept answering a malformed JSON body "
                                        f"({exc.__class__.__name__}) after {attempt} attempts; the next run "
                                        "resumes from the stored since_id") from None
                    self._backoff(attempt, "malformed JSON body")
                    continue
            if response.status_code == 429:
                wait = self._rate_limit_wait(response.headers.get("x-rate-limit-reset"), attempt)
                if wait > self.max_rate_limit_wait:
                    raise XApiError(f"X API rate limit resets in {wait:.0f}s, more than the {self.max_rate_limit_wait:.0f}s "
                                    "this run may wait; the next run resumes from the stored since_id")
                log.warning("X API rate limit reached; waiting %.1fs until x-rate-limit-reset", wait)
                self._wait(wait)
                continue
            if response.status_code in (401, 403):
                raise XApiError(f"X API refused the bearer token ({response.status_code} "
                                f"{_detail(response)}); check SOCIALCX_X_BEARER_TOKEN or the 'socialcx_x' connection")
            if response.status_code >= 500 and attempt <= self.max_retries:
                self._backoff(attempt, f"HTTP {response.status_code}")
                continue
            raise XApiError(f"X API answered {response.status_code} {_detail(response)} for query {query!r}")

    def _rate_limit_wait(self, reset: str | None, attempt: int) -> float:
        """Seconds until ``x-rate-limit-reset`` (a Unix time); back-off when the header is absent or not a number."""
        try:
            return max(0.0, float(reset) - time.time()) + 1.0 if reset else self.backoff_seconds * 2 ** attempt
        except ValueError:
            log.warning("X API sent a non-numeric x-rate-limit-reset header; backing off instead")
            return self.backoff_seconds * 2 ** attempt

    def _scrub(self, text: str) -> str:
        # like the log scrubber, values under 6 characters are not masked (they would mask ordinary words)
        return text.replace(self.bearer_token, "***") if len(self.bearer_token) >= 6 else text


def _detail(response: httpx.Response) -> str:
    """The error's title or detail, shortened; a server that echoes the request's token gets it masked by the
    caller (see HttpXClient.search_recent)."""
    try:
        body = response.json()
        return str(body.get("detail") or body.get("title") or "")[:300] if isinstance(body, dict) else ""
    except ValueError:
        return response.text[:200]
