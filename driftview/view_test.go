package driftview

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/driftprocessor/driftprocessor/driftview/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
)

func TestDefaultsAndValidation(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, "localhost:55690", cfg.Endpoint, "loopback, as zpages and pprof")
	require.NoError(t, cfg.Validate())

	bad := &Config{Endpoint: "", TraceURL: "http://jaeger/trace/", CollapseAbove: -1}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"endpoint: must be set", `trace_url: "http://jaeger/trace/" has no {trace_id}`, "collapse_above: must not be negative", "max_nodes: must be positive", "max_edges", "max_rows"} {
		assert.ErrorContains(t, err, want)
	}
	var _ confmap.Validator = cfg
}

// TestServesTheMap: a processor's calls in, the page, the SVG and the JSON out; only reads.
func TestServesTheMap(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	cfg.TraceURL = "http://jaeger:16686/trace/{trace_id}"
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	v := ext.(*view)

	m, err := intent.LoadBytes("shop.yaml", []byte("version: 1\nlayers: [web, core]\nservices:\n  web: {layer: web, ingress: true, depends_on: [cart, pay]}\n  cart: {layer: core}\n  pay: {layer: core}\n"))
	require.NoError(t, err)
	feed := v.Attach("drift", func() *intent.Compiled { return m })
	now := time.Now()
	feed.Call("web", "cart", reflexion.Conforming, "", pcommon.TraceID{1}, now)
	feed.Call("cart", "pay", reflexion.Drift, "undeclared_dependency", pcommon.TraceID{2}, now)
	base := "http://" + v.Addr()

	var g reflexion.Graph
	require.NoError(t, json.Unmarshal([]byte(get(t, base+"/api/graph", http.StatusOK)), &g))
	status := map[string]string{}
	for _, e := range g.Edges {
		status[e.Caller+" -> "+e.Callee] = e.Status
	}
	assert.Equal(t, map[string]string{"web -> cart": "conforming", "cart -> pay": "drift", "web -> pay": "absent"}, status)

	page := get(t, base+"/", http.StatusOK)
	assert.Contains(t, page, `data-caller="cart" data-callee="pay" data-status="drift" data-kind="undeclared_dependency"`)
	assert.Contains(t, page, `href="http://jaeger:16686/trace/02000000000000000000000000000000"`)
	assert.NotContains(t, page, "http-equiv", "the page refreshes its SVG itself, keeping the filters")
	assert.True(t, strings.HasPrefix(get(t, base+"/map.svg", http.StatusOK), "<svg"))
	get(t, base+"/nothing", http.StatusNotFound)

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, err := http.NewRequest(method, base+"/", strings.NewReader("x"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
	}
}

func get(t *testing.T, url string, want int) string {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "GET %s: %s", url, b)
	return string(b)
}
