# Shared by bench-e2e.sh and bench-ab.sh (sourced, not run).

# bench_inputs DIR: the synthetic model in DIR/intent.yaml, and _build/loadgen.
bench_inputs() {
  (cd bench && go run ./cmd/intentgen) > "$1/intent.yaml"
  (cd bench && go build -o ../_build/loadgen ./cmd/loadgen)
}

# collector_config FILE INTENT PORT PROCESSORS [PROFILE]: a collector receiving OTLP/gRPC on PORT.
# It exports with the debug exporter at basic verbosity (it only counts the spans: the strictest
# denominator), or, when sink_endpoint is set to a host:port, with the OTLP/gRPC exporter at its defaults
# (gzip, sending queue) to that endpoint, as a collector in production exports to its backend;
# EXPORT_COMPRESSION sets its compression (none, zstd, ...) instead.
# With PROFILE, the pprof extension writes the collector's CPU profile there when it stops.
# PAIRING=whole-batches runs the drift processor with pairing.whole_batches (each request holds
# whole traces: the load generator's default), rather than through the pairing store.
collector_config() {
  local extensions="" uses="" exporter="debug: {verbosity: basic}" name=debug pairing=""
  case ${PAIRING:-store} in
  store) ;;
  whole-batches) pairing=", pairing: {whole_batches: true}" ;;
  *) echo "PAIRING is store or whole-batches, not $PAIRING" >&2; return 1 ;;
  esac
  if [[ ${sink_endpoint:-} ]]; then
    exporter="otlp_grpc: {endpoint: \"$sink_endpoint\", tls: {insecure: true}${EXPORT_COMPRESSION:+, compression: $EXPORT_COMPRESSION}}"
    name=otlp_grpc
  fi
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
  drift: {intent_file: "$2", reload_interval: 0s$pairing}
exporters:
  $exporter
service:
$uses
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [$4], exporters: [$name]}
YAML
}

# loadgen_requests: sets loadgen_flags for REQUESTS: whole-traces (the default: each request holds
# whole traces) or per-service (each holds one service's spans, as a gateway receives them from each
# service's SDK or agent, so that a call's client and server spans pair through the pairing store).
loadgen_requests() {
  case ${REQUESTS:=whole-traces} in
  whole-traces) loadgen_flags=() ;;
  per-service) loadgen_flags=(-per-service) ;;
  *) echo "$(basename "$0"): REQUESTS is whole-traces or per-service, not $REQUESTS" >&2; return 1 ;;
  esac
}

# loadgen PORT: sends to 127.0.0.1:PORT at RATE for DURATION, as REQUESTS says; prints the spans sent.
loadgen() { _build/loadgen -endpoint "127.0.0.1:$1" -rate "$RATE" -duration "$DURATION" "${loadgen_flags[@]}"; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# sink_config FILE PORT: the backend the collectors export to when sink_endpoint is set: a collector that
# receives OTLP/gRPC on PORT and only counts what it receives, logging each batch's count.
sink_config() {
  cat > "$1" <<YAML
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:$2"}}}
exporters:
  debug: {verbosity: basic}
service:
  telemetry: {metrics: {level: none}, logs: {level: info, encoding: json, sampling: {enabled: false}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
YAML
}

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks

# pair_round BINARY DIR A PORT_A B PORT_B FIRST: runs collectors A and B (their configurations in
# DIR/A.yaml and DIR/B.yaml, receiving on PORT_A and PORT_B) at once, FIRST (A or B) started and fed
# first, each by a load generator of its own; stops them, and prints the CPU each spent per span
# received, in ns: A's, then B's. The spans each was sent are left in DIR/NAME.sent.
pair_round() {
  local bin=$1 dir=$2 first=$7 second
  declare -A port=([$3]=$4 [$5]=$6) pid=() before=()
  if [[ $first == "$3" ]]; then second=$5; else second=$3; fi
  local n
  for n in "$first" "$second"; do
    "$bin" --config "$dir/$n.yaml" >/dev/null 2>&1 &
    pid[$n]=$!
  done
  sleep 2
  for n in "$first" "$second"; do before[$n]=$(cpu "${pid[$n]}"); done
  loadgen "${port[$first]}" > "$dir/$first.sent" &
  local fed=$!
  loadgen "${port[$second]}" > "$dir/$second.sent"
  wait "$fed"
  sleep 1
  local out=()
  for n in "$3" "$5"; do
    out+=($(( ($(cpu "${pid[$n]}") - ${before[$n]}) * 1000000000 / $(getconf CLK_TCK) / $(cat "$dir/$n.sent") )))
  done
  kill -INT "${pid[$3]}" "${pid[$5]}"; wait "${pid[$3]}" "${pid[$5]}" 2>/dev/null || true
  echo "${out[@]}"
}
