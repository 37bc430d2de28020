"""Headless Chromium (Debian's package, installed by `make test` through scripts/ensure_chromium.sh), driven by
Playwright. Playwright never downloads a browser here: it launches the system one. The ``browser`` and ``page``
fixtures live in tests/conftest.py, so tests/security shares the one session browser."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import ROOT

CHROMIUM = Path(os.environ.get("SOCIALCX_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling Google's hosts, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
# Screenshots land where a developer looks for them after `make test` (git-ignored).
SCREENSHOTS = ROOT / "reports" / "screenshots"
