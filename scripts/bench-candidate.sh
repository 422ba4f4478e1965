#!/usr/bin/env bash
# The sidecar as a candidate of ../shared/bench/peers.sh: writes a standalone edge config from
# the harness's variables (HTTP/1.1 clients → the HTTP/1.1 upstream, h2c clients → the h2c
# upstream) and runs the built sidecar in the foreground with its production defaults: through its
# launcher, apps/sidecar/bin/trellis-sidecar, which sets its memory settings.
# Optional, for `npm run bench:telemetry` (unset: no Telemetry resource, as before):
#   BENCH_TELEMETRY=off     adds a mesh-wide Telemetry with request metrics and the access log off
#                           and tracing at 0 %, and drops OTEL_EXPORTER_OTLP_ENDPOINT (no exporter);
#   BENCH_TELEMETRY=on-<P>  access log on (JSON lines on stdout) and tracing at P % (0-100),
#                           exported to OTEL_EXPORTER_OTLP_ENDPOINT, which must be set.
#   BENCH_TELEMETRY=only-log, only-metrics, only-tracing-<P>
#                           one feature as on-<P> has it, the others as off has them (tracing
#                           exports to OTEL_EXPORTER_OTLP_ENDPOINT; the other two drop it).
#   BENCH_CANDIDATE_DIR     where the config goes (default tmp/bench-candidate): a
#                           run with a directory of its own never rewrites a config that another
#                           running sidecar watches.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LISTEN_PORT:?set by peers.sh}" "${UPSTREAM_HOST:?}" "${UPSTREAM_PORT:?}" "${UPSTREAM_H2C_PORT:?}"
config_dir=${BENCH_CANDIDATE_DIR:-tmp/bench-candidate}
telemetry=''
case ${BENCH_TELEMETRY:-} in
  '') ;;
  off)
    unset OTEL_EXPORTER_OTLP_ENDPOINT
    telemetry='{tracing: {samplingPercent: 0}, metrics: {enabled: false}, accessLog: {enabled: false}}'
    ;;
  on-[0-9] | on-[1-9][0-9] | on-100)
    : "${OTEL_EXPORTER_OTLP_ENDPOINT:?BENCH_TELEMETRY=$BENCH_TELEMETRY exports traces: set it}"
    telemetry="{tracing: {samplingPercent: ${BENCH_TELEMETRY#on-}}, accessLog: {enabled: true}}"
    ;;
  only-log)
    unset OTEL_EXPORTER_OTLP_ENDPOINT
    telemetry='{tracing: {samplingPercent: 0}, metrics: {enabled: false}, accessLog: {enabled: true}}'
    ;;
  only-metrics)
    unset OTEL_EXPORTER_OTLP_ENDPOINT
    telemetry='{tracing: {samplingPercent: 0}, metrics: {enabled: true}, accessLog: {enabled: false}}'
    ;;
  only-tracing-[0-9] | only-tracing-[1-9][0-9] | only-tracing-100)
    : "${OTEL_EXPORTER_OTLP_ENDPOINT:?BENCH_TELEMETRY=$BENCH_TELEMETRY exports traces: set it}"
    telemetry="{tracing: {samplingPercent: ${BENCH_TELEMETRY#only-tracing-}}, metrics: {enabled: false}, accessLog: {enabled: false}}"
    ;;
  *)
    echo "bench-candidate: BENCH_TELEMETRY must be off, on-<0..100>, only-log, only-metrics or only-tracing-<0..100>, got '$BENCH_TELEMETRY'" >&2
    exit 2
    ;;
esac
mkdir -p "$config_dir"
# Output goes straight to the harness's log file (it keeps a copy in its --out folder), as a
# container's stdout goes to its runtime: no extra process copies it on the proxy's core.
echo "bench-candidate: start $(date -u +%FT%TZ) LISTEN_PORT=$LISTEN_PORT${BENCH_TELEMETRY:+ BENCH_TELEMETRY=$BENCH_TELEMETRY}"
cat > "$config_dir/bench.yaml" <<YAML
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: upstream-h1}
spec: {ports: [{port: 80, protocol: http1}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: upstream-h1}
spec: {service: upstream-h1, endpoints: [{address: ${UPSTREAM_HOST}, port: ${UPSTREAM_PORT}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: upstream-h2c}
spec: {ports: [{port: 80, protocol: h2c}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: upstream-h2c}
spec: {service: upstream-h2c, endpoints: [{address: ${UPSTREAM_HOST}, port: ${UPSTREAM_H2C_PORT}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: h2c-clients}
spec:
  hosts: [127.0.0.1, localhost]
  match: {protocol: h2c}
  destinations: [{service: upstream-h2c}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: http1-clients}
spec:
  hosts: [127.0.0.1, localhost]
  destinations: [{service: upstream-h1}]
YAML
if [ -n "$telemetry" ]; then
  printf -- '---\napiVersion: trellis.dev/v1alpha1\nkind: Telemetry\nmetadata: {name: bench}\nspec: %s\n' \
    "$telemetry" >> "$config_dir/bench.yaml"
fi
# exec (here and in the launcher) keeps SIGTERM going straight to the sidecar, which drains and exits.
exec apps/sidecar/bin/trellis-sidecar --role gateway --config "$config_dir/bench.yaml" \
  --listen "127.0.0.1:${LISTEN_PORT}" --admin "127.0.0.1:0" --drain-timeout-ms 2000
