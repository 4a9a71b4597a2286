#!/usr/bin/env bash
# The system packages the tests start as real servers and that npm cannot provide:
# redis-server (Debian), for the cache-aside, local-run and service suites, and chromium
# (Debian), the browser the dashboard test drives through playwright-core, and python3 (Debian),
# which runs the Glue scripts' unittest suite and their local job runner. Installs what is missing
# with apt-get when it can (root, or passwordless sudo); otherwise stops with one line
# naming the command to run, before any test starts.
set -euo pipefail

required=(redis-server chromium python3)
missing=()
for command in "${required[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing ${missing[*]} with apt-get (the tests start them)" >&2
    sh -c "$install" >/dev/null
    exit 0
  fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "Installing ${missing[*]} with sudo apt-get (the tests start them)" >&2
    sudo -n sh -c "$install" >/dev/null
    exit 0
  fi
  echo "The tests need ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
else
  echo "The tests need ${missing[*]} on PATH (Debian/Ubuntu: apt-get install -y ${missing[*]}; macOS: brew install redis)" >&2
fi
exit 1
