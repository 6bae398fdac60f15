// Command loadgen sends synthetic traces (internal/synth: many services per trace, the attributes SDKs
// set) to an OTLP/gRPC endpoint at a fixed rate of spans per second, for a while, and prints how many
// spans it sent.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/driftprocessor/driftprocessor/internal/synth"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint")
	rate := flag.Int("rate", 20000, "spans per second")
	duration := flag.Duration("duration", 20*time.Second, "how long to send")
	services := flag.Int("services", 200, "services in the synthetic system")
	flag.Parse()
	if err := run(*endpoint, *rate, *duration, *services); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(endpoint string, rate int, duration time.Duration, services int) error {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	batches := synth.New(services, 10, 1).Batches(50, 500)
	ctx := context.Background()
	sent, start := 0, time.Now()
	for i := 0; time.Since(start) < duration; i++ {
		b := batches[i%len(batches)]
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
