"""The Mastodon REST API, behind a small interface with a real HTTP client.

The real client sends the access token as ``Authorization: Bearer``, follows the ``Link`` header's
``rel="next"`` / ``rel="prev"`` pages, sleeps until ``X-RateLimit-Reset`` (an ISO 8601 time) on a 429, retries
5xx answers and timeouts with exponential backoff (within a cap on all waits of a run), and fails with a clear
message naming the setting when the token is refused. The token is never logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import httpx

from extractors.api import WaitBudget
from extractors.load import SourceError

log = logging.getLogger(__name__)

LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([a-z]+)"')


class MastodonApiError(SourceError):
    """The API cannot be used: unreachable, refused the token, or kept failing."""


class NotFound(MastodonApiError):
    """404: the status (or account) does not exist any more."""


@dataclass
class Page:
    items: list[Any]
    next_max_id: str | None = None  # older items: the Link header's rel="next"
    prev_min_id: str | None = None  # newer items: the Link header's rel="prev"


class MastodonClient(Protocol):
    def verify_credentials(self) -> dict[str, Any]: ...

    def notifications(self, *, min_id: str | None = None, max_id: str | None = None) -> Page: ...

    def account_statuses(self, account_id: str, *, min_id: str | None = None,
                         max_id: str | None = None) -> Page: ...

    def status(self, status_id: str) -> dict[str, Any]: ...

    def context(self, status_id: str) -> dict[str, Any]: ...


def parse_link(header: str | None) -> tuple[str | None, str | None]:
    """(max_id of rel="next", min_id of rel="prev") from a Link header."""
    next_max_id = prev_min_id = None
    for url, rel in LINK.findall(header or ""):
        query = parse_qs(urlparse(url).query)
        if rel == "next":
            next_max_id = (query.get("max_id") or [None])[0]
        elif rel == "prev":
            prev_min_id = (query.get("min_id") or query.get("since_id") or [None])[0]
    return next_max_id, prev_min_id


@dataclass
class HttpMastodonClient(WaitBudget):
    """The real client, on one instance: ``{base_url}/api/v1/...``."""

    NETWORK = "Mastodon"
    ERROR = MastodonApiError

    access_token: str
    base_url: str
    limit: int = 40  # the documented maximum for notifications and statuses
    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_rate_limit_wait: float = 600.0
    max_total_wait: float = 1800.0  # all waits of this client together (rate limits and back-off)
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)
    waited: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if not self.base_url:
            raise MastodonApiError("no Mastodon instance: set SOCIALCX_MASTODON_BASE_URL (e.g. https://mastodon.social)"
                                   " or the host of the Airflow connection 'socialcx_mastodon'")
        if not self.access_token:
            raise MastodonApiError("no Mastodon access token: set SOCIALCX_MASTODON_ACCESS_TOKEN or the password of "
                                   "the Airflow connection 'socialcx_mastodon' (scopes read:accounts read:statuses "
                                   "read:notifications)")
        self._http = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout,
                                  headers={"Authorization": f"Bearer {self.access_token}", "User-Agent": "socialcx"})

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        return f"HttpMastodonClient(base_url={self.base_url!r})"

    # --- endpoints ------------------------------------------------------------------------------
    def verify_credentials(self) -> dict[str, Any]:
        account, _ = self._get("/api/v1/accounts/verify_credentials", {})
        if not isinstance(account, dict) or not account.get("id"):
            raise MastodonApiError("Mastodon verify_credentials answered without an account id")
        return account

    def notifications(self, *, min_id: str | None = None, max_id: str | None = None) -> Page:
        params: dict[str, Any] = {"types[]": "mention", "limit": self.limit}
        return self._page("/api/v1/notifications", params, min_id, max_id)

    def account_statuses(self, account_id: str, *, min_id: str | None = None, max_id: str | None = None) -> Page:
        params: dict[str, Any] = {"limit": self.limit, "exclude_reblogs": "true"}
        return self._page(f"/api/v1/accounts/{_path_id(account_id)}/statuses", params, min_id, max_id)

    def status(self, status_id: str) -> dict[str, Any]:
        body, _ = self._get(f"/api/v1/statuses/{_path_id(status_id)}", {})
        return body if isinstance(body, dict) else {}

    def context(self, status_id: str) -> dict[str, Any]:
        body, _ = self._get(f"/api/v1/statuses/{_path_id(status_id)}/context", {})
        return body if isinstance(body, dict) else {}

    # --- transport ------------------------------------------------------------------------------
    def _page(self, path: str, params: dict[str, Any], min_id: str | None, max_id: str | None) -> Page:
        if min_id:
            params["min_id"] = min_id
        if max_id:
            params["max_id"] = max_id
        body, headers = self._get(path, params)
        if not isinstance(body, list):
            raise MastodonApiError(f"Mastodon {path} answered {type(body).__name__}, not a list")
        next_max_id, prev_min_id = parse_link(headers.get("link"))
        return Page(body, next_max_id, prev_min_id)

    def _get(self, path: str, params: dict[str, Any]) -> tuple[Any, httpx.Headers]:
        try:
            return self._request(path, params)
        except MastodonApiError as exc:  # a server may echo the token: it never leaves here
            raise type(exc)(self._scrub(str(exc))) from None

    def _request(self, path: str, params: dict[str, Any]) -> tuple[Any, httpx.Headers]:
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt > self.max_retries:
                    raise MastodonApiError(f"Mastodon instance {self.base_url} unreachable after {attempt} attempts: "
                                           f"{exc.__class__.__name__}") from None
                self._backoff(attempt, exc.__class__.__name__)
                continue
            status = response.status_code
            if status == 200:
                try:
                    return response.json(), response.headers
                except ValueError:
                    if attempt > self.max_retries:
                        raise MastodonApiError(f"Mastodon {path} kept answering malformed JSON") from None
                    self._backoff(attempt, "malformed JSON body")
                    continue
            if status == 429:
                wait = self._rate_limit_wait(response.headers.get("x-ratelimit-reset"), attempt)
                if wait > self.max_rate_limit_wait:
                    raise MastodonApiError(f"Mastodon rate limit resets in {wait:.0f}s, more than the "
                                           f"{self.max_rate_limit_wait:.0f}s this run may wait; the next run resumes "
                                           "from the stored cursor")
                log.warning("Mastodon rate limit reached; waiting %.1fs until X-RateLimit-Reset", wait)
                self._wait(wait)
                continue
            if status in (401, 403):
                raise MastodonApiError(f"Mastodon refused the access token ({status} {_error(response)}); check "
                                       "SOCIALCX_MASTODON_ACCESS_TOKEN or the 'socialcx_mastodon' connection (scopes "
                                       "read:accounts read:statuses read:notifications)")
            if status == 404:
                raise NotFound(f"Mastodon {path}: not found")
            if status >= 500 and attempt <= self.max_retries:
                self._backoff(attempt, f"HTTP {status}")
                continue
            raise MastodonApiError(f"Mastodon answered {status} {_error(response)} for {path}")

    def _rate_limit_wait(self, reset: str | None, attempt: int) -> float:
        """Seconds until ``X-RateLimit-Reset`` (ISO 8601); back-off when the header is absent or unreadable."""
        try:
            moment = datetime.fromisoformat(str(reset).replace("Z", "+00:00"))
            return max(0.0, moment.timestamp() - time.time()) + 1.0
        except ValueError:
            if reset:
                log.warning("Mastodon sent an unreadable X-RateLimit-Reset header; backing off instead")
            return self.backoff_seconds * 2 ** attempt

    def _scrub(self, text: str) -> str:
        return text.replace(self.access_token, "***") if len(self.access_token) >= 6 else text


def _path_id(value: str) -> str:
    """Ids go into URL paths: Mastodon's are digits (snowflakes); anything else is refused, never pasted."""
    if not str(value).isdigit():
        raise MastodonApiError(f"Mastodon id {str(value)[:40]!r} is not numeric")
    return str(value)


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error") or "")[:300] if isinstance(body, dict) else ""
    except ValueError:
        return response.text[:200]
