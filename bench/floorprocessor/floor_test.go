package floorprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

// TestFloorCountsEveryCall: the floor does the whole of its part: on the Boutique minute, in one
// batch, it counts every call a judge sees, each once.
func TestFloorCountsEveryCall(t *testing.T) {
	fl := &floor{edges: map[[2]string]int64{}}
	fl.batches.New = func() any { return map[pcommon.SpanID]string{} }
	td, err := capturetest.Boutique()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fl.processTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	var calls int64
	for _, n := range fl.edges {
		calls += n
	}
	if calls != capturetest.BoutiqueCalls {
		t.Errorf("%d calls counted, the minute has %d", calls, capturetest.BoutiqueCalls)
	}
	if fl.edges[[2]string{"frontend", "currencyservice"}] != capturetest.BoutiqueFrontendToCurrency {
		t.Errorf("frontend -> currencyservice: %d", fl.edges[[2]string{"frontend", "currencyservice"}])
	}
}

// TestFactory: the factory makes a processor a collector can run.
func TestFactory(t *testing.T) {
	f := NewFactory()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(typ), f.CreateDefaultConfig(), consumertest.NewNop())
	if err != nil || p == nil {
		t.Fatal(err)
	}
}
