#!/usr/bin/env bash
# CPU time per span of the built collector receiving OTLP/gRPC at a fixed rate on loopback, with the
# drift processor in the pipeline and without it, one after the other; prints both and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-20000}
DURATION=${DURATION:-20s}
collector=_build/otelcol-drift
intent=$(mktemp -d)/intent.yaml
(cd bench && go run ./cmd/intentgen) > "$intent"
(cd bench && go build -o ../_build/loadgen ./cmd/loadgen)

run() { # $1: processors of the pipeline
  local cfg port pid before after sent
  cfg=$(mktemp)
  port=$((20000 + RANDOM % 20000))
  cat > "$cfg" <<YAML
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$port"}}}
processors:
  batch: {}
  drift: {intent_file: "$intent", reload_interval: 0s}
exporters:
  nop_like: {}
YAML
  # the debug exporter at basic verbosity stands in for a backend
  sed -i 's/nop_like: {}/debug: {verbosity: basic}/' "$cfg"
  cat >> "$cfg" <<YAML
service:
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [$1], exporters: [debug]}
YAML
  "$collector" --config "$cfg" >/dev/null 2>&1 &
  pid=$!
  sleep 2
  before=$(awk '{print $14 + $15}' /proc/$pid/stat)
  sent=$(_build/loadgen -endpoint "127.0.0.1:$port" -rate "$RATE" -duration "$DURATION")
  sleep 1
  after=$(awk '{print $14 + $15}' /proc/$pid/stat)
  kill -INT $pid; wait $pid 2>/dev/null || true
  # clock ticks to nanoseconds per span
  echo $(( (after - before) * 1000000000 / $(getconf CLK_TCK) / sent ))
}

# Alternate the two, ROUNDS times each, so that a noisy neighbour weighs on both; compare medians.
ROUNDS=${ROUNDS:-3}
withouts=() withs=()
for _ in $(seq "$ROUNDS"); do
  withouts+=("$(run batch)")
  withs+=("$(run "drift, batch")")
  echo "round: without ${withouts[-1]} ns/span, with ${withs[-1]} ns/span"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
without=$(median "${withouts[@]}")
with=$(median "${withs[@]}")
echo "CPU per span (medians of $ROUNDS) without drift: ${without} ns; with drift: ${with} ns (rate ${RATE} spans/s for ${DURATION})"
awk -v a="$with" -v b="$without" 'BEGIN { printf "ratio: %.3f\n", a / b }'
