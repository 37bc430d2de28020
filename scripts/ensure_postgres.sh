#!/usr/bin/env bash
# Install Debian's PostgreSQL server (initdb, pg_ctl) for the PostgreSQL target's tests, once. The tests start
# their own throw-away cluster on a free loopback port (tests/support/postgres_server.py); nothing here starts
# or configures the machine's own server. Prints the folder holding the server's programs.
set -euo pipefail
if [[ -n "${SOCIALCX_PG_BIN:-}" ]]; then echo "$SOCIALCX_PG_BIN"; exit 0; fi
newest() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true; }
found=$(newest)
if [[ -z "$found" || ! -x "$found/initdb" ]]; then
  bash "$(dirname "$0")/apt_install.sh" "the PostgreSQL target's tests (or set SOCIALCX_PG_BIN to a bin folder)" postgresql
  found=$(newest)
fi
echo "$found"
