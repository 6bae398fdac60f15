package driftprocessor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// Each test here is a row of RELIABILITY.md.

func TestPresetDriftAttributesAreNotTrusted(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	h.consume(
		// a drifting call that claims to conform
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment",
			"drift.status": "conforming", "drift.rule": "trust-me", "drift.score": 0.7}},
		// a conforming call that claims to drift: with annotate: drift it gets no stamp, and keeps none
		sp{svc: "frontend", kind: client, id: 3, attrs: map[string]any{"peer.service": "cart",
			"drift.status": "drift", "drift.kind": "forbidden_dependency"}},
		// an internal span, which takes part in no call: not this processor's to change
		sp{svc: "frontend", kind: internal, id: 2, attrs: map[string]any{"drift.status": "drift", "keep": "me"}},
		// a malformed span of a call: passed untouched
		sp{svc: "", kind: client, id: 4, attrs: map[string]any{"peer.service": "cart", "drift.status": "conforming"}},
	)
	assert.Equal(t, "drift", h.attr(1, "drift.status"))
	assert.Equal(t, "payment-is-protected", h.attr(1, "drift.rule"))
	assert.Equal(t, 0.7, h.span(1).Attributes().AsRaw()["drift.score"], "an attribute this processor does not set is not its to remove")
	assert.Equal(t, map[string]any{"peer.service": "cart"}, h.span(3).Attributes().AsRaw())
	assert.Equal(t, map[string]any{"drift.status": "drift", "keep": "me"}, h.span(2).Attributes().AsRaw())
	assert.Equal(t, map[string]any{"peer.service": "cart", "drift.status": "conforming"}, h.span(4).Attributes().AsRaw())
	assert.Equal(t, int64(2), h.sum("drift.spans.malformed", map[string]string{"reason": "drift_attributes"}))
}

// TestPresetDriftAttributesAreRemovedOnEveryPath: whichever way a call is resolved (its server in the
// batch, in an earlier one or a later one, its callee named by attributes), the attributes this
// processor sets that its span arrived with are removed.
func TestPresetDriftAttributesAreRemovedOnEveryPath(t *testing.T) {
	preset := func(attrs map[string]any) map[string]any {
		attrs["drift.rule"], attrs["drift.status"] = "trust-me", "ok"
		return attrs
	}
	for _, tt := range []struct {
		name    string
		batches [][]sp
		want    map[string]any // span 1's attributes as exported
	}{
		{"client and server in one batch", [][]sp{{
			{svc: "frontend", kind: client, id: 1, attrs: preset(map[string]any{})},
			{svc: "cart", kind: server, id: 2, parent: 1}}}, map[string]any{}},
		{"server in an earlier batch", [][]sp{
			{{svc: "cart", kind: server, id: 2, parent: 1}},
			{{svc: "frontend", kind: client, id: 1, attrs: preset(map[string]any{})}}}, map[string]any{}},
		{"a database named by its attributes", [][]sp{{
			{svc: "cart", kind: client, id: 1, attrs: preset(map[string]any{"db.system.name": "redis"})}}},
			map[string]any{"db.system.name": "redis"}},
		{"a client whose server comes later", [][]sp{
			{{svc: "frontend", kind: client, id: 1, attrs: preset(map[string]any{})}},
			{{svc: "cart", kind: server, id: 2, parent: 1}}}, map[string]any{}},
		{"a producer and its consumer in one batch", [][]sp{{
			{svc: "checkout", kind: producer, id: 1, attrs: preset(map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders"})},
			{svc: "payment", kind: ptrace.SpanKindConsumer, id: 2, parent: 1}}},
			map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(shopIntent))
			for _, spans := range tt.batches {
				h.consume(spans...)
			}
			assert.Equal(t, tt.want, h.span(1).Attributes().AsRaw())
			assert.Equal(t, int64(1), h.sum("drift.spans.malformed", map[string]string{"reason": "drift_attributes"}))
		})
	}
}

func TestEmptyZeroAndDuplicateIDs(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	td := batch(
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}},
		sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "cart"}}, // duplicate
		sp{svc: "cart", kind: server, id: 2, parent: 1},
		sp{svc: "cart", kind: server, id: 2, parent: 1}, // duplicate
		sp{svc: "frontend", kind: client, id: 0},        // empty span id
	)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(pcommon.TraceID{}) // empty trace id
	checkSpansUnchanged(t, h, td)
	h.expireAll()
	assert.Equal(t, int64(2), h.sum("drift.spans.malformed", map[string]string{"reason": "bad_ids"}))
	assert.Equal(t, 0, h.p.engine.Pending())
}

func TestParentLoop(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	checkSpansUnchanged(t, h, batch(
		sp{svc: "cart", kind: server, id: 1, parent: 2},
		sp{svc: "frontend", kind: server, id: 2, parent: 1},
		sp{svc: "cart", kind: client, id: 3, parent: 3}, // its own parent
		sp{svc: "cart", kind: server, id: 4, parent: 3},
	))
	h.expireAll()
	assert.Equal(t, 0, h.p.engine.Pending())
	// The two server spans whose parents are servers, not clients, are calls from outside, each
	// judged once; the client that is its own parent and its server are one service: no edge.
	assert.Equal(t, int64(2), h.sum("drift.calls", nil))
	for _, callee := range []string{"cart", "frontend"} {
		assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.caller": "external", "drift.callee": callee}))
	}
}

func TestHugeAndInvalidValues(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.Annotate = AnnotateAll
	h := newHarness(t, cfg)
	huge := strings.Repeat("é", 512*1024) // 1 MB
	checkSpansUnchanged(t, h, batch(
		sp{svc: huge, kind: client, id: 1, name: huge, attrs: map[string]any{"peer.service": "cart\xff\xfe"}},
		sp{svc: "frontend", kind: client, id: 2, name: "bad\xffname", attrs: map[string]any{"peer.service": huge}},
		sp{svc: "bad\xc0service", kind: server, id: 3, parent: 2},
	))
	for _, id := range []byte{1, 2} {
		for _, k := range []string{"drift.caller", "drift.callee", "drift.operation", "drift.message"} {
			v := h.attr(id, k)
			assert.True(t, utf8.ValidString(v), "%s of span %d is not valid UTF-8", k, id)
			assert.LessOrEqual(t, len(v), 1024, "%s of span %d", k, id)
		}
	}
	assert.Equal(t, "bad\uFFFDservice", h.attr(2, "drift.callee"))
	h.expireAll()
	assert.Equal(t, 0, h.p.engine.Pending())
	assert.Equal(t, int64(2), h.sum("drift.calls", nil), "both calls judged once, on their spans")
	for _, v := range h.labelValues("drift.calls") {
		assert.True(t, utf8.ValidString(v), "label value %q is not valid UTF-8", v)
		assert.LessOrEqual(t, len(v), 1024, "a label value of %d bytes", len(v))
	}
}

func TestTimestampsInTheFutureAndReversed(t *testing.T) {
	h := newHarness(t, testConfig(shopIntent))
	td := batch(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
	s := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(100 * 365 * 24 * time.Hour)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(-time.Hour)))
	checkSpansUnchanged(t, h, td)
	assert.Equal(t, "forbidden_dependency", h.attr(1, "drift.kind"), "judged like any other span")
}

// TestMillionDistinctNames: a stream of a million distinct service and peer names keeps memory,
// waiting spans and metric series bounded.
func TestMillionDistinctNames(t *testing.T) {
	names := 1_000_000
	if raceEnabled {
		names = 200_000 // the race detector makes each span ten times slower; the bounds are the same
	}
	cfg := testConfig(shopIntent)
	cfg.Pairing.MaxPending = 10_000
	h := newHarness(t, cfg)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const perBatch = 5000
	for i := 0; i < names; i += perBatch {
		td := ptrace.NewTraces()
		for j := i; j < i+perBatch; j++ {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", j))
			s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(j), byte(j >> 8), byte(j >> 16), 1})
			s.SetSpanID(pcommon.SpanID{byte(j), byte(j >> 8), byte(j >> 16), 1})
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("peer.service", fmt.Sprintf("peer-%d", j))
		}
		require.NoError(t, h.proc.ConsumeTraces(context.Background(), td))
		h.sink.Reset()
		require.LessOrEqual(t, h.p.engine.Pending(), cfg.Pairing.MaxPending)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d names: heap grew by %d MiB, %d spans waiting", names, growth>>20, h.p.engine.Pending())
	assert.Less(t, growth, int64(64<<20), "heap growth")
	assert.LessOrEqual(t, h.p.recorder.SeriesCount(), int64(record.DefaultLimits.MaxSeries))
	h.expireAll()
	calls := h.sum("drift.calls", nil)
	assert.Equal(t, int64(names), calls, "every call evicted or expired is judged and counted")
	assert.LessOrEqual(t, h.p.recorder.SeriesCount(), int64(record.DefaultLimits.MaxSeries))
}

// TestBadSpanLogIsRateLimited: a flood of bad spans gives a counter and one log line per interval.
func TestBadSpanLogIsRateLimited(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, testConfig(shopIntent), componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	bad := make([]sp, 10_000)
	for i := range bad {
		bad[i] = sp{kind: client, id: byte(i%250 + 1)} // no service.name
	}
	h.consume(bad...)
	h.consume(bad...)
	assert.Equal(t, int64(20_000), h.sum("drift.spans.malformed", nil))
	lines := func() []observer.LoggedEntry { return logs.FilterMessageSnippet("could not be read as calls").All() }
	assert.Len(t, lines(), 1)
	h.now.Add(int64(verdict.BadSpanLogEvery))
	h.consume(bad[:1]...)
	require.Len(t, lines(), 2)
	assert.Equal(t, int64(19_999+1), lines()[1].ContextMap()["no_service_name"], "the second line counts what the first did not say")
}

// TestConcurrentConsumeDuringReloads: 64 goroutines consume while the intent is reloaded again and
// again; run with -race.
func TestConcurrentConsumeDuringReloads(t *testing.T) {
	cm := newConfigMapDir(t, allowCart)
	h := newHarness(t, testConfig(cm.path))
	stop := make(chan struct{})
	var reloads sync.WaitGroup
	reloads.Add(1)
	go func() {
		defer reloads.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			content := allowCart
			if i%2 == 1 {
				content = allowPay
			}
			cm.update(content)
			h.p.reload(context.Background())
		}
	}()
	var consumers sync.WaitGroup
	var sent int64
	var mu sync.Mutex
	for g := 0; g < 64; g++ {
		consumers.Add(1)
		go func(g int) {
			defer consumers.Done()
			for i := 0; i < 20; i++ {
				td := batch(
					sp{svc: "frontend", kind: client, trace: byte(g), id: byte(i*2 + 1), attrs: map[string]any{"peer.service": "payment"}},
					sp{svc: "cart", kind: server, trace: byte(g), id: byte(i*2 + 2), parent: byte(i*2 + 1)},
				)
				assert.NoError(t, h.proc.ConsumeTraces(context.Background(), td))
				mu.Lock()
				sent += 2
				mu.Unlock()
			}
		}(g)
	}
	consumers.Wait()
	close(stop)
	reloads.Wait()
	got := 0
	for _, td := range h.sink.AllTraces() {
		got += td.SpanCount()
	}
	assert.Equal(t, int(sent), got, "every span comes out")
	assert.Equal(t, int64(64*20), h.sum("drift.calls", nil))
}

// TestShutdownDuringConsumption: Shutdown while batches are being consumed neither panics nor leaves
// a goroutine behind (goleak checks the package).
func TestShutdownDuringConsumption(t *testing.T) {
	cfg := testConfig(shopIntent)
	cfg.ReloadInterval = time.Millisecond
	h := newHarness(t, cfg)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_ = h.proc.ConsumeTraces(context.Background(), batch(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "x"}}))
			}
		}()
	}
	time.Sleep(time.Millisecond)
	require.NoError(t, h.proc.Shutdown(context.Background()))
	wg.Wait()
}

func TestIntentFileFaultsAtReload(t *testing.T) {
	good, err := os.ReadFile(shopIntent)
	require.NoError(t, err)
	tests := []struct {
		name  string
		fault func(path string)
		want  string
	}{
		{"empty", func(p string) { require.NoError(t, os.WriteFile(p, nil, 0o600)) }, "the intent file is empty"},
		{"truncated mid-write", func(p string) { require.NoError(t, os.WriteFile(p, good[:len(good)/2], 0o600)) }, "intent.yaml:"},
		{"deleted", func(p string) { require.NoError(t, os.Remove(p)) }, "no such file"},
		// root reads any file whatever its mode, so "unreadable" is a path that cannot be read as a file
		{"unreadable", func(p string) { require.NoError(t, os.Remove(p)); require.NoError(t, os.Mkdir(p, 0o700)) }, "is a directory"},
		{"too large", func(p string) {
			require.NoError(t, os.WriteFile(p, append(append([]byte{}, good...), make([]byte, 50<<20)...), 0o600))
		}, "larger than 16 MiB"},
		{"alias bomb", func(p string) {
			bomb := "version: 1\nlayers:\n  - &a [x, x, x, x, x, x, x, x, x]\n  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			require.NoError(t, os.WriteFile(p, []byte(bomb), 0o600))
		}, "expected a string, found a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "intent.yaml")
			require.NoError(t, os.WriteFile(path, good, 0o600))
			h, logs := observedHarness(t, testConfig(path))
			tt.fault(path)
			h.p.reload(context.Background())
			require.Equal(t, 1, logs.Len())
			assert.Contains(t, logs.All()[0].ContextMap()["error"], tt.want)
			h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
			assert.Equal(t, "payment-is-protected", h.attr(1, "drift.rule"), "the last good model judges")
		})
	}
}

// TestReloadStorm: a file rewritten a thousand times, reloaded each time, ends on its last content.
func TestReloadStorm(t *testing.T) {
	cm := newConfigMapDir(t, allowCart)
	h := newHarness(t, testConfig(cm.path))
	for i := 0; i < 1000; i++ {
		if i%2 == 0 {
			cm.update(allowPay)
		} else {
			cm.update(broken)
		}
		h.p.reload(context.Background())
	}
	cm.update(allowPay)
	h.p.reload(context.Background())
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})
	assert.Equal(t, "", h.attr(1, "drift.status"))
	assert.Equal(t, int64(500), h.sum("drift.intent.reloads", map[string]string{"result": "failure"}))
}

// TestFirstSightCannotBeBlinded: 12,000 junk callers of cart fill the share of names outside the
// model; a real forbidden call after them still gets its first-sight line and gauge.
func TestFirstSightCannotBeBlinded(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, testConfig(shopIntent), componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	const flood = 12_000
	for i := 0; i < flood; i += 1000 {
		td := ptrace.NewTraces()
		for j := i; j < i+1000; j++ {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("junk-%d", j))
			s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetKind(ptrace.SpanKindClient)
			s.SetTraceID(pcommon.TraceID{byte(j), byte(j >> 8), 7})
			s.SetSpanID(pcommon.SpanID{byte(j), byte(j >> 8), 7})
			s.Attributes().PutStr("peer.service", "cart")
		}
		h.consumeTraces(td)
	}
	h.now.Add(int64(65 * time.Second))
	h.consume(sp{svc: "frontend", kind: client, id: 1, attrs: map[string]any{"peer.service": "payment"}})

	lines := logs.FilterMessage("Drift seen for the first time").FilterField(zap.String("drift.caller", "frontend")).All()
	require.Len(t, lines, 1, "the real drift's first sight is logged")
	assert.Equal(t, "payment", lines[0].ContextMap()["drift.callee"])
	assert.Equal(t, h.p.engine.Now().Unix(), h.sum("drift.edge.first_seen", map[string]string{"drift.caller": "frontend", "drift.callee": "payment"}))
	junk := 0
	m, err := h.tel.GetMetric("drift.edge.first_seen")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		if v, _ := dp.Attributes.Value("drift.caller"); strings.HasPrefix(v.AsString(), "junk-") {
			junk++
		}
	}
	assert.LessOrEqual(t, junk, 190, "the junk's share of first sights is a tenth of max_series")
	assert.Positive(t, junk)
}

// TestServerSpansRightAfterAStart: for one pairing TTL after a start, a server span whose client
// span never comes (it may have reached this collector before a restart) is counted unresolved
// with its reason, not judged as a call from outside; after that TTL, it is judged so again.
func TestServerSpansRightAfterAStart(t *testing.T) {
	cfg := testConfig(shopIntent)
	h := newJustStartedHarness(t, cfg, componenttest.NewNopHost(), harnessEpoch, nil)
	h.consume(sp{svc: "cart", kind: server, id: 2, parent: 1}) // its client came before the start
	h.now.Add(int64(cfg.Pairing.TTL) / 2)
	h.consume(sp{svc: "cart", kind: server, id: 4, parent: 3})
	h.expireAll()                                              // past the start's grace now
	h.consume(sp{svc: "cart", kind: server, id: 6, parent: 5}) // its client never comes
	h.expireAll()

	assert.Equal(t, int64(2), h.sum("drift.unresolved", map[string]string{"drift.caller": "external", "reason": "client_before_start"}))
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.caller": "external", "drift.callee": "cart"}),
		"only the server span that came after the grace is judged from outside")
	assert.Equal(t, int64(1), h.sum("drift.calls", nil))
}

// TestLatePairsAreCounted: a server span that comes after its client waited out the TTL, and a
// client span that comes after its server did, are counted in drift.pairing.late and warned of once;
// neither call is judged again, and no late server span is judged as a call from outside.
func TestLatePairsAreCounted(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := newHarnessLogging(t, testConfig(shopIntent), componenttest.NewNopHost(), harnessEpoch, zap.New(core))
	h.consume(sp{svc: "frontend", kind: client, trace: 1, id: 1, attrs: map[string]any{"server.address": "10.0.0.7"}}) // only its server names the callee
	h.consume(sp{svc: "cart", kind: server, trace: 2, id: 4, parent: 3})                                               // its client comes late
	h.expireAll()
	judged := h.sum("drift.calls", nil)
	h.consume(sp{svc: "cart", kind: server, trace: 1, id: 2, parent: 1},
		sp{svc: "frontend", kind: client, trace: 2, id: 3, attrs: map[string]any{"peer.service": "cart"}})
	h.expireAll()
	assert.Equal(t, int64(2), h.sum("drift.pairing.late", nil))
	assert.Equal(t, judged, h.sum("drift.calls", nil), "the late sides judge nothing again")
	assert.Equal(t, int64(1), h.sum("drift.calls", map[string]string{"drift.caller": "external"}), "only the first server span, judged at its TTL, is from outside")
	assert.Equal(t, 1, logs.FilterMessageSnippet("waited out pairing.ttl").Len(), "one warning for both")
	assert.Equal(t, 0, h.p.engine.Pending())
}
