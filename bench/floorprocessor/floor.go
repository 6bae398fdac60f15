// Package floorprocessor is a floor under the drift processor's cost in a collector: a processor
// that does what any judge of whole traces must do at least, and nothing else. It names each
// resource's service, indexes the batch's server spans by their parent, pairs each client span with
// its server span in the batch (or names its callee by the first peer attribute it has), and counts
// the calls by edge. No verdict, no stamping, no telemetry. `scripts/bench-share.sh` runs it beside
// the drift processor and contrib's spanmetricsconnector in one collector, and compares their
// shares of its CPU. It is a benchmark's part: no collector users build includes it.
package floorprocessor

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var typ = component.MustNewType("driftfloor")

// Config has nothing to set.
type Config struct{}

// NewFactory returns the floor processor's factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(typ, func() component.Config { return &Config{} },
		processor.WithTraces(create, component.StabilityLevelDevelopment))
}

func create(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	f := &floor{edges: map[[2]string]int64{}}
	f.batches.New = func() any { return map[pcommon.SpanID]string{} }
	return processorhelper.NewTraces(ctx, set, cfg, next, f.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}))
}

type floor struct {
	batches sync.Pool // of map[parent span id]service: the batch's server spans
	mu      sync.Mutex
	edges   map[[2]string]int64
}

// peerKeys are where a client span names its callee when its server span is not in the batch.
var peerKeys = []string{"service.peer.name", "peer.service", "db.system.name", "db.system", "messaging.system", "server.address"}

func (f *floor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	servers := f.batches.Get().(map[pcommon.SpanID]string)
	defer func() { clear(servers); f.batches.Put(servers) }()
	rss := td.ResourceSpans()
	services := make([]string, rss.Len())
	for i := range rss.Len() {
		if v, ok := rss.At(i).Resource().Attributes().Get("service.name"); ok {
			services[i] = v.Str()
		}
	}
	each := func(fn func(service string, s ptrace.Span)) {
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				spans := sss.At(j).Spans()
				for k := range spans.Len() {
					fn(services[i], spans.At(k))
				}
			}
		}
	}
	var calls [][2]string
	each(func(svc string, s ptrace.Span) {
		if k := s.Kind(); k == ptrace.SpanKindServer || k == ptrace.SpanKindConsumer {
			if p := s.ParentSpanID(); !p.IsEmpty() {
				servers[p] = svc
			} else {
				calls = append(calls, [2]string{"external", svc})
			}
		}
	})
	each(func(svc string, s ptrace.Span) {
		if k := s.Kind(); k != ptrace.SpanKindClient && k != ptrace.SpanKindProducer {
			return
		}
		callee, ok := servers[s.SpanID()]
		for _, key := range peerKeys {
			if ok {
				break
			}
			if v, found := s.Attributes().Get(key); found {
				callee, ok = v.Str(), true
			}
		}
		if ok && callee != svc {
			calls = append(calls, [2]string{svc, callee})
		}
	})
	f.mu.Lock()
	for _, c := range calls {
		f.edges[c]++
	}
	f.mu.Unlock()
	return td, nil
}
