// Command recording writes a large recording for driftctl's streaming figures: the Online Boutique
// minute, again and again, one trace per line of OTLP/JSON (as contrib's file exporter writes
// requests), each copy with trace ids of its own and its times a minute later, until the file holds
// at least -size bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
)

func main() {
	out := flag.String("o", "recording.json", "the file to write")
	size := flag.Int64("size", 1<<30, "at least this many bytes")
	flag.Parse()
	td, err := capturetest.Boutique()
	if err != nil {
		log.Fatal(err)
	}
	traces := capturetest.ByTrace(td)
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 4<<20)
	var written, spans int64
	var m ptrace.JSONMarshaler
	for c := 0; written < *size; c++ {
		for _, t := range traces {
			one := ptrace.NewTraces()
			t.CopyTo(one)
			shift(one, c)
			b, err := m.MarshalTraces(one)
			if err != nil {
				log.Fatal(err)
			}
			n, _ := w.Write(b)
			_ = w.WriteByte('\n')
			written += int64(n) + 1
			spans += int64(one.SpanCount())
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes, %d spans\n", *out, written, spans)
}

// shift gives copy c trace ids of its own and moves it c minutes later.
func shift(td ptrace.Traces, c int) {
	d := pcommon.Timestamp(time.Duration(c) * time.Minute)
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		id := s.TraceID()
		id[0] ^= byte(c)
		id[1] ^= byte(c >> 8)
		s.SetTraceID(id)
		s.SetStartTimestamp(s.StartTimestamp() + d)
		s.SetEndTimestamp(s.EndTimestamp() + d)
	})
}
