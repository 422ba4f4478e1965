#!/usr/bin/env bash
# `npm test`: installs what is missing, then type-checks, lints and runs every project's tests
# (unit, integration and e2e) through Nx. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-${CI:+true}}
npx nx run-many -t typecheck lint test --outputStyle=stream "$@"
