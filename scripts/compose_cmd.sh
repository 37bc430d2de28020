#!/usr/bin/env bash
# Print the compose command this machine has: the docker CLI plugin, or the standalone docker-compose.
# With a docker client but no compose at all, install Debian's docker-compose (validation needs no engine).
set -euo pipefail
command -v docker > /dev/null 2>&1 || exit 0  # no docker client: nothing to offer, the test skips
if docker compose version > /dev/null 2>&1; then echo "docker compose"; exit 0; fi
if ! command -v docker-compose > /dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) > /dev/null 2>&1 \
      || { echo "could not install docker-compose with apt-get" >&2; exit 1; }
  else
    echo "docker client found without compose; install the compose plugin or docker-compose" >&2; exit 1
  fi
fi
echo "docker-compose"
