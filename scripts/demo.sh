#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds, then runs the mesh on 127.0.0.1 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run-many -t build --outputStyle=static >/dev/null
exec node --import tsx scripts/demo.ts "$@"
