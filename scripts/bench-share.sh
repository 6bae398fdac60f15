#!/usr/bin/env bash
# The drift processor's CPU per span in a collector, in store mode and in whole-trace batch mode,
# each beside a floor (bench/floorprocessor: what any whole-trace judge must do at least) and beside
# contrib's spanmetricsconnector, fed the same spans in the same collector: each collector's receiver
# fans every request out to three pipelines, and its CPU profile gives each component's share of the
# collector's CPU, so their ratios do not move with the machine's speed. The two collectors (store,
# whole-batches) run at the same time, each fed by a load generator of its own (requests of whole
# traces), the order alternating from round to round. Prints, per round and as medians, each
# component's share and ns of CPU per span, and the ratios: drift over the floor, drift over
# spanmetricsconnector, whole-batches over store.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-10000}
DURATION=${DURATION:-30s}
ROUNDS=${ROUNDS:-6}
source scripts/bench-lib.sh
loadgen_requests
collector=_build/bench/otelcol-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_inputs "$work"

# config MODE PORT: the collector of MODE (store or whole-batches) receiving on PORT; its CPU profile
# goes to MODE.pprof.
config() {
  local pairing=""
  [[ $1 == whole-batches ]] && pairing=", pairing: {whole_batches: true}"
  cat > "$work/$1.yaml" <<YAML
extensions:
  pprof: {endpoint: "127.0.0.1:$(($2 + 2))", save_to_file: "$work/$1.pprof"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$2"}}}
processors:
  drift: {intent_file: "$work/intent.yaml", reload_interval: 0s$pairing}
  driftfloor: {}
connectors:
  span_metrics: {metrics_flush_interval: 5s}
exporters:
  debug: {verbosity: basic}
service:
  extensions: [pprof]
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    traces/drift: {receivers: [otlp], processors: [drift], exporters: [debug]}
    traces/floor: {receivers: [otlp], processors: [driftfloor], exporters: [debug]}
    traces/spanmetrics: {receivers: [otlp], exporters: [span_metrics]}
    metrics/spanmetrics: {receivers: [span_metrics], exporters: [debug]}
YAML
}

# cum PROFILE PATTERN: the summed cumulative share (%) of the functions whose name matches PATTERN.
cum() {
  go tool pprof -top -cum "$collector" "$1" 2>/dev/null |
    awk -v pat="$2" '$6 ~ pat { sub(/%/, "", $5); s += $5; found = 1 } END { if (found) print s; else print "none" }'
}

# round FIRST: both collectors at once, FIRST (store or whole-batches) started and fed first; prints
# the collectors' CPU ns per span, store then whole-batches; their profiles go to MODE.pprof.
round() {
  local port=$((20000 + RANDOM % 20000))
  config store "$port"
  config whole-batches $((port + 10))
  pair_round "$collector" "$work" store "$port" whole-batches $((port + 10)) "$1"
}

declare -A col=() profiles=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=(store whole-batches); else order=(whole-batches store); fi
  read -r store whole < <(round "${order[0]}")
  col[store]+=" $store" col[whole-batches]+=" $whole"
  for m in store whole-batches; do
    mv "$work/$m.pprof" "$work/$m-$r.pprof"
    profiles[$m]+=" $work/$m-$r.pprof"
  done
  echo "round $r: collector CPU per span: store ${store} ns, whole-batches ${whole} ns"
done
echo "medians of $ROUNDS rounds (rate $RATE spans/s to each collector, for $DURATION; requests of $REQUESTS; debug exporter); shares from all rounds' profiles, merged (_build/bench-share-MODE.pprof):"
declare -A per=()
for m in store whole-batches; do
  merged=_build/bench-share-$m.pprof
  # shellcheck disable=SC2086
  go tool pprof -proto ${profiles[$m]} > "$merged" 2>/dev/null
  c=$(median ${col[$m]})
  d=$(cum "$merged" 'driftProcessor\)\.processTraces$') f=$(cum "$merged" 'floor\)\.processTraces$')
  s=$(cum "$merged" 'connectorImp\)\.(ConsumeTraces|exportMetrics)$')
  for v in "$d" "$f" "$s"; do [[ $v =~ ^[0-9.]+$ ]] || { echo "bench-share: a component is missing from the $m profile" >&2; exit 1; }; done
  per[$m]=$(awk -v a="$d" -v c="$c" 'BEGIN{printf "%.0f", a*c/100}')
  printf '  %-13s collector %s ns/span; drift %s%% (%s ns/span), floor %s%% (%s ns/span), spanmetrics %s%% (%s ns/span); drift/floor %s, drift/spanmetrics %s\n' "$m" "$c" \
    "$d" "${per[$m]}" "$f" "$(awk -v a="$f" -v c="$c" 'BEGIN{printf "%.0f", a*c/100}')" \
    "$s" "$(awk -v a="$s" -v c="$c" 'BEGIN{printf "%.0f", a*c/100}')" "$(awk -v a="$d" -v b="$f" 'BEGIN{printf "%.2f", a/b}')" "$(awk -v a="$d" -v b="$s" 'BEGIN{printf "%.2f", a/b}')"
done
echo "whole-batches over store, drift per span: $(awk -v a="${per[whole-batches]}" -v b="${per[store]}" 'BEGIN{printf "%.2f", a/b}')"
