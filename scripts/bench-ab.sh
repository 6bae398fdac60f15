#!/usr/bin/env bash
# bench-ab.sh COMMIT: the drift processor's share of its collector's CPU, in the collector built from
# COMMIT (A) and in the one built from the working tree (B), both with the processor, side by side as
# bench-e2e.sh runs its two collectors (REQUESTS as there). Each collector is sampled by perf (the cpu-clock
# software event: machines without hardware counters have it too)
# at 1,999 Hz, twenty times the rate of Go's profiler, so that a difference of a few percent in the
# processor's share shows over the rounds' noise. Needs perf (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${1:?usage: scripts/bench-ab.sh COMMIT}
RATE=${RATE:-20000}
DURATION=${DURATION:-30s}
ROUNDS=${ROUNDS:-6}
command -v perf >/dev/null || { echo "bench-ab: perf is needed (apt-get install linux-perf)" >&2; exit 1; }
source scripts/bench-lib.sh
loadgen_requests
[[ -f _build/components.go ]] || { echo "bench-ab: run make build first (for ocb's sources in _build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src" 2>/dev/null || true; rm -rf "$work"' EXIT

# collector DIR MODULE: builds ocb's sources (in _build) into DIR/otelcol, the processor taken from
# MODULE, a checkout of this repository.
collector() {
  mkdir "$1"
  cp _build/*.go _build/go.mod _build/go.sum "$1/"
  sed -i "s#^replace github.com/driftprocessor/driftprocessor v0.0.0 => .*#replace github.com/driftprocessor/driftprocessor v0.0.0 => $2#" "$1/go.mod"
  (cd "$1" && go build -o otelcol .)
}
git worktree add --detach -q "$work/src" "$commit"
collector "$work/a" "$work/src"
collector "$work/b" "$PWD"
declare -A bin=([A]="$work/a/otelcol" [B]="$work/b/otelcol")

bench_inputs "$work"
config() { collector_config "$work/$1.yaml" "$work/intent.yaml" "$2" "drift, batch"; }
# share PERFDATA: the percentage of the samples inside the processor's entry point.
share() {
  perf report -i "$1" --children --stdio --sort symbol -g none 2>/dev/null |
    awk '/driftProcessor\)\.processTraces(-fm)? / && !v { sub(/%/, "", $1); v = $1 } END { print v }'
}

as=() bs=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=(A B); else order=(B A); fi
  port=$((20000 + RANDOM % 20000))
  config A "$port"; config B $((port + 1))
  declare -A ports=([A]=$port [B]=$((port + 1))) pids=() perfs=()
  for n in "${order[@]}"; do "${bin[$n]}" --config "$work/$n.yaml" >/dev/null 2>&1 & pids[$n]=$!; done
  sleep 2
  for n in A B; do perf record -e cpu-clock -q -F 1999 -g -p "${pids[$n]}" -o "$work/$n.perf" >/dev/null 2>&1 & perfs[$n]=$!; done
  loadgen "${ports[${order[0]}]}" >/dev/null &
  first=$!
  loadgen "${ports[${order[1]}]}" >/dev/null
  wait "$first"
  kill -INT "${perfs[A]}" "${perfs[B]}"; wait "${perfs[A]}" "${perfs[B]}" 2>/dev/null || true
  kill -INT "${pids[A]}" "${pids[B]}"; wait "${pids[A]}" "${pids[B]}" 2>/dev/null || true
  a=$(share "$work/A.perf") b=$(share "$work/B.perf")
  [[ $a && $b ]] || { echo "bench-ab: no drift processor in a profile (a renamed function?)" >&2; exit 1; }
  as+=("$a") bs+=("$b")
  echo "round $r: the processor's share of its collector's CPU: $commit (A) $a%, working tree (B) $b%"
done
echo "medians of $ROUNDS rounds: A $(median "${as[@]}")%, B $(median "${bs[@]}")%"
