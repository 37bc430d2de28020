#!/usr/bin/env bash
# Stop every process `make up` started: each component's process group, TERM first, then KILL.
set -uo pipefail
pids="${AIRFLOW_HOME:-airflow_home}/pids"
[[ -d "$pids" ]] || { echo "nothing to stop"; exit 0; }
for pidfile in "$pids"/*.pid; do
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  name="$(basename "$pidfile" .pid)"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
