package collectortest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Jaeger is a Jaeger v2 (in-memory storage) on loopback ports.
type Jaeger struct {
	Query string // the query API and UI, http://127.0.0.1:port
	OTLP  string // its OTLP/HTTP receiver, http://127.0.0.1:port
}

// StartJaeger runs the Jaeger binary (make jaeger builds it; the JAEGER variable names it) until
// the test ends, and waits for its query API.
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	binary := os.Getenv("JAEGER")
	if binary == "" {
		t.Fatal("JAEGER names no Jaeger binary: run through `make e2e`, or set JAEGER=bin/jaeger-v1.76.0 (make jaeger)")
	}
	j := &Jaeger{Query: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)), OTLP: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t))}
	config := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}
  telemetry:
    metrics: {level: none}
    logs: {level: warn}
extensions:
  jaeger_storage:
    backends:
      memory: {memory: {max_traces: 100000}}
  jaeger_query:
    storage: {traces: memory}
    enable_tracing: false
    http: {endpoint: "%s"}
    grpc: {endpoint: "127.0.0.1:%d"}
receivers:
  otlp:
    protocols:
      http: {endpoint: "%s"}
exporters:
  jaeger_storage_exporter: {trace_storage: memory}
`, j.Query[len("http://"):], FreePort(t), j.OTLP[len("http://"):])
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	out, done := runUntilCleanup(t, "jaeger", exec.Command(binary, "--config", path))
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(j.Query + "/api/services")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return j
			}
		}
		select {
		case <-done:
			t.Fatalf("jaeger exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger's query API did not answer: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
