#!/usr/bin/env bash
# Runs the built collector on the demo shop: the collector in the background (its log in
# _build/collector.log), the demo traffic in the foreground. Ctrl-C stops both.
set -euo pipefail
collector=${1:-_build/otelcol-drift}
cd "$(dirname "$0")/.."
log=_build/collector.log

"$collector" --config testdata/demo/collector.yaml >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 1
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the collector did not start; its log ($log):" >&2
  cat "$log" >&2
  exit 1
fi
echo "collector running (pid $pid), log: $log, config: testdata/demo/collector.yaml"
cd demo && go run . "${@:2}"
