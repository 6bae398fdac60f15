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
