#!/usr/bin/env bash
# Install Debian packages with apt-get (as root, or through sudo), quietly; on failure say which tests need them.
# Usage: scripts/apt_install.sh "<what needs them>" package...
set -euo pipefail
what="$1"; shift
if ! command -v apt-get > /dev/null 2>&1; then
  echo "no apt-get to install $*: install them by hand; $what needs them" >&2; exit 1
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq "$@" > /dev/null 2>&1 \
  || ($sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" > /dev/null) \
  || { echo "could not install Debian's $* with apt-get; $what needs them" >&2; exit 1; }
