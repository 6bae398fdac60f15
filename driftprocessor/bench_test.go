package driftprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// BenchmarkBoutique judges the real Online Boutique minute in batches of about 1,000 spans; ns/op and
// allocs/op are per span.
func BenchmarkBoutique(b *testing.B) {
	td := loadBoutique(b)
	batches := shuffledBatches(td, 1000, 1)
	cfg := testConfig("../testdata/online-boutique/intent.yaml")
	p, err := newDriftProcessor(processortest.NewNopSettings(typ), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.telemetry.Shutdown()
	ctx := context.Background()
	run := func(batch ptrace.Traces) {
		if _, err := p.processTraces(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	for _, batch := range batches { // warm up: caches and maps at their steady size
		run(batch)
	}
	b.ReportAllocs()
	b.ResetTimer()
	spans := 0
	for i := 0; spans < b.N; i++ {
		batch := batches[i%len(batches)]
		run(batch)
		spans += batch.SpanCount()
	}
}
