#!/usr/bin/env bash
# Runs the built collector on the demo shop: the collector in the background (its log in
# _build/collector.log), the shop and its traffic in the foreground. Ctrl-C stops everything.
# With PROMETHEUS=1, a Prometheus server on 127.0.0.1:9090 scrapes the collector too; with
# JAEGER=BINARY, that Jaeger v2 (make jaeger) receives the spans and serves its UI on 127.0.0.1:16686.
set -euo pipefail
collector=${1:-_build/otelcol-drift}
cd "$(dirname "$0")/.."
log=_build/collector.log
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

configs=(--config testdata/demo/collector.yaml)
if [[ -n "${JAEGER:-}" ]]; then
  "$JAEGER" --config testdata/demo/jaeger.yaml >_build/jaeger.log 2>&1 &
  pids+=($!)
  configs+=(--config testdata/demo/collector-jaeger.yaml)
fi
"$collector" "${configs[@]}" >"$log" 2>&1 &
pids+=($!)
sleep 1
if ! kill -0 "${pids[-1]}" 2>/dev/null; then
  echo "the collector did not start; its log ($log):" >&2
  cat "$log" >&2
  exit 1
fi
echo "collector running, config testdata/demo/collector.yaml, log $log, metrics http://127.0.0.1:8888/metrics"
echo "the reflexion map (intent and reality, live): http://127.0.0.1:55690/"
if [[ -n "${JAEGER:-}" ]]; then
  echo "jaeger running (log _build/jaeger.log). The drift, through its query API:"
  echo "  curl -s 'http://127.0.0.1:16686/api/traces?service=storefront&limit=20&tags=%7B%22drift.status%22%3A%22drift%22%7D'"
  echo "  (a Jaeger built from the Go module proxy has no UI assets: with a Jaeger release's UI, pick a service and"
  echo "   put in Tags: drift.status=drift, or drift.kind=forbidden_dependency, drift.rule=payments-only-from-checkout)"
fi

if [[ "${PROMETHEUS:-}" == 1 ]]; then
  if ! command -v prometheus >/dev/null; then
    echo "prometheus is not installed: apt-get install prometheus (the Debian package)" >&2
    exit 1
  fi
  mkdir -p _build/prometheus
  cat > _build/prometheus/prometheus.yml <<'YAML'
global: {scrape_interval: 5s}
scrape_configs:
  - job_name: otelcol-drift
    static_configs: [{targets: ["127.0.0.1:8888"]}]
YAML
  prometheus --config.file=_build/prometheus/prometheus.yml --storage.tsdb.path=_build/prometheus/data \
    --web.listen-address=127.0.0.1:9090 >_build/prometheus/prometheus.log 2>&1 &
  pids+=($!)
  echo "prometheus running on http://127.0.0.1:9090 (log _build/prometheus/prometheus.log). Drift by edge:"
  echo '  curl -s http://127.0.0.1:9090/api/v1/query --data-urlencode '"'"'query=sum by (drift_caller, drift_callee, drift_kind) (drift_calls{drift_status="drift"})'"'"
  echo "  or open http://127.0.0.1:9090/graph and enter: sum by (drift_caller, drift_callee, drift_kind) (rate(drift_calls{drift_status=\"drift\"}[1m]))"
fi
cd demo && go run . "${@:2}"
