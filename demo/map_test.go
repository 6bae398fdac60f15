package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

// absentInDemo is what the intent declares and the shop never calls (the queue is always up).
var absentInDemo = []string{"checkout -> fulfilment"}

// browser starts headless Chromium (the Debian package; `make test` installs it) and returns a
// context that drives it, and every JavaScript dialog the pages opened.
func browser(t *testing.T) (context.Context, *[]string) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium (the Debian package; make test installs it as root)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	var mu sync.Mutex
	dialogs := &[]string{}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			*dialogs = append(*dialogs, d.Message)
			mu.Unlock()
			go func() { _, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{}) }()
		}
	}))
	return ctx, dialogs
}

type drawnEdge struct {
	Caller, Callee, Status, Kind string
	Hidden                       bool
}

const readEdges = `Array.from(document.querySelectorAll('#map g.edge')).map(e => ({
  Caller: e.getAttribute('data-caller'), Callee: e.getAttribute('data-callee'),
  Status: e.getAttribute('data-status'), Kind: e.getAttribute('data-kind'),
  Hidden: getComputedStyle(e).display === 'none'}))`

// checkMapInBrowser opens the live map of the demo's collector after its hotfixes: every planned
// hotfix edge is drawn divergent with its kind, every declared and observed edge convergent, the
// declared edges never called absent, nothing else; the status filter hides what it should. A
// screenshot is kept in _build/map-demo.png.
func checkMapInBrowser(t *testing.T, url string) {
	ctx, dialogs := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url))) // the page is whole when it loads: drawn on the server
	edges, err := chromedp.Run(ctx, chromedp.Evaluate[[]drawnEdge](readEdges))
	require.NoError(t, err)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	root, _ := filepath.Abs("..")
	_ = os.MkdirAll(filepath.Join(root, "_build"), 0o755)
	require.NoError(t, os.WriteFile(filepath.Join(root, "_build", "map-demo.png"), png, 0o644))

	drawn := map[string]drawnEdge{}
	for _, e := range edges {
		drawn[e.Caller+" -> "+e.Callee] = e
	}
	for edge, kind := range planned {
		assert.Equal(t, "drift", drawn[edge].Status, edge)
		assert.Contains(t, strings.Fields(drawn[edge].Kind), kind, edge)
	}
	for edge, kind := range misbehaving {
		assert.Equal(t, "drift", drawn[edge].Status, edge)
		assert.Contains(t, strings.Fields(drawn[edge].Kind), kind, edge)
	}
	for _, edge := range declared {
		if _, ok := misbehaving[edge]; !ok {
			assert.Equal(t, "conforming", drawn[edge].Status, "%s is declared and observed: convergent", edge)
		}
	}
	for _, edge := range absentInDemo {
		assert.Equal(t, "absent", drawn[edge].Status, edge)
	}
	assert.Len(t, drawn, len(planned)+len(declared)+len(absentInDemo), "no edge but these: %v", drawn)

	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('status').value = 'drift'; apply()`)))
	filtered, err := chromedp.Run(ctx, chromedp.Evaluate[[]drawnEdge](readEdges))
	require.NoError(t, err)
	for _, e := range filtered {
		assert.Equal(t, e.Status != "drift", e.Hidden, "the status filter: %+v", e)
	}
	assert.Empty(t, *dialogs)
}

// TestMapEscapesNames: a service named as markup shows on the map as its name, in the browser: no
// element made of it, no script run.
func TestMapEscapesNames(t *testing.T) {
	const hostile = `<img src=x onerror=alert(1)>`
	intent, _ := filepath.Abs(filepath.Join("..", "testdata", "demo", "intent.yaml"))
	mapAddr := fmt.Sprintf("127.0.0.1:%d", collectortest.FreePort(t))
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", intent, "SINK", "http://127.0.0.1:1", "MAPADDR", mapAddr).Replace(demoCollector))
	col.WaitMetric("drift_pairing_pending")

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", hostile)
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID([16]byte{1})
	s.SetSpanID([8]byte{1})
	s.SetKind(ptrace.SpanKindClient)
	s.SetName("GET")
	s.Attributes().PutStr("peer.service", "storefront")
	require.NoError(t, col.Send(context.Background(), td))
	col.WaitMetric("drift_calls", `drift_status="drift"`)

	ctx, dialogs := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("http://"+mapAddr+"/")))
	images, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img, #map image, #map foreignObject').length`))
	require.NoError(t, err)
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#map g.node')).map(n => n.getAttribute('data-node') + '|' + n.querySelector('text').textContent)`))
	require.NoError(t, err)
	assert.Zero(t, images, "no element was made of a name")
	assert.Contains(t, names, hostile+"|"+hostile, "the name is shown as text")
	assert.Empty(t, *dialogs, "no script ran")
}

// pathTrace is one request of the shop after its hotfix, whole: the storefront calls the cart,
// which reads the catalog's database.
func pathTrace() ptrace.Traces {
	td := ptrace.NewTraces()
	span := func(svc string, id, parent byte, kind ptrace.SpanKind, name string, attrs map[string]any) {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID([16]byte{7, 7, 7})
		s.SetSpanID([8]byte{7, id})
		if parent != 0 {
			s.SetParentSpanID([8]byte{7, parent})
		}
		s.SetKind(kind)
		s.SetName(name)
		if err := s.Attributes().FromRaw(attrs); err != nil {
			panic(err)
		}
	}
	span("storefront", 1, 0, ptrace.SpanKindServer, "GET /", nil)
	span("storefront", 2, 1, ptrace.SpanKindClient, "GET /cart", map[string]any{"server.address": "cart"})
	span("cart", 3, 2, ptrace.SpanKindServer, "GET /cart", nil)
	span("cart", 4, 3, ptrace.SpanKindClient, "SELECT products", map[string]any{"db.system.name": "sqlite", "db.namespace": "catalog"})
	return td
}

// TestMapHighlightsForbiddenPaths: a chain that breaks a path rule shows on the live map, in the
// browser, as one highlighted chain over its edges, named by its rule; the kind filter keeps it and
// its edges, and hides the others. The span that completes it carries drift.path.
func TestMapHighlightsForbiddenPaths(t *testing.T) {
	demoIntent, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "intent.yaml"))
	require.NoError(t, err)
	intent := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(intent, append(demoIntent, []byte(`paths:
  - name: catalog-data-not-through-the-cart
    deny: {from: storefront, to: catalog-db, via: cart}
    severity: critical
`)...), 0o600))
	var mu sync.Mutex
	var stamped []map[string]any
	sink, err := otlpsinktest.Start("127.0.0.1:0", func(td ptrace.Traces) {
		mu.Lock()
		defer mu.Unlock()
		rss := td.ResourceSpans()
		for i := range rss.Len() {
			spans := rss.At(i).ScopeSpans().At(0).Spans()
			for j := range spans.Len() {
				stamped = append(stamped, spans.At(j).Attributes().AsRaw())
			}
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })
	mapAddr := fmt.Sprintf("127.0.0.1:%d", collectortest.FreePort(t))
	col := collectortest.Start(t, binary, strings.NewReplacer("INTENT", intent, "SINK", sink.Endpoint, "MAPADDR", mapAddr).Replace(demoCollector))
	col.WaitMetric("drift_pairing_pending")
	require.NoError(t, col.Send(context.Background(), pathTrace()))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(stamped) == 4
	}, 20*time.Second, 50*time.Millisecond)
	var paths []string
	for _, a := range stamped {
		if p, ok := a["drift.path"]; ok {
			paths = append(paths, fmt.Sprint(a["drift.caller"], " -> ", a["drift.callee"], " ", a["drift.kind"], ": ", p))
		}
	}
	assert.Equal(t, []string{"cart -> catalog-db forbidden_dependency: storefront -> cart -> catalog-db"}, paths,
		"the span shows the first kind in the table, and the chain of the path rule it breaks too")

	type drawnPath struct {
		Rule, Kind, Path string
		Hops             []string
		Hidden           bool
	}
	const readPaths = `Array.from(document.querySelectorAll('#map g.path')).map(p => ({
  Rule: p.getAttribute('data-rule'), Kind: p.getAttribute('data-kind'), Path: p.getAttribute('data-path'),
  Hops: Array.from(p.querySelectorAll('path.hop')).map(h => h.getAttribute('data-caller') + ' -> ' + h.getAttribute('data-callee')),
  Hidden: getComputedStyle(p).display === 'none'}))`
	ctx, dialogs := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("http://"+mapAddr+"/")))
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]drawnPath](readPaths))
	require.NoError(t, err)
	assert.Equal(t, []drawnPath{{Rule: "catalog-data-not-through-the-cart", Kind: "forbidden_path", Path: "storefront -> cart -> catalog-db",
		Hops: []string{"storefront -> cart", "cart -> catalog-db"}}}, drawn)

	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('kind').value = 'forbidden_path'; apply()`)))
	drawn, err = chromedp.Run(ctx, chromedp.Evaluate[[]drawnPath](readPaths))
	require.NoError(t, err)
	require.Len(t, drawn, 1)
	assert.False(t, drawn[0].Hidden, "the kind filter keeps the chain of its kind")
	edges, err := chromedp.Run(ctx, chromedp.Evaluate[[]drawnEdge](readEdges))
	require.NoError(t, err)
	visible := map[string]bool{}
	for _, e := range edges {
		if !e.Hidden {
			visible[e.Caller+" -> "+e.Callee] = true
		}
	}
	assert.Equal(t, map[string]bool{"storefront -> cart": true, "cart -> catalog-db": true}, visible, "the chain's edges, and nothing else")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	root, _ := filepath.Abs("..")
	_ = os.MkdirAll(filepath.Join(root, "_build"), 0o755)
	require.NoError(t, os.WriteFile(filepath.Join(root, "_build", "map-path.png"), png, 0o644))
	assert.Empty(t, *dialogs)
}
