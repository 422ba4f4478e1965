#!/usr/bin/env bash
# `npm run bench:sidecar`: builds, measures the sidecar side by side with HAProxy, NGINX and a
# direct connection (../shared/bench/peers.sh, 3 rounds), and appends the whole table, every
# round included, to docs/benchmarks.md with the command and the machine.
# Extra arguments go to peers.sh (e.g. --rounds 1 --peers direct,haproxy,candidate).
set -euo pipefail
cd "$(dirname "$0")/.."
# PEERS_SH: another copy of the harness (e.g. one with a local fix); the default is the shared one.
harness=${PEERS_SH:-../shared/bench/peers.sh}
if [ ! -x "$harness" ] && [ ! -f "$harness" ]; then
  echo "bench:sidecar needs the shared bench harness at $harness" >&2
  exit 1
fi
bash scripts/ensure-deps.sh
NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run sidecar:build --outputStyle=static >/dev/null
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="tmp/bench-sidecar-$stamp"
args=(--candidate "bash $PWD/scripts/bench-candidate.sh" --rounds 3 --out "$out" "$@")
bash "$harness" "${args[@]}"
{
  echo
  echo "## Sidecar vs peers, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`npm run bench:sidecar${*:+ -- $*}\` (runs \`$harness ${args[*]}\`)."
  echo "Machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Node.js $(node --version), commit $(git rev-parse --short HEAD)."
  echo
  cat "$out/table.md"
  echo
  # The harness keeps each proxy's RSS at the end of every load in its JSON records, not in the
  # table; issue #3 sets a target for the RSS under the 1,000 req/s load.
  node -e '
    const { readdirSync, readFileSync } = require("node:fs");
    const dir = process.argv[1];
    const rows = new Map();
    for (const f of readdirSync(dir).filter((n) => /\.r\d+\.json$/.test(n)).sort()) {
      const r = JSON.parse(readFileSync(`${dir}/${f}`, "utf8"));
      if (r.proxy_rss_kib == null) continue;
      const key = `${r.peer} | ${r.load}`;
      rows.set(key, [...(rows.get(key) ?? []), (r.proxy_rss_kib / 1024).toFixed(0)]);
    }
    console.log("Proxy RSS at the end of each load (MiB, every round; loads run in the order h1-max, h1-1k, h1-4k, h2c-max on one proxy process per round):\n");
    console.log("| peer | load | RSS MiB each round |\n|---|---|---|");
    for (const [key, values] of rows) console.log(`| ${key} | ${values.join(" · ")} |`);
  ' "$out"
} >> docs/benchmarks.md
echo "appended the table to docs/benchmarks.md (raw records in $out)"
