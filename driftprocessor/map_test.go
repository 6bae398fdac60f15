package driftprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
)

// mapExtension is a reflexion map as the driftview extension offers it.
type mapExtension struct{ *reflexion.Live }

func (mapExtension) Start(context.Context, component.Host) error { return nil }
func (mapExtension) Shutdown(context.Context) error              { return nil }

type mapHost struct {
	ext map[component.ID]component.Component
}

func (h mapHost) GetExtensions() map[component.ID]component.Component { return h.ext }

// TestFeedsEveryMapItFinds: a processor finds the reflexion maps among the host's extensions, with
// nothing configured, and feeds each every call it judges, with the verdict and a trace.
func TestFeedsEveryMapItFinds(t *testing.T) {
	a, b := mapExtension{reflexion.NewLive(1000)}, mapExtension{reflexion.NewLive(1000)}
	host := mapHost{map[component.ID]component.Component{
		component.MustNewIDWithName("driftview", "a"): a, component.MustNewIDWithName("driftview", "b"): b}}
	h := newHarnessOn(t, testConfig(capturetest.BoutiqueIntent()), host)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	h.consumeTraces(td)

	for _, m := range []mapExtension{a, b} {
		rows, dropped := m.Observed(h.p.engine.Now())
		assert.Zero(t, dropped)
		var calls int64
		for _, r := range rows {
			calls += r.Calls
			assert.Equal(t, reflexion.Conforming, r.Status, "%s -> %s", r.Caller, r.Callee)
			assert.Len(t, r.ExampleTrace, 32, "%s -> %s: a call judged on its span shows its trace", r.Caller, r.Callee)
		}
		assert.EqualValues(t, capturetest.BoutiqueCalls, calls)
		assert.Len(t, rows, 16)
		require.NotNil(t, m.Model())
		assert.Equal(t, "online-boutique", m.Model().System)
	}
}

var _ reflexion.Attacher = mapExtension{}
