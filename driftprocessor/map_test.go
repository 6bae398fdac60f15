package driftprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestFeedsPathsToMaps: each call that breaks a path rule hands its chain to the maps, whichever
// kind its span shows; the map holds one chain per rule and nodes, with its calls.
func TestFeedsPathsToMaps(t *testing.T) {
	live := mapExtension{reflexion.NewLive(1000)}
	host := mapHost{map[component.ID]component.Component{component.MustNewIDWithName("driftview", "a"): live}}
	path := filepath.Join(t.TempDir(), "intent.yaml")
	r := denyVia("frontend", "mysql", "adservice")
	base, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(withPath(string(base), r)), 0o600))
	h := newHarnessOn(t, testConfig(path), host)
	td := loadBoutique(t)
	h.consumeTraces(td)

	want := map[string]int64{}
	for _, c := range capturetest.WalkDown(td, capturetest.BoutiqueDatabase) {
		if r.breaks(c.Chain) {
			want[strings.Join(c.Chain, " -> ")]++
		}
	}
	got := map[string]int64{}
	for _, p := range live.Paths() {
		assert.Equal(t, r.name, p.Rule)
		assert.Equal(t, "forbidden_path", p.Kind)
		assert.Len(t, p.ExampleTrace, 32)
		got[strings.Join(p.Nodes, " -> ")] += p.Calls
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, got)
}
