#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/browser), once. Playwright drives this browser;
# it never downloads one of its own. Prints the browser's path.
set -euo pipefail
browser="${SOCIALCX_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$browser" ]]; then echo "$browser"; exit 0; fi
if ! command -v apt-get > /dev/null 2>&1; then
  echo "no $browser and no apt-get: install Chromium and set SOCIALCX_CHROMIUM to its path" >&2; exit 1
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq chromium > /dev/null 2>&1 \
  || ($sudo apt-get update -qq && $sudo apt-get install -y -qq chromium > /dev/null) \
  || { echo "could not install Debian's chromium with apt-get; the browser tests need it" >&2; exit 1; }
echo "$browser"
