#!/usr/bin/env bash
# `npm test`: the system packages the suites need, then the type-checks (the program, and
# the dashboard's browser code with services/dashboard/tsconfig.json) and every test, under
# Node 22 (the Lambda runtime's major; fetched from npm when this machine's Node is older). Arguments go to jest, e.g. `npm test -- tests/plan.test.ts`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/system-packages.sh
exec bash scripts/with-node22.sh sh -c 'node_modules/.bin/tsc --noEmit && node_modules/.bin/tsc --noEmit -p services/dashboard && node_modules/.bin/jest "$@"' jest "$@"
