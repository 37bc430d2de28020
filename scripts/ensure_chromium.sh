#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/browser), once. Playwright drives this browser;
# it never downloads one of its own. Prints the browser's path.
set -euo pipefail
browser="${SOCIALCX_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$browser" ]]; then echo "$browser"; exit 0; fi
bash "$(dirname "$0")/apt_install.sh" "the browser tests (or set SOCIALCX_CHROMIUM to a Chromium)" chromium
echo "$browser"
