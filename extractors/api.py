"""What every API client shares: one budget for the waits of a run (rate limits and retry back-off).

A client (a dataclass) mixes in :class:`WaitBudget` and has the fields ``backoff_seconds``, ``max_retries``,
``max_total_wait``, ``sleep`` and ``waited``; it names its network, its error and where the next run resumes.
Each client still reads its own network's rate-limit reset header (a Unix time for X and Bluesky, an ISO 8601
time for Mastodon) and decides how long to wait; the budget decides whether it may.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from extractors.load import SourceError

log = logging.getLogger(__name__)


class WaitBudget:
    NETWORK: ClassVar[str]
    ERROR: ClassVar[type[SourceError]]
    RESUMES_FROM: ClassVar[str] = "the cursor"

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, unless the run's waits would then pass ``max_total_wait``: stop with the error instead."""
        if self.waited + seconds > self.max_total_wait:
            raise self.ERROR(f"{self.NETWORK} waits would exceed {self.max_total_wait:.0f}s in this run "
                             f"({self.waited:.0f}s so far); stopping here, the next run resumes from "
                             f"{self.RESUMES_FROM}")
        self.waited += seconds
        self.sleep(seconds)

    def _backoff(self, attempt: int, why: str) -> None:
        """Exponential back-off before retry ``attempt`` (1, 2, 4 ... x backoff_seconds), within the budget."""
        wait = self.backoff_seconds * 2 ** (attempt - 1)
        log.warning("%s %s; retry %d/%d in %.1fs", self.NETWORK, why, attempt, self.max_retries, wait)
        self._wait(wait)
