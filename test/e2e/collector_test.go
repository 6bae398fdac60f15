// Package e2e runs the ocb-built otelcol-drift binary on loopback ports, sends it real OTLP and
// reads what it exports and what its own metrics endpoint serves.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// binary is the collector under test: $OTELCOL_DRIFT, or the one `make build` leaves in _build.
var binary string

func TestMain(m *testing.M) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	binary = os.Getenv("OTELCOL_DRIFT")
	if binary == "" {
		binary = filepath.Join(root, "_build", "otelcol-drift")
		// make reuses the binary when nothing it is built from changed.
		cmd := exec.Command("make", "-C", root, "build")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: cannot build the collector:", err)
			os.Exit(1)
		}
	}
	if _, err := os.Stat(binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: no collector binary:", err)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		// every collector process, receiver and client the tests started is gone
		if err := goleak.Find(goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// collector is a running otelcol-drift process.
type collector struct {
	t           *testing.T
	cmd         *exec.Cmd
	grpcAddr    string
	metricsAddr string
	out         *syncBuffer
	exited      chan struct{}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collectorConfig is a whole collector configuration; %s are filled by startCollector.
const collectorConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "%s"}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 1024}
  drift:
    intent_file: "%s"
    reload_interval: 200ms
    annotate: drift
    pairing: {ttl: 2s, max_pending: 100000}
  batch: {timeout: 200ms}
exporters:
  otlp_http:
    endpoint: "%s"
service:
  telemetry:
    logs: {level: info, encoding: json}
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, drift, batch]
      exporters: [otlp_http]
`

// startCollector starts the binary; it does not wait for it to be ready.
func startCollector(t *testing.T, intentFile, sinkEndpoint string) *collector {
	t.Helper()
	grpcPort, metricsPort := freePort(t), freePort(t)
	c := &collector{
		t:           t,
		grpcAddr:    fmt.Sprintf("127.0.0.1:%d", grpcPort),
		metricsAddr: fmt.Sprintf("127.0.0.1:%d", metricsPort),
		out:         &syncBuffer{},
		exited:      make(chan struct{}),
	}
	cfgPath := filepath.Join(t.TempDir(), "collector.yaml")
	cfg := fmt.Sprintf(collectorConfig, c.grpcAddr, intentFile, sinkEndpoint, metricsPort)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(binary, "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(c.stop)
	return c
}

func (c *collector) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.t.Errorf("the collector did not stop on SIGINT within 15 s")
	}
	if c.t.Failed() {
		c.t.Logf("collector output:\n%s", c.out.String())
	}
}

// waitExit waits for the process to end by itself and returns its exit code.
func (c *collector) waitExit(timeout time.Duration) (int, bool) {
	select {
	case <-c.exited:
		return c.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// send exports td over OTLP/gRPC, retrying while the collector starts.
func (c *collector) send(ctx context.Context, td ptrace.Traces) error {
	conn, err := grpc.NewClient(c.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err = client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-c.exited:
			return fmt.Errorf("collector exited: %s", c.out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// scrape returns the collector's own metrics in the Prometheus text format.
func (c *collector) scrape() (string, error) {
	resp, err := http.Get("http://" + c.metricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// metricLines returns the lines of a scrape for metric name that contain every part. A counter may
// carry a _total suffix or not, depending on the collector's Prometheus translation strategy.
func metricLines(scrape, name string, parts ...string) []string {
	var out []string
	for _, l := range strings.Split(scrape, "\n") {
		metric, _, _ := strings.Cut(l, "{")
		metric, _, _ = strings.Cut(metric, " ")
		if metric != name && metric != name+"_total" {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// waitMetric waits until the scrape has exactly one line of name with every part, and returns the
// scrape; on timeout it fails with the drift lines it saw.
func (c *collector) waitMetric(name string, parts ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		s, err := c.scrape()
		if err == nil {
			last = s
			if len(metricLines(s, name, parts...)) == 1 {
				return s
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	var drift []string
	for _, l := range strings.Split(last, "\n") {
		if strings.HasPrefix(l, "drift") {
			drift = append(drift, l)
		}
	}
	c.t.Fatalf("no %s line with %q; drift metrics seen:\n%s", name, parts, strings.Join(drift, "\n"))
	return ""
}
