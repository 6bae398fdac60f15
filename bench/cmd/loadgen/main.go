// Command loadgen sends synthetic traces (internal/synth: many services per trace, the attributes SDKs
// set) to an OTLP/gRPC endpoint at a fixed rate of spans per second, for a while, and prints how many
// spans it sent. Each request holds whole traces, or with -per-service one service's spans, as a
// gateway receives them from each service's SDK or agent: a call's client and server spans then come
// in different requests.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint")
	rate := flag.Int("rate", 20000, "spans per second")
	duration := flag.Duration("duration", 20*time.Second, "how long to send")
	services := flag.Int("services", 200, "services in the synthetic system")
	perService := flag.Bool("per-service", false, "each request holds one service's spans, not whole traces")
	flag.Parse()
	if err := run(*endpoint, *rate, *duration, *services, *perService); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(endpoint string, rate int, duration time.Duration, services int, perService bool) error {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	batches := synthtest.New(services, 10, 1).Batches(50, 500)
	if perService {
		batches = byService(batches)
	}
	ctx := context.Background()
	sent, start := 0, time.Now()
	for i := 0; time.Since(start) < duration; i++ {
		b := batches[i%len(batches)]
		if perService { // each round of the batches, new trace ids: a call's sides pair through the store
			renumber(b, uint32(i/len(batches)))
		}
		// keep to the rate: wait until this batch is due
		if due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second))); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		if _, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(b)); err != nil {
			return err
		}
		sent += b.SpanCount()
	}
	fmt.Println(sent)
	return nil
}

// byService regroups batches into requests of one service's spans each (all of that service's spans
// in the batches, under one resource, as an SDK exports them), in a shuffled order of services.
func byService(batches []ptrace.Traces) []ptrace.Traces {
	requests := map[string]ptrace.SpanSlice{}
	var out []ptrace.Traces
	for _, b := range batches {
		for _, rs := range b.ResourceSpans().All() {
			v, _ := rs.Resource().Attributes().Get("service.name")
			spans, ok := requests[v.Str()]
			if !ok {
				req := ptrace.NewTraces()
				into := req.ResourceSpans().AppendEmpty()
				rs.Resource().CopyTo(into.Resource())
				scope := into.ScopeSpans().AppendEmpty()
				rs.ScopeSpans().At(0).Scope().CopyTo(scope.Scope())
				spans = scope.Spans()
				requests[v.Str()] = spans
				out = append(out, req)
			}
			for _, ss := range rs.ScopeSpans().All() {
				ss.Spans().MoveAndAppendTo(spans)
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// renumber writes round into the first bytes of the trace id of every span in b.
func renumber(b ptrace.Traces, round uint32) {
	for _, rs := range b.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				id := span.TraceID()
				binary.LittleEndian.PutUint32(id[:4], round)
				span.SetTraceID(id)
			}
		}
	}
}
