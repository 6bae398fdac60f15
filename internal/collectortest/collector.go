// Package collectortest runs the ocb-built otelcol-drift binary for tests: on free loopback ports,
// fed over OTLP/gRPC, its own metrics endpoint scraped.
package collectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Binary returns the collector to test: $OTELCOL_DRIFT, or the one `make build` leaves in the
// repository's _build (running make, which rebuilds it only when a source changed).
func Binary(root string) (string, error) {
	if b := os.Getenv("OTELCOL_DRIFT"); b != "" {
		return b, nil
	}
	cmd := exec.Command("make", "-C", root, "build")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the collector: %w", err)
	}
	b := filepath.Join(root, "_build", "otelcol-drift")
	_, err := os.Stat(b)
	return b, err
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Collector is a running otelcol-drift process.
type Collector struct {
	t           testing.TB
	cmd         *exec.Cmd
	binary      string
	cfgPath     string
	GRPCAddr    string // OTLP/gRPC
	MetricsAddr string // the collector's own metrics, host:port
	Out         *syncBuffer
	exited      chan struct{}
}

// syncBuffer is the output of the process, safe to read while it writes.
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

// Start starts the binary on config, a whole collector configuration in which {{GRPC}} and
// {{METRICS}} stand for free loopback ports (OTLP/gRPC and the collector's own metrics). It does not
// wait for the collector to be ready; Send retries until it is.
func Start(t testing.TB, binary, config string) *Collector {
	t.Helper()
	grpcPort, metricsPort := FreePort(t), FreePort(t)
	c := &Collector{
		t:           t,
		GRPCAddr:    fmt.Sprintf("127.0.0.1:%d", grpcPort),
		MetricsAddr: fmt.Sprintf("127.0.0.1:%d", metricsPort),
		Out:         &syncBuffer{},
	}
	config = strings.NewReplacer("{{GRPC}}", c.GRPCAddr, "{{METRICS}}", strconv.Itoa(metricsPort)).Replace(config)
	cfgPath := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.binary, c.cfgPath = binary, cfgPath
	c.start()
	t.Cleanup(c.Stop)
	return c
}

func (c *Collector) start() {
	c.cmd = exec.Command(c.binary, "--config", c.cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = c.Out, c.Out
	c.exited = make(chan struct{})
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	cmd, exited := c.cmd, c.exited
	go func() { _ = cmd.Wait(); close(exited) }()
}

// Kill ends the collector at once (SIGKILL), as a crash would: nothing is flushed.
func (c *Collector) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Restart starts the collector again, on the same ports with the same configuration, after Kill or
// Stop.
func (c *Collector) Restart() {
	<-c.exited
	c.start()
}

// Stop interrupts the collector and waits for it to end (it is also stopped when the test ends).
func (c *Collector) Stop() {
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
		c.t.Logf("collector output:\n%s", c.Out.String())
	}
}

// WaitExit waits for the process to end by itself and returns its exit code.
func (c *Collector) WaitExit(timeout time.Duration) (int, bool) {
	select {
	case <-c.exited:
		return c.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// Send exports td over OTLP/gRPC, retrying while the collector starts.
func (c *Collector) Send(ctx context.Context, td ptrace.Traces) error {
	conn, err := grpc.NewClient(c.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
			return fmt.Errorf("collector exited: %s", c.Out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Scrape returns the collector's own metrics in the Prometheus text format.
func (c *Collector) Scrape() (string, error) {
	resp, err := http.Get("http://" + c.MetricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// MetricLines returns the lines of a scrape for metric name that contain every part. A counter may
// carry a _total suffix or not, depending on the collector's Prometheus translation strategy.
func MetricLines(scrape, name string, parts ...string) []string {
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

// Point is one line of a Prometheus scrape: its labels and its value.
type Point struct {
	Labels map[string]string
	Value  float64
}

var promLabel = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// Points returns the points of metric name in a scrape (a counter with or without _total), each
// line that holds every part.
func Points(scrape, name string, parts ...string) []Point {
	var out []Point
	for _, line := range MetricLines(scrape, name, parts...) {
		p := Point{Labels: map[string]string{}}
		rest := line
		if open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}'); open >= 0 && end > open {
			for _, m := range promLabel.FindAllStringSubmatch(line[open:end], -1) {
				p.Labels[m[1]] = m[2]
			}
			rest = line[end+1:]
		} else if _, after, ok := strings.Cut(line, " "); ok {
			rest = after
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		p.Value = v
		out = append(out, p)
	}
	return out
}

// WaitMetric waits until the scrape has exactly one line of name with every part, and returns the
// scrape; on timeout it fails with the drift lines it saw.
func (c *Collector) WaitMetric(name string, parts ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		s, err := c.Scrape()
		if err == nil {
			last = s
			if len(MetricLines(s, name, parts...)) == 1 {
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

// StartPrometheus runs a Prometheus server (binary) on a free loopback port, scraping the targets
// every second, and returns its URL. It is stopped when the test ends.
func StartPrometheus(t testing.TB, binary string, targets ...string) string {
	t.Helper()
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, target := range targets {
		quoted[i] = strconv.Quote(target)
	}
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: otelcol-drift\n    static_configs: [{targets: [%s]}]\n", strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	cmd := exec.Command(binary, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	runUntilCleanup(t, "prometheus", cmd)
	return "http://" + addr
}

// runUntilCleanup starts cmd and stops it (an interrupt, then a kill after 10 s) when the test
// ends, logging its output if the test failed. done is closed when it exits.
func runUntilCleanup(t testing.TB, name string, cmd *exec.Cmd) (out fmt.Stringer, done <-chan struct{}) {
	t.Helper()
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, buf.String())
		}
	})
	return buf, exited
}

// Query runs an instant query against a Prometheus server and returns the label sets of its
// result, each with "value" holding the sample's value; nil when the query fails.
func Query(promURL, query string) []map[string]string {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		return nil
	}
	out := make([]map[string]string, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		if len(r.Value) == 2 {
			r.Metric["value"] = fmt.Sprint(r.Value[1])
		}
		out = append(out, r.Metric)
	}
	return out
}
