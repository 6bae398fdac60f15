package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/collectortest"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

// TestDriftSearchedInJaeger: the Online Boutique minute (moved to now) with two planned drifts
// goes through otelcol-drift to a real Jaeger. Jaeger's own query API, searched by the tags
// DEPLOYMENT.md gives, finds exactly the traces that an independent walk of the raw spans says
// hold each drift, and no other trace; `driftctl check --jaeger` reads the same traces back and
// gives the collector's drift.calls.
func TestDriftSearchedInJaeger(t *testing.T) {
	jaeger := collectortest.StartJaeger(t)
	intentFile := plannedDriftIntent(t)
	col := collectortest.Start(t, binary, judgingConfig(intentFile, `  otlp_http: {endpoint: "`+jaeger.OTLP+`"}`, "otlp_http"))

	td, err := capturetest.Boutique()
	require.NoError(t, err)
	toNow(td)
	want := plannedDriftTraces(td)
	require.NotEmpty(t, want["undeclared_dependency"])
	require.NotEmpty(t, want["forbidden_dependency"])
	for _, b := range chunks(td, 40) {
		require.NoError(t, col.Send(context.Background(), b))
	}
	var byCollector map[verdictKey]int64
	require.Eventually(t, func() bool {
		scrape, err := col.Scrape()
		if err != nil || !strings.Contains(scrape, "drift_pairing_pending 0") {
			return false
		}
		byCollector = promCounts(scrape, "drift_calls")
		return total(byCollector) == capturetest.BoutiqueCalls
	}, 60*time.Second, 500*time.Millisecond)
	col.Stop() // flushes what the exporter holds
	require.Eventually(t, func() bool {
		return len(searchJaeger(t, jaeger.Query, map[string]string{"drift.status": "drift"})) >= len(want["undeclared_dependency"])
	}, 30*time.Second, 500*time.Millisecond, "Jaeger has the spans")

	// the searches of DEPLOYMENT.md
	assert.Equal(t, want["undeclared_dependency"], searchJaeger(t, jaeger.Query, map[string]string{"drift.status": "drift", "drift.kind": "undeclared_dependency"}))
	assert.Equal(t, want["forbidden_dependency"], searchJaeger(t, jaeger.Query, map[string]string{"drift.rule": "ads-from-memory"}))
	all := map[string]bool{}
	for _, ids := range want {
		for id := range ids {
			all[id] = true
		}
	}
	assert.Equal(t, all, searchJaeger(t, jaeger.Query, map[string]string{"drift.status": "drift"}), "every drifting trace, and no conforming one")
	assert.Empty(t, searchJaeger(t, jaeger.Query, map[string]string{"drift.kind": "layer_violation"}), "no drift that was not planned")

	cmd := exec.Command(driftctl(t), "check", "--intent", intentFile, "--format", "json", "--jaeger", jaeger.Query, "--lookback", "2h")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	var r report.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &r), stderr.String())
	assert.EqualValues(t, capturetest.BoutiqueSpans, r.Spans, "every trace read back once")
	byCLI := map[verdictKey]int64{}
	for _, e := range r.Edges {
		byCLI[verdictKey{e.Caller, e.Callee, e.Status, e.Kind}] += e.Calls
	}
	assert.Equal(t, byCollector, byCLI, "driftctl --jaeger and the collector's drift.calls")
}

// toNow moves the minute's spans so that it ends now, as live traffic would.
func toNow(td ptrace.Traces) {
	var last pcommon.Timestamp
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) { last = max(last, s.EndTimestamp()) })
	d := pcommon.NewTimestampFromTime(time.Now()) - last
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		s.SetStartTimestamp(s.StartTimestamp() + d)
		s.SetEndTimestamp(s.EndTimestamp() + d)
	})
}

// plannedDriftTraces walks the raw spans: the traces with a frontend -> currencyservice call (a
// currencyservice SERVER span under a frontend span) and those with an adservice database call.
func plannedDriftTraces(td ptrace.Traces) map[string]map[string]bool {
	service := map[pcommon.SpanID]string{}
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		v, _ := res.Attributes().Get("service.name")
		service[s.SpanID()] = v.Str()
	})
	out := map[string]map[string]bool{"undeclared_dependency": {}, "forbidden_dependency": {}}
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		v, _ := res.Attributes().Get("service.name")
		_, db := s.Attributes().Get("db.system")
		switch {
		case v.Str() == "currencyservice" && s.Kind() == ptrace.SpanKindServer && service[s.ParentSpanID()] == "frontend":
			out["undeclared_dependency"][s.TraceID().String()] = true
		case v.Str() == "adservice" && s.Kind() == ptrace.SpanKindClient && db:
			out["forbidden_dependency"][s.TraceID().String()] = true
		}
	})
	return out
}

// searchJaeger runs a Search with these tags for every service Jaeger knows, as the UI does one
// service at a time, and returns the trace ids found.
func searchJaeger(t *testing.T, base string, tags map[string]string) map[string]bool {
	var services struct {
		Data []string `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(get(t, base+"/api/services")), &services))
	tagJSON, _ := json.Marshal(tags)
	end := time.Now().Add(time.Minute)
	found := map[string]bool{}
	for _, s := range services.Data {
		q := url.Values{"service": {s}, "tags": {string(tagJSON)}, "limit": {"2000"},
			"start": {strconv.FormatInt(end.Add(-2*time.Hour).UnixMicro(), 10)}, "end": {strconv.FormatInt(end.UnixMicro(), 10)}}
		resp, err := http.Get(base + "/api/traces?" + q.Encode())
		require.NoError(t, err)
		var body struct {
			Data []struct {
				TraceID string `json:"traceID"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		require.NoError(t, err)
		for _, tr := range body.Data {
			found[tr.TraceID] = true
		}
	}
	return found
}
