package traffic

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

// fuzzRead reads data as format f: it must not panic, an error must name the input, and the spans
// handed over are whole batches the pdata marshaler can write again.
func fuzzRead(t *testing.T, f Format, data []byte) {
	err := Read("fuzz-input", bytes.NewReader(data), f, func(td ptrace.Traces) error {
		var m ptrace.ProtoMarshaler
		if _, err := m.MarshalTraces(td); err != nil {
			t.Fatalf("a batch that cannot be written again: %v", err)
		}
		return nil
	})
	if err != nil && !strings.Contains(err.Error(), "fuzz-input") {
		t.Fatalf("an error that does not name the input: %v", err)
	}
}

func seed(f *testing.F, files ...string) {
	for _, file := range files {
		b, err := os.ReadFile(filepath.Join(capturetest.Dir(), file))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 16<<10 {
			b = b[:16<<10] // a truncated file is a seed too
		}
		f.Add(b)
	}
}

func FuzzReadOTLPJSON(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","kind":3,"name":"x"}]}]}]}` + "\n" + `{"resourceSpans":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, OTLPJSON, data) })
}

func FuzzReadOTLPProto(f *testing.F) {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("x")
	s.SetKind(ptrace.SpanKindClient)
	var m ptrace.ProtoMarshaler
	b, _ := m.MarshalTraces(td)
	f.Add(b)
	f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, OTLPProto, data) })
}

func FuzzReadJaegerJSON(f *testing.F) {
	seed(f, "jaeger/boutique-traces.json")
	f.Add([]byte(`{"data":[{"traceID":"01","spans":[{"traceID":"01","spanID":"02","operationName":"x","references":[{"refType":"CHILD_OF","traceID":"01","spanID":"03"}],"startTime":1,"duration":2,"tags":[{"key":"span.kind","type":"string","value":"client"},{"key":"n","type":"int64","value":3},{"key":"b","type":"binary","value":"AAE="}],"processID":"p1"}],"processes":{"p1":{"serviceName":"a","tags":[]}}}],"total":0}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, JaegerJSON, data) })
}

func FuzzReadZipkinJSON(f *testing.F) {
	seed(f, "zipkin/yelp.json", "zipkin/messaging-kafka.json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, ZipkinJSON, data) })
}
