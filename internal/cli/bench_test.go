package cli

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/replay"
	"github.com/driftprocessor/driftprocessor/internal/traffic"
)

// recording is the Online Boutique minute one trace per line of OTLP/JSON, as the file exporter
// writes requests (bench/cmd/recording writes the 1 GB one BENCHMARKS.md measures).
func recording(b *testing.B) ([]byte, int) {
	td, err := capturetest.Boutique()
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	var m ptrace.JSONMarshaler
	for _, trace := range capturetest.ByTrace(td) {
		line, err := m.MarshalTraces(trace)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), td.SpanCount()
}

// BenchmarkStream: `driftctl check` on a recording, per span, beside the floor any implementation
// pays, reading the same lines into pdata and nothing more. Run alternated with -count.
func BenchmarkStream(b *testing.B) {
	data, spans := recording(b)
	intentFile := capturetest.BoutiqueIntent()
	b.Run("read-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if err := traffic.Read("bench", bytes.NewReader(data), traffic.Auto, func(td ptrace.Traces) error { n += td.SpanCount(); return nil }); err != nil || n != spans {
				b.Fatal(err, n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			run, err := replay.New(replay.Options{IntentFile: intentFile})
			if err != nil {
				b.Fatal(err)
			}
			if err := traffic.Read("bench", bytes.NewReader(data), traffic.Auto, func(td ptrace.Traces) error { run.Batch(td); return nil }); err != nil {
				b.Fatal(err)
			}
			if r := run.Report(); r.Calls != capturetest.BoutiqueCalls {
				b.Fatal("calls", r.Calls)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
	})
}
