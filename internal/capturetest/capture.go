// Package capturetest reads the real trace captures shipped in testdata/, for tests, benchmarks and
// the end-to-end checks.
package capturetest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// What the fault-free Online Boutique minute holds (TestBoutiqueFigures counts them from the spans).
const (
	// BoutiqueSpans is the number of spans in the minute.
	BoutiqueSpans = 22969
	// BoutiqueIngress is the requests from outside the traced system: root SERVER spans.
	BoutiqueIngress = 502
	// BoutiqueServiceCalls is the calls between services: SERVER spans whose parent CLIENT span,
	// of another service, is in the minute.
	BoutiqueServiceCalls = 5525
	// BoutiqueSQLCalls is the database calls: CLIENT spans with db.system, which no server answers.
	BoutiqueSQLCalls = 3120
	// BoutiqueCalls is every call of the minute that a judge sees.
	BoutiqueCalls = BoutiqueIngress + BoutiqueServiceCalls + BoutiqueSQLCalls
	// BoutiqueFrontendToCurrency is the calls frontend -> currencyservice: drift under an intent
	// that leaves that dependency out (TestDriftOnRealTraffic and the e2e tests).
	BoutiqueFrontendToCurrency = 1438
)

// Dir is the testdata directory of the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// BoutiqueIntent is the path of the intent model written from the Online Boutique's declared edges.
func BoutiqueIntent() string { return filepath.Join(Dir(), "online-boutique", "intent.yaml") }

// Boutique reads the fault-free Online Boutique minute.
func Boutique() (ptrace.Traces, error) { return ReadGzipJSON(BoutiqueFile()) }

// BoutiqueFile is the path of the fault-free minute (gzipped OTLP/JSON).
func BoutiqueFile() string {
	return filepath.Join(Dir(), "online-boutique", "fault-free-2022-08-23T17-00.otlp.json.gz")
}

// BoutiqueCurrencyFault reads the Online Boutique minute under a CPU-contention fault injected into
// currencyservice at 13:27:51 (2022-08-23).
func BoutiqueCurrencyFault() (ptrace.Traces, error) { return ReadGzipJSON(BoutiqueCurrencyFaultFile()) }

// BoutiqueCurrencyFaultFile is the path of the minute under the currencyservice fault.
func BoutiqueCurrencyFaultFile() string {
	return filepath.Join(Dir(), "online-boutique", "fault-currency-cpu-2022-08-23T13-29.otlp.json.gz")
}

// ReadGzipJSON reads a gzipped OTLP/JSON request.
func ReadGzipJSON(path string) (ptrace.Traces, error) {
	f, err := os.Open(path)
	if err != nil {
		return ptrace.Traces{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("%s: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("%s: %w", path, err)
	}
	return (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(data)
}

// EachSpan calls fn with every span of td and its resource, in order.
func EachSpan(td ptrace.Traces, fn func(pcommon.Resource, ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(rs.Resource(), spans.At(k))
			}
		}
	}
}

// ByTrace splits td into one request per trace, in the order the traces first appear; a trace's
// spans of one service share one resource, as its SDK exports them.
func ByTrace(td ptrace.Traces) []ptrace.Traces {
	index := map[pcommon.TraceID]int{}
	var out []ptrace.Traces
	EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		i, ok := index[s.TraceID()]
		if !ok {
			i = len(out)
			index[s.TraceID()] = i
			out = append(out, ptrace.NewTraces())
		}
		s.CopyTo(scopeOf(out[i], res).Spans().AppendEmpty())
	})
	return out
}

// scopeOf is the scope spans of td's resource that is res (by service.name), added when new.
func scopeOf(td ptrace.Traces, res pcommon.Resource) ptrace.ScopeSpans {
	name, _ := res.Attributes().Get("service.name")
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		if v, _ := rss.At(i).Resource().Attributes().Get("service.name"); v.Str() == name.Str() {
			return rss.At(i).ScopeSpans().At(0)
		}
	}
	rs := rss.AppendEmpty()
	res.CopyTo(rs.Resource())
	return rs.ScopeSpans().AppendEmpty()
}
