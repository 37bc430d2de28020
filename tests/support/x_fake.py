"""A fake X client for tests: serves recorded pages as the real client's search_recent would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeXClient:
    """Serves the given pages in order (``next_token`` is the page index), honouring ``since_id``."""

    pages: list[dict[str, Any]]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def search_recent(self, query: str, since_id: str | None = None, next_token: str | None = None) -> dict[str, Any]:
        self.calls.append({"query": query, "since_id": since_id, "next_token": next_token})
        index = int(next_token) if next_token else 0
        page = dict(self.pages[index]) if index < len(self.pages) else {"meta": {"result_count": 0}}
        if since_id:
            page["data"] = [t for t in page.get("data", []) if int(t["id"]) > int(since_id)]
        return page
