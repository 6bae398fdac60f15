# Shared by bench-e2e.sh and bench-ab.sh (sourced, not run).

# bench_inputs DIR: the synthetic model in DIR/intent.yaml, and _build/loadgen.
bench_inputs() {
  (cd bench && go run ./cmd/intentgen) > "$1/intent.yaml"
  (cd bench && go build -o ../_build/loadgen ./cmd/loadgen)
}

# collector_config FILE INTENT PORT PROCESSORS [PROFILE]: a collector receiving OTLP/gRPC on PORT,
# the debug exporter at basic verbosity standing in for a backend. With PROFILE, the pprof extension
# writes the collector's CPU profile there when it stops.
collector_config() {
  local extensions="" uses=""
  if [[ ${5:-} ]]; then
    extensions="extensions:
  pprof: {endpoint: \"127.0.0.1:$(($3 + 2))\", save_to_file: \"$5\"}"
    uses="  extensions: [pprof]"
  fi
  cat > "$1" <<YAML
$extensions
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$3"}}}
processors:
  batch: {}
  drift: {intent_file: "$2", reload_interval: 0s}
exporters:
  debug: {verbosity: basic}
service:
$uses
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [$4], exporters: [debug]}
YAML
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
