package traffic

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

// collect reads a file and returns its batches.
func collect(t *testing.T, path string) []ptrace.Traces {
	t.Helper()
	var got []ptrace.Traces
	require.NoError(t, ReadFile(path, Auto, func(td ptrace.Traces) error { got = append(got, td); return nil }))
	return got
}

func spans(batches []ptrace.Traces) (n int) {
	for _, td := range batches {
		n += td.SpanCount()
	}
	return n
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// byResource splits a request into one request per resource, as an exporter's batches are.
func byResource(td ptrace.Traces) []ptrace.Traces {
	var out []ptrace.Traces
	for i := range td.ResourceSpans().Len() {
		one := ptrace.NewTraces()
		td.ResourceSpans().At(i).CopyTo(one.ResourceSpans().AppendEmpty())
		out = append(out, one)
	}
	return out
}

// TestOTLPJSON: a whole request (the Online Boutique minute, gzipped), and the same spans one
// request per line as the file exporter writes them: the same spans either way.
func TestOTLPJSON(t *testing.T) {
	whole := collect(t, capturetest.BoutiqueFile())
	require.Len(t, whole, 1)
	assert.Equal(t, capturetest.BoutiqueSpans, whole[0].SpanCount())

	var lines bytes.Buffer
	var m ptrace.JSONMarshaler
	parts := byResource(whole[0])
	for _, td := range parts {
		b, err := m.MarshalTraces(td)
		require.NoError(t, err)
		lines.Write(b)
		lines.WriteByte('\n')
	}
	got := collect(t, write(t, "lines.json", lines.Bytes()))
	assert.Len(t, got, len(parts), "one batch per line")
	assert.Equal(t, capturetest.BoutiqueSpans, spans(got))
	for i := range got {
		assert.Equal(t, parts[i], got[i])
	}
}

// TestOTLPProto: one message, and the file exporter's frames (a big-endian length before each).
func TestOTLPProto(t *testing.T) {
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	var m ptrace.ProtoMarshaler
	b, err := m.MarshalTraces(td)
	require.NoError(t, err)
	got := collect(t, write(t, "one.pb", b))
	require.Len(t, got, 1)
	assert.Equal(t, td, got[0])

	var framed bytes.Buffer
	parts := byResource(td)
	for _, p := range parts {
		b, err := m.MarshalTraces(p)
		require.NoError(t, err)
		framed.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		framed.Write(b)
	}
	got = collect(t, write(t, "framed.pb", framed.Bytes()))
	assert.Len(t, got, len(parts))
	assert.Equal(t, capturetest.BoutiqueSpans, spans(got))
}

// TestZipkinReal: the production captures through contrib's translator, with the remote
// endpoint's service as the peer a CLIENT span names.
func TestZipkinReal(t *testing.T) {
	dir := filepath.Join(capturetest.Dir(), "zipkin")
	for file, want := range map[string]int{"yelp.json": 16, "messaging-kafka.json": 28, "smartthings-mobile-web-install.json.gz": 1041} {
		got := collect(t, filepath.Join(dir, file))
		assert.Equal(t, want, spans(got), file)
	}
	yelp := collect(t, filepath.Join(dir, "yelp.json"))[0]
	peers := map[string]bool{}
	capturetest.EachSpan(yelp, func(_ pcommon.Resource, s ptrace.Span) {
		for _, k := range []string{"peer.service", "service.peer.name"} { // the translator's feature gate picks one
			if v, ok := s.Attributes().Get(k); ok {
				peers[v.Str()] = true
			}
		}
	})
	assert.True(t, peers["blt"], "yelp's mobile_api -> blt client span names its peer: %v", peers)

	err := ReadFile(filepath.Join(dir, "smartthings-oauth-authorization.json"), Auto, func(ptrace.Traces) error { return nil })
	require.Error(t, err, "the capture writes an IPv4 address as 52.0.0.04, which the translator refuses")
	assert.Contains(t, err.Error(), "smartthings-oauth-authorization.json")
	assert.Contains(t, err.Error(), "52.0.0.04")
}

// TestBrokenInputs: a truncated or malformed file of each format is an error that names the file
// and the place, and nothing is handed over from the broken piece.
func TestBrokenInputs(t *testing.T) {
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	var pm ptrace.ProtoMarshaler
	pb, err := pm.MarshalTraces(byResource(td)[0])
	require.NoError(t, err)
	framed := append(binary.BigEndian.AppendUint32(nil, uint32(len(pb))), pb...)
	line := `{"resourceSpans":[]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(line + "\n" + line[:10]))
	require.NoError(t, zw.Close())

	for name, c := range map[string]struct {
		data  []byte
		place string
	}{
		"otlp-line":        {[]byte(line + "\n" + line + "\n{\"resourceSpans\": [{]}\n"), ":3: "},
		"otlp-whole":       {[]byte("{\n \"resourceSpans\": [\n"), ":1: "},
		"otlp-gzip":        {gz.Bytes(), ":2: "},
		"proto-frame":      {append(framed, framed[:len(framed)/2]...), "byte " + strconv.Itoa(len(framed))},
		"proto-length":     {append(framed, 0, 0), "truncated length"},
		"proto-message":    {pb[:len(pb)/2], "byte 0"},
		"jaeger":           {[]byte(`{"data":[{"traceID":"1","spans":[{"traceID":"zz","spanID":"1","processID":"p1"}],"processes":{"p1":{"serviceName":"a"}}}]}`), "data[0]: spans[0]: traceID"},
		"jaeger-process":   {[]byte(`{"data":[{"traceID":"1","spans":[{"traceID":"1","spanID":"1","processID":"p9"}],"processes":{}}]}`), `processID "p9"`},
		"jaeger-truncated": {[]byte(`{"data":[{"traceID":"1","spans":[`), "byte "},
		"zipkin":           {[]byte(`[{"traceId": "1", "id": `), "byte 0"},
		"unknown-json":     {[]byte(`{"spans": []}`), `key "spans"`},
		"empty":            {nil, "empty file"},
	} {
		t.Run(name, func(t *testing.T) {
			path := write(t, name, c.data)
			handed := 0
			err := ReadFile(path, Auto, func(td ptrace.Traces) error { handed += td.SpanCount(); return nil })
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), c.place)
		})
	}
}
