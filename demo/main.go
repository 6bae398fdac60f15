// Command driftdemo runs a small real shop (package shop) whose traces go through a collector with
// the drift processor, and shows, plainly, the drift that the collector finds: each drifting edge
// once when it first appears, and a periodic summary read from the collector's own metrics.
//
// It receives what the collector exports over OTLP/HTTP.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/demo/shop"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/otlpsinktest"
)

func main() {
	otlp := flag.String("otlp", "127.0.0.1:4317", "the collector's OTLP/gRPC endpoint")
	listen := flag.String("listen", "127.0.0.1:4320", "where to receive the collector's OTLP/HTTP export")
	metrics := flag.String("metrics", "http://127.0.0.1:8888/metrics", "the collector's own metrics endpoint")
	rate := flag.Int("rate", 10, "user requests per second")
	driftAfter := flag.Duration("drift-after", 10*time.Second, "when the hotfixes go live")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	every := flag.Duration("summary", 5*time.Second, "how often to print the summary")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if err := run(ctx, *otlp, *listen, *metrics, *rate, *driftAfter, *every); err != nil {
		fmt.Fprintln(os.Stderr, "driftdemo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, otlp, listen, metricsURL string, rate int, driftAfter, every time.Duration) error {
	w := newWatcher(os.Stdout)
	sink, err := otlpsinktest.Start(listen, w.batch)
	if err != nil {
		return fmt.Errorf("listening for the collector's export: %w", err)
	}
	defer sink.Close()

	dir, err := os.MkdirTemp("", "driftdemo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := shop.Start(ctx, otlp, dir)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(cctx)
	}()
	fmt.Printf("driftdemo: the shop runs (storefront, catalog, cart, checkout, payments, fulfilment); %d requests/s; traces to %s\n", rate, otlp)
	fmt.Printf("driftdemo: hotfixes go live after %s. Ctrl-C stops.\n", driftAfter)
	fmt.Printf("driftdemo: the collector's own metrics: %s\n\n", metricsURL)

	hotfix := time.After(driftAfter)
	requests := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	summary := time.NewTicker(every)
	defer requests.Stop()
	defer summary.Stop()
	// A request is not cut short when the demo stops: a call cancelled half-way leaves a client span
	// whose server span never comes, which the collector would rightly judge without it.
	reqCtx := context.WithoutCancel(ctx)
	var inFlight sync.WaitGroup
	for {
		select {
		case <-ctx.Done():
			requests.Stop()
			inFlight.Wait()
			time.Sleep(2 * time.Second) // let the last export come back
			w.summary(metricsURL)
			return nil
		case <-hotfix:
			s.EnableHotfixes()
			fmt.Println("driftdemo: hotfixes are live: storefront -> payments, a new recommendations service, a retry loop, cart reading the catalog database")
		case <-requests.C:
			inFlight.Go(func() { _ = s.Request(reqCtx) })
		case <-summary.C:
			w.summary(metricsURL)
		}
	}
}

// watcher prints each drifting edge once, when it first comes back from the collector.
type watcher struct {
	mu   sync.Mutex
	out  io.Writer
	seen map[string]bool
}

func newWatcher(out io.Writer) *watcher { return &watcher{out: out, seen: map[string]bool{}} }

func (w *watcher) batch(td ptrace.Traces) {
	w.mu.Lock()
	defer w.mu.Unlock()
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) { w.span(s) })
}

func (w *watcher) span(s ptrace.Span) {
	a := s.Attributes()
	get := func(k string) string {
		if v, ok := a.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	if get("drift.status") != "drift" {
		return
	}
	edge := get("drift.caller") + " -> " + get("drift.callee") + " " + get("drift.kind")
	if w.seen[edge] {
		return
	}
	w.seen[edge] = true
	fmt.Fprintf(w.out, "DRIFT  %s -> %s\n       kind: %s   rule: %s   severity: %s\n       %s\n       trace: %s\n\n",
		get("drift.caller"), get("drift.callee"), get("drift.kind"), get("drift.rule"), get("drift.severity"),
		get("drift.message"), s.TraceID())
}

// summary prints calls judged, conforming and drifting by kind, from the collector's own metrics.
func (w *watcher) summary(metricsURL string) {
	resp, err := http.Get(metricsURL)
	if err != nil {
		fmt.Fprintf(w.out, "summary: cannot read %s: %v\n", metricsURL, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	total, conforming, byKind := parseCalls(string(body))
	var kinds []string
	for k, n := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "summary: %d calls judged, %d conforming, %d drifting", total, conforming, total-conforming)
	if len(kinds) > 0 {
		fmt.Fprintf(w.out, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w.out)
}

// parseCalls sums the drift_calls series of a Prometheus text scrape.
func parseCalls(scrape string) (total, conforming int64, byKind map[string]int64) {
	byKind = map[string]int64{}
	for _, line := range strings.Split(scrape, "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || (name != "drift_calls" && name != "drift_calls_total") {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		var n int64
		fmt.Sscan(value, &n)
		total += n
		if strings.Contains(labels, `drift_status="conforming"`) {
			conforming += n
			continue
		}
		if _, k, ok := strings.Cut(labels, `drift_kind="`); ok {
			kind, _, _ := strings.Cut(k, `"`)
			byKind[kind] += n
		}
	}
	return total, conforming, byKind
}
