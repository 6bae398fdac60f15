package otlpsinktest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestReceivesPlainAndGzip(t *testing.T) {
	var mu sync.Mutex
	spans := 0
	s, err := Start("127.0.0.1:0", func(td ptrace.Traces) { mu.Lock(); spans += td.SpanCount(); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("x")
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(body)
	_ = zw.Close()
	client := &http.Client{Transport: &http.Transport{}}
	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodPost, s.Endpoint+"/v1/traces", bytes.NewReader(body))
		if gz {
			req, _ = http.NewRequest(http.MethodPost, s.Endpoint+"/v1/traces", bytes.NewReader(zipped.Bytes()))
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	resp, err := client.Post(s.Endpoint+"/v1/traces", "application/x-protobuf", bytes.NewReader([]byte("not otlp")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad body gives status %d", resp.StatusCode)
	}
	client.CloseIdleConnections()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if spans != 2 {
		t.Fatalf("%d spans received", spans)
	}
}
