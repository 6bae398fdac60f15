#!/usr/bin/env bash
# CPU time per span of the built collector receiving OTLP/gRPC at a fixed rate on loopback, with the
# drift processor in the pipeline and without it. The two collectors run at the same time, each fed
# by a load generator of its own, so that the machine's speed (which drifts by a third within
# minutes here) weighs on both alike; prints both and their ratio, round by round and as medians.
# Both are also profiled (the pprof extension, for the whole round: the same small cost on both); the
# profiles of the collector with drift, all rounds merged, are kept in _build/bench-e2e-drift.pprof, and
# the drift processor's share of that collector's CPU is printed: measured within one process, it does
# not move with the machine's speed, but it leaves out what the processor costs the rest of the
# collector (caches, garbage collection).
# With EXPORTER=otlp both export over OTLP/gRPC (the exporter's defaults) to one more collector that
# stands in for a backend (its own CPU is not counted), rather than to the debug exporter;
# EXPORT_COMPRESSION=none (or zstd, ...) changes the exporter's compression from its default, gzip.
# REQUESTS=per-service: each request holds one service's spans rather than whole traces (bench-lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-20000}
DURATION=${DURATION:-20s}
ROUNDS=${ROUNDS:-4}
EXPORTER=${EXPORTER:-debug}
case $EXPORTER in
otlp) ;;
debug) [[ -z ${EXPORT_COMPRESSION:-} ]] || { echo "bench-e2e: EXPORT_COMPRESSION needs EXPORTER=otlp" >&2; exit 1; } ;;
*) echo "bench-e2e: EXPORTER is debug or otlp, not $EXPORTER" >&2; exit 1 ;;
esac
source scripts/bench-lib.sh
loadgen_requests
collector=_build/otelcol-drift
work=$(mktemp -d)
sink=""
trap '[[ $sink ]] && kill "$sink" 2>/dev/null; rm -rf "$work"' EXIT
bench_inputs "$work"
if [[ $EXPORTER == otlp ]]; then # the backend both collectors export to (collector_config reads sink_endpoint)
  sink_port=$((40000 + RANDOM % 20000)) sink_endpoint=127.0.0.1:$sink_port
  sink_config "$work/sink.yaml" "$sink_port"
  "$collector" --config "$work/sink.yaml" >/dev/null 2>"$work/sink.log" &
  sink=$!
fi

# config NAME PORT PROCESSORS: collector NAME's configuration; its CPU profile goes to NAME.pprof.
config() { collector_config "$work/$1.yaml" "$work/intent.yaml" "$2" "$3" "$work/$1.pprof"; }

# round FIRST: both collectors at once, FIRST started (and fed) first; the order alternates
# from round to round, since the one started second fared a few percent worse with both pipelines
# alike. Prints "without with".
round() {
  local port=$((20000 + RANDOM % 20000))
  config without "$port" "batch"
  config with $((port + 1)) "drift, batch"
  pair_round "$collector" "$work" without "$port" with $((port + 1)) "$1"
  cat "$work/without.sent" "$work/with.sent" >> "$work/all.sent"
}

# share PROFILE: the percentage of the profile's CPU spent in the drift processor (its cumulative
# share, as pprof reports it for the processor's entry point).
share() {
  go tool pprof -top -cum "$collector" "$1" 2>/dev/null |
    awk '/driftProcessor\)\.processTraces$/ { sub(/%/, "", $5); print $5; found = 1 } END { if (!found) print "none" }'
}

withouts=() withs=() ratios=() profiles=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=(without with); else order=(with without); fi
  read -r without with < <(round "${order[@]}")
  mv "$work/with.pprof" "$work/with-$r.pprof"
  profiles+=("$work/with-$r.pprof")
  withouts+=("$without") withs+=("$with")
  ratios+=("$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')")
  echo "round: without ${without} ns/span, with ${with} ns/span, ratio ${ratios[-1]}"
done
echo "CPU per span (medians of $ROUNDS rounds) without drift: $(median "${withouts[@]}") ns; with drift: $(median "${withs[@]}") ns (rate ${RATE} spans/s each, for ${DURATION}; requests of $REQUESTS; $EXPORTER exporter${EXPORT_COMPRESSION:+, compression $EXPORT_COMPRESSION})"
echo "ratio: $(median "${ratios[@]}") (median of the rounds' ratios)"
if [[ $sink ]]; then # a collector whose exporter failed would have done less work: check the sink got all
  sent=$(awk '{s += $1} END {print s}' "$work/all.sent")
  got=$(grep -o '"spans":[0-9]*' "$work/sink.log" | awk -F: '{s += $2} END {print s + 0}')
  if [[ $got != "$sent" ]]; then
    echo "bench-e2e: the collectors were sent $sent spans, their backend received $got" >&2
    exit 1
  fi
  echo "their backend received every span sent ($got)"
fi
profile=_build/bench-e2e-drift.pprof
if ! go tool pprof -proto "${profiles[@]}" > "$profile" 2>/dev/null; then
  echo "bench-e2e: could not merge the profiles ${profiles[*]}" >&2
  exit 1
fi
s=$(share "$profile")
if [[ ! $s =~ ^[0-9.]+$ ]]; then
  echo "bench-e2e: no drift processor in the profile of the collector with it (a renamed function?)" >&2
  exit 1
fi
echo "the drift processor's own share of its collector's CPU: ${s}%, as a ratio $(awk -v s="$s" 'BEGIN { printf "%.3f", 100 / (100 - s) }') (its own code only: all rounds' profiles, merged in $profile; see it with: go tool pprof -top -cum $collector $profile)"
# The share depends on what the rest of the pipeline costs; this does not, or much less.
echo "so the processor costs about $(awk -v s="$s" -v w="$(median "${withs[@]}")" 'BEGIN { printf "%.0f", s * w / 100 }') ns of CPU per span (its share of the median CPU per span with it)"
