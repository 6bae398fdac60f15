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
	traces := byTrace(td)
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

// byTrace splits the minute into one request per trace, in the order the traces first appear.
func byTrace(td ptrace.Traces) []ptrace.Traces {
	index := map[pcommon.TraceID]int{}
	var out []ptrace.Traces
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		i, ok := index[s.TraceID()]
		if !ok {
			i = len(out)
			index[s.TraceID()] = i
			out = append(out, ptrace.NewTraces())
		}
		s.CopyTo(spansOf(out[i], res).Spans().AppendEmpty())
	})
	return out
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

// spansOf is the scope spans of td's resource that is res (by service.name), added when new: a
// trace's spans of one service are one resource's, as its SDK exports them.
func spansOf(td ptrace.Traces, res pcommon.Resource) ptrace.ScopeSpans {
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
