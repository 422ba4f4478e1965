#!/usr/bin/env bash
# `npm run bench:telemetry`: what telemetry costs the sidecar (issue #5). Builds the sidecar, then
# measures it as the candidate of ../shared/bench/peers.sh (h1-max → the HTTP/1.1 upstream,
# h2c-max → the h2c upstream) in three variants, interleaved within each round:
#   off     request metrics off, access log off, tracing at 0 %, no exporter;
#   on-1    request metrics, access log on (JSON lines on stdout), tracing at 1 % exported over
#           OTLP/HTTP;
#   on-100  the same with tracing at 100 %.
# Spans go to a real local OTLP/HTTP sink (scripts/otlp-sink.mjs, on the load CPU), started
# afresh for every run, which counts what it receives. The tables (req/s of every round, medians,
# ratio to off, p99, proxy CPU, spans received) are appended to docs/benchmarks.md with the
# command and the machine.
# Usage: bench-telemetry.sh [--rounds N] [--duration S] [--warmup S] [--no-record] [--no-build]
#   --no-record  write the tables to the run's directory only (trial runs), not docs/benchmarks.md
#   --no-build   measure dist/apps/sidecar as it is (when the tree does not build); the recorded
#                command says so
set -euo pipefail
cd "$(dirname "$0")/.."
# PEERS_SH: another copy of the harness (e.g. one with a local fix); the default is the shared one.
harness=${PEERS_SH:-../shared/bench/peers.sh}
variants=(off on-1 on-100)
loads=h1-max,h2c-max
# peers.sh's default placement, passed explicitly because the sink must share the load CPU.
proxy_cpu=1 load_cpu=0
# An access-log line (JSON without a format), as opposed to the sidecar's own pino lines.
access_line='^\{"time":"[^"]*","request_id":"'

usage() {
  echo "usage: npm run bench:telemetry -- [--rounds N (3)] [--duration S (10)] [--warmup S (2)] [--no-record] [--no-build]" >&2
}
cli_args="$*"
rounds=3 duration=10 warmup='' record=1 build=1
while [ $# -gt 0 ]; do
  case $1 in
    --rounds | --duration | --warmup)
      [ $# -ge 2 ] || { echo "bench:telemetry: $1 needs a value" >&2; exit 2; }
      [[ $2 =~ ^[0-9]+$ ]] || { echo "bench:telemetry: $1 takes a whole number, got '$2'" >&2; exit 2; }
      case $1 in
        --rounds) rounds=$2 ;;
        --duration) duration=$2 ;;
        --warmup) warmup=$2 ;;
      esac
      shift 2
      ;;
    --no-record) record=0 && shift ;;
    --no-build) build=0 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) echo "bench:telemetry: unknown argument '$1'" >&2 && usage && exit 2 ;;
  esac
done
((rounds >= 1 && rounds <= 10)) || { echo "bench:telemetry: --rounds must be 1..10" >&2; exit 2; }
if [ ! -f "$harness" ]; then
  echo "bench:telemetry needs the shared bench harness at $harness" >&2
  exit 1
fi

if ((build)); then
  bash scripts/ensure-deps.sh --npm
  NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run sidecar:build --outputStyle=static >/dev/null
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
base="tmp/bench-telemetry-$stamp"
mkdir -p "$base"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

sink_pid=''
stop_sink() {
  [ -n "$sink_pid" ] || return 0
  kill -TERM "$sink_pid" 2>/dev/null || true
  wait "$sink_pid" 2>/dev/null || true
  sink_pid=''
}
trap stop_sink EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Keeps the sidecar's own lines and the count of access-log lines; the lines themselves (about
# 500 bytes per request, so hundreds of MB per run) are dropped.
trim_log() { # file -> prints how many access-log lines it held
  local file=$1 n
  [ -f "$file" ] || { echo 0 && return 0; }
  n=$(grep -c -E "$access_line" "$file" || true)
  { grep -v -E "$access_line" "$file" || true
    echo "bench-telemetry: $n access-log lines removed from this copy"; } >"$file.trimmed"
  mv "$file.trimmed" "$file"
  echo "$n"
}

peers_args=(--peers candidate --loads "$loads" --rounds 1 --duration "$duration"
  --proxy-cpu "$proxy_cpu" --load-cpu "$load_cpu" ${warmup:+--warmup "$warmup"})
# One variant's run in DIR: a fresh sink, peers.sh with the sidecar as candidate, the counts.
measure_variant() { # round variant dir
  local round=$1 variant=$2 dir=$3 status=0
  mkdir -p "$dir"
  taskset -c "$load_cpu" node scripts/otlp-sink.mjs --port-file "$dir/sink.port" \
    --stats "$dir/sink.json" >"$dir/sink.log" 2>&1 &
  sink_pid=$!
  for _ in $(seq 100); do [ -s "$dir/sink.port" ] && break; sleep 0.05; done
  [ -s "$dir/sink.port" ] || { cat "$dir/sink.log" >&2; echo "bench:telemetry: the OTLP sink did not start" >&2; exit 1; }
  local -a env=(BENCH_TELEMETRY="$variant" BENCH_CANDIDATE_DIR="$PWD/$dir/candidate")
  [ "$variant" = off ] || env+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$dir/sink.port")")
  echo "[bench:telemetry] round $round/$rounds · $variant" >&2
  bash "$harness" "${peers_args[@]}" --out "$dir/peers" \
    --candidate "${env[*]} bash $PWD/scripts/bench-candidate.sh" >/dev/null \
    2> >(tee "$dir/peers.err" >&2) || status=$?
  stop_sink
  trim_log "$dir/peers/run/candidate.log" >"$dir/access-log-lines"
  trim_log "$dir/candidate/candidate.log" >/dev/null
  return "$status"
}

# A run that fails (e.g. its random port taken by another process between the harness's check
# and the sidecar's listen) is kept aside as DIR.failed and run once more.
failed_runs=0
for ((round = 1; round <= rounds; round++)); do
  for variant in "${variants[@]}"; do
    dir="$base/r$round-$variant"
    measure_variant "$round" "$variant" "$dir" && continue
    failed_runs=$((failed_runs + 1))
    mv "$dir" "$dir.failed"
    echo "[bench:telemetry] round $round · $variant failed (kept in $dir.failed); once more" >&2
    measure_variant "$round" "$variant" "$dir"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# One table per load from the harness's JSON records, then the spans the sink counted.
node --input-type=module - "$base" "$rounds" "${variants[@]}" >"$base/table.md" <<'JS'
import { existsSync, readFileSync } from 'node:fs';
const [base, roundsArg, ...variants] = process.argv.slice(2);
const rounds = Number(roundsArg);
const loads = {
  'h1-max': 'wrk -t1 -c64, HTTP/1.1 → the HTTP/1.1 upstream',
  'h2c-max': 'h2load -t1 -c8 -m16, h2c → the h2c upstream',
};
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));
const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fixed = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const roundList = Array.from({ length: rounds }, (_, i) => i + 1);
const notes = [];
const out = [];
const medians = {};
for (const [load, what] of Object.entries(loads)) {
  medians[load] = {};
  out.push(`### ${load} (${what})`, '');
  out.push(
    `| variant | ${roundList.map((r) => `req/s r${r}`).join(' | ')} | req/s median | × off | p99 ms median | proxy CPU % median |`,
    `| --- | ${roundList.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`,
  );
  const rows = [];
  for (const variant of variants) {
    const records = roundList.map((round) => {
      const path = `${base}/r${round}-${variant}/peers/candidate.${load}.r1.json`;
      if (!existsSync(path)) {
        notes.push(`${load} ${variant} round ${round}: no record (${path})`);
        return undefined;
      }
      const record = read(path);
      const where = `${load} ${variant} round ${round}`;
      if (record.status !== 'ok') notes.push(`${where}: run ${record.status} (exit ${record.exit_code})`);
      if (record.errors || record.non_2xx)
        notes.push(`${where}: ${record.errors} errors, ${record.non_2xx} non-2xx`);
      if (!record.proxy_alive_after) notes.push(`${where}: the sidecar was gone after the load`);
      if (record.check.h1 !== 'ok' || record.check.h2c !== 'ok')
        notes.push(`${where}: check failed (h1: ${record.check.h1}; h2c: ${record.check.h2c})`);
      // The harness's one-request check per protocol: HTTP/1.1 must reach the HTTP/1.1 upstream,
      // h2c the h2c one (bench-candidate.sh routes them so).
      if (record.upstream_seen.h1 !== 'h1' || record.upstream_seen.h2c !== 'h2c')
        notes.push(`${where}: upstream seen h1 '${record.upstream_seen.h1}', h2c '${record.upstream_seen.h2c}'`);
      if (record.limited_by !== 'proxy core')
        notes.push(`${where}: limited by ${record.limited_by} (proxy core ${record.cpu.proxy_core_busy_pct} % busy): req/s is a floor`);
      return record;
    });
    const rps = records.map((record) => record?.rps ?? NaN);
    const rpsMedian = median(rps);
    medians[load][variant] = rpsMedian;
    rows.push([
      variant,
      ...rps.map(int),
      int(rpsMedian),
      rpsMedian,
      fixed(median(records.map((record) => record?.p99_ms ?? NaN)), 2),
      fixed(median(records.map((record) => record?.cpu.proxy_process_pct ?? NaN)), 1),
    ]);
  }
  const off = medians[load].off;
  for (const row of rows) {
    row[rounds + 2] = fixed(row[rounds + 2] / off, 2);
    out.push(`| ${row.join(' | ')} |`);
  }
  out.push('');
}

out.push(
  '### Spans received by the OTLP sink (all rounds, both loads)',
  '',
  'Requests measured: the load generators\' completed requests. Requests proxied: access-log lines, warm-ups and checks included. A sampled request has two spans: the gateway\'s server span and the client span of its attempt.',
  '',
  '| variant | requests measured | requests proxied | spans received | spans per proxied request | OTLP posts | KiB received | posts not decoded |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
for (const variant of variants) {
  let measured = 0, proxied = 0, spans = 0, posts = 0, bytes = 0, undecoded = 0;
  for (const round of roundList) {
    const dir = `${base}/r${round}-${variant}`;
    for (const load of Object.keys(loads)) {
      const path = `${dir}/peers/candidate.${load}.r1.json`;
      if (existsSync(path)) measured += read(path).requests ?? 0;
    }
    proxied += Number(readFileSync(`${dir}/access-log-lines`, 'utf8'));
    if (!existsSync(`${dir}/sink.json`)) {
      notes.push(`${variant} round ${round}: the sink wrote no counts`);
      continue;
    }
    const sink = read(`${dir}/sink.json`);
    spans += sink.spans;
    posts += sink.posts;
    bytes += sink.bytes;
    undecoded += sink.undecoded;
  }
  const logged = variant !== 'off';
  out.push(
    `| ${variant} | ${int(measured)} | ${logged ? int(proxied) : '— (access log off)'} | ${int(spans)} | ${logged ? fixed(spans / proxied, 3) : '—'} | ${int(posts)} | ${int(bytes / 1024)} | ${undecoded} |`,
  );
}
out.push('');

const verdicts = Object.keys(loads).map((load) => {
  const ratio = medians[load]['on-1'] / medians[load].off;
  return { load, ratio, met: ratio >= 0.85 };
});
const met = verdicts.every((v) => v.met);
out.push(
  `**Target on-1 ≥ 0.85 × off (issue #5): ${met ? 'met' : 'MISSED'}** — ${verdicts
    .map((v) => `${v.load} ${fixed(v.ratio, 2)}${v.met ? '' : ' (below 0.85)'}`)
    .join(', ')}${rounds < 3 ? `; only ${rounds} round${rounds > 1 ? 's' : ''}, not to be quoted` : ''}.`,
);
if (notes.length) out.push('', 'Notes:', '', ...notes.map((note) => `- ${note}`));
process.stdout.write(`${out.join('\n')}\n`);
JS

busy=0
for variant in "${variants[@]}"; do
  for ((round = 1; round <= rounds; round++)); do
    ! grep -q 'not idle before starting' "$base/r$round-$variant/peers.err" || busy=$((busy + 1))
  done
done
{
  echo
  echo "## Telemetry cost, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`npm run bench:telemetry${cli_args:+ -- $cli_args}\`: per round, for off, on-1 and on-100 in turn, \`$harness ${peers_args[*]} --out DIR --candidate 'BENCH_TELEMETRY=<variant> OTEL_EXPORTER_OTLP_ENDPOINT=<sink> bash scripts/bench-candidate.sh'\` (raw records in \`$base\`)."
  echo "Machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Node.js $(node --version), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- apps libs || echo ' plus uncommitted changes in apps/ or libs/'); load average $load_before before, $load_after after; the harness found the machine busy before $busy of $((rounds * ${#variants[@]})) runs$( ((failed_runs == 0)) || echo "; $failed_runs failed run(s) were run again (kept as *.failed)")."
  echo
  echo "off: request metrics off (\`metrics.enabled: false\`), access log off, tracing at 0 %, no exporter. on-1: request metrics on (recorded, not scraped), access log on (one JSON line per request on stdout, written to the harness's log file), tracing at 1 % exported by OTLP/HTTP (JSON, batched) to a local sink on the load CPU; on-100: the same at 100 %. Proxy CPU is the sidecar's process group as a share of one core."
  echo
  cat "$base/table.md"
} >"$base/section.md"
if ((record)); then
  cat "$base/section.md" >>docs/benchmarks.md
  echo "appended the tables to docs/benchmarks.md (raw records in $base)"
else
  cat "$base/section.md"
  echo "--no-record: tables in $base/section.md, docs/benchmarks.md untouched"
fi
