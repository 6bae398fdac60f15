// Package otlpsinktest is a minimal OTLP/HTTP trace receiver for tests and the demo: it accepts
// protobuf ExportTraceServiceRequests on /v1/traces and hands each batch to a callback.
package otlpsinktest

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// maxBody bounds one request.
const maxBody = 64 << 20

// Sink is a running receiver.
type Sink struct {
	Endpoint string // http://host:port, for an otlphttp exporter's endpoint
	srv      *http.Server
	done     chan struct{}
}

// Start listens on addr (such as 127.0.0.1:0) and calls fn for every batch received. fn may be
// called from several goroutines at once.
func Start(addr string, fn func(ptrace.Traces)) (*Sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", func(w http.ResponseWriter, r *http.Request) {
		var in io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			in = zr
		}
		body, err := io.ReadAll(io.LimitReader(in, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fn(req.Traces())
		resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	})
	s := &Sink{
		Endpoint: "http://" + ln.Addr().String(),
		srv:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns ErrServerClosed on Close
	}()
	return s, nil
}

// Close stops the receiver and waits for it.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
