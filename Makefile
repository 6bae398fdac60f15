# The first two targets are the README's first two commands: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
OCB_VERSION := v0.161.0
BIN := $(CURDIR)/bin
OCB := $(BIN)/builder-$(OCB_VERSION)
COLLECTOR := _build/otelcol-drift
AGENT := _build/agent/otelcol-drift-agent
# Jaeger v2, the tracing backend the end-to-end tests search drift in (its own tools module)
JAEGER_VERSION := v1.76.0
JAEGER := $(BIN)/jaeger-$(JAEGER_VERSION)
# What the collector is built from: make rebuilds it only when one of these changed.
SOURCES := $(shell find . -name '*.go' -not -path './_build/*' -not -path './demo/*' -not -path './bench/*' -not -name '*_test.go') go.mod go.sum builder-config.yaml
UNIT_PKGS = $$($(GO) list ./... | grep -v /test/e2e)
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Each fuzz target runs this long in `make test` (on its corpus and a little beyond); `make fuzz` longer.
# An execution count, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a target
# at the deadline with "context deadline exceeded" though nothing failed (golang/go#75804, fixed in
# Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x
FUZZ_TARGETS := FuzzLoad:./internal/intent FuzzLoadBaseline:./internal/intent FuzzResolve:./internal/resolve FuzzProcessor:./driftprocessor \
  FuzzReadOTLPJSON:./internal/traffic FuzzReadOTLPProto:./internal/traffic FuzzReadJaegerJSON:./internal/traffic FuzzReadZipkinJSON:./internal/traffic \
  FuzzStructurizr:./internal/importing FuzzNetworkPolicy:./internal/importing FuzzBackstage:./internal/importing FuzzOpenSLO:./internal/importing \
  FuzzChain:./internal/ancestry

.PHONY: run run-jaeger run-prometheus test test-deps build build-agent driftctl jaeger generate lint unit fuzz e2e demo-test check-next bench bench-e2e bench-share bench-ab clean

## run: build the collector and run it on the demo shop, showing drift
run: build
	@scripts/run-demo.sh $(COLLECTOR)

## run-jaeger: the same, with Jaeger v2 on 127.0.0.1:16686 receiving the spans: drift searched by tags
run-jaeger: build $(JAEGER)
	@JAEGER=$(JAEGER) scripts/run-demo.sh $(COLLECTOR)

## run-prometheus: the same, with a Prometheus server on 127.0.0.1:9090 scraping the collector
run-prometheus: build
	@PROMETHEUS=1 scripts/run-demo.sh $(COLLECTOR)

## test: go vet, gofmt, staticcheck, unit tests with -race, fuzz targets briefly, end-to-end tests, and the check against the next collector release
test: test-deps lint unit fuzz e2e demo-test check-next

## test-deps: installs what the tests need beyond Go (the Debian package prometheus), or names the command that would
test-deps:
	@scripts/test-deps.sh

## build: build otelcol-drift with ocb into _build/, and driftctl into bin/
build: $(COLLECTOR) driftctl

## build-agent: build otelcol-drift-agent (the agent tier: load-balancing exporter by trace id) with ocb into _build/agent/
build-agent: $(AGENT)

$(AGENT): $(OCB) builder-agent.yaml
	$(OCB) --config builder-agent.yaml
	@touch $(AGENT)

## driftctl: the intent as code, on files (bin/driftctl; `go install ./cmd/driftctl` does the same)
driftctl:
	$(GO) build -o $(BIN)/driftctl ./cmd/driftctl

$(OCB):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(BIN)/builder $(OCB)

$(COLLECTOR): $(OCB) $(SOURCES)
	$(OCB) --config builder-config.yaml
	@touch $(COLLECTOR)

## generate: each component's metadata, telemetry and documentation from its metadata.yaml, with mdatagen
generate:
	scripts/generate.sh

lint:
	scripts/generate.sh --check
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	cd demo && $(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench && $(STATICCHECK) ./...
	cd demo && $(STATICCHECK) ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi

unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)
	cd bench && $(GO) test -count=1 ./...

## demo-test: the demo shop through the built collector finds every planned drift; Prometheus scrapes it
demo-test: build
	cd demo && OTELCOL_DRIFT=$(CURDIR)/$(COLLECTOR) $(GO) test -count=1 -v ./... 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|\s+\S+_test.go)' ; exit $${PIPESTATUS[0]}

## fuzz: each fuzz target for FUZZTIME runs (make fuzz FUZZTIME=5000000x for a long run)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t%%:*} for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t##*:}" || exit 1; \
	done

## jaeger: build Jaeger v2 into bin/ from its tools module (internal/tools/jaeger)
jaeger: $(JAEGER)

$(JAEGER):
	@mkdir -p $(BIN)
	cd internal/tools/jaeger && $(GO) build -o $(JAEGER) github.com/jaegertracing/jaeger/cmd/jaeger

e2e: build $(JAEGER) $(AGENT)
	OTELCOL_DRIFT=$(CURDIR)/$(COLLECTOR) JAEGER=$(JAEGER) AGENT=$(CURDIR)/$(AGENT) $(GO) test -count=1 -v ./test/e2e/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|\s+\S+_test.go)' ; exit $${PIPESTATUS[0]}

## check-next: the module builds and its unit tests pass against the next collector release
check-next:
	scripts/check-next-collector.sh

## bench: the drift processor side by side with spanmetricsconnector (per span, and their ratio)
bench:
	cd bench && $(GO) test -run XXX -bench . -benchmem -benchtime 500000x -count 3 ./...

## bench-e2e: CPU time per span of the built collector with and without the drift processor, at a fixed rate
bench-e2e: build
	scripts/bench-e2e.sh

## bench-share: the drift processor's CPU per span in a collector, store and whole-trace batch modes, each beside a floor and spanmetricsconnector in the same collector
bench-share: $(OCB) $(SOURCES)
	$(OCB) --config bench/builder-bench.yaml
	scripts/bench-share.sh

## bench-ab: the processor's share of its collector's CPU, built from COMMIT and from the working tree, side by side (needs perf)
bench-ab: build
	scripts/bench-ab.sh $(COMMIT)

clean:
	rm -rf _build bin
