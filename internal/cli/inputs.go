package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/traffic"
)

// inputs are where traffic comes from: files, or a running Jaeger's query API.
type inputs struct {
	format   string
	jaeger   string
	services list
	lookback string
	limit    int
	files    []string
}

func (in *inputs) flags(fs *flag.FlagSet) {
	fs.StringVar(&in.format, "input-format", "auto", "format of FILES: auto, otlp-json, otlp-proto, jaeger-json, zipkin-json")
	fs.StringVar(&in.jaeger, "jaeger", "", "read traces from the Jaeger query API at this URL (http://host:16686) instead of files")
	fs.Var(&in.services, "service", "with --jaeger: the service whose traces to read (repeatable; default every service Jaeger knows)")
	fs.StringVar(&in.lookback, "lookback", "1h", "with --jaeger: how far back")
	fs.IntVar(&in.limit, "limit", 1000, "with --jaeger: at most this many traces per service")
}

func (in *inputs) check() error {
	if _, err := traffic.ParseFormat(in.format); err != nil {
		return err
	}
	if in.jaeger == "" && len(in.files) == 0 {
		return fmt.Errorf("no traffic: give FILES, or --jaeger URL")
	}
	if in.jaeger != "" && len(in.files) > 0 {
		return fmt.Errorf("give FILES or --jaeger, not both")
	}
	return nil
}

// read hands every batch of the inputs to fn, in order.
func (in *inputs) read(fn traffic.Batch) error {
	if in.jaeger != "" {
		return in.readJaeger(fn)
	}
	f, _ := traffic.ParseFormat(in.format)
	for _, path := range in.files {
		var err error
		if path == "-" {
			err = traffic.Read("(stdin)", os.Stdin, f, fn)
		} else {
			err = traffic.ReadFile(path, f, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readJaeger reads the traces of each service from Jaeger's query API (/api/traces, the answer its
// UI reads), each trace once though several services' searches find it.
func (in *inputs) readJaeger(fn traffic.Batch) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	services := []string(in.services)
	if len(services) == 0 {
		var err error
		if services, err = jaegerServices(ctx, in.jaeger); err != nil {
			return err
		}
	}
	lookback, err := time.ParseDuration(in.lookback)
	if err != nil || lookback <= 0 {
		return fmt.Errorf("--lookback %q: not a positive duration (such as 1h)", in.lookback)
	}
	end := time.Now()
	seen := map[pcommon.TraceID]bool{}
	for _, s := range services {
		// the window as start and end, in µs, as the Jaeger UI sends it
		q := url.Values{"service": {s}, "limit": {strconv.Itoa(in.limit)},
			"start": {strconv.FormatInt(end.Add(-lookback).UnixMicro(), 10)}, "end": {strconv.FormatInt(end.UnixMicro(), 10)}}
		u := in.jaeger + "/api/traces?" + q.Encode()
		if err := getJaeger(ctx, u, func(td ptrace.Traces) error {
			id := firstTraceID(td)
			if seen[id] {
				return nil
			}
			seen[id] = true
			return fn(td)
		}); err != nil {
			return err
		}
	}
	return nil
}

func firstTraceID(td ptrace.Traces) pcommon.TraceID {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			if spans := sss.At(j).Spans(); spans.Len() > 0 {
				return spans.At(0).TraceID()
			}
		}
	}
	return pcommon.TraceID{}
}

func jaegerServices(ctx context.Context, base string) ([]string, error) {
	var body struct {
		Data []string `json:"data"`
	}
	resp, err := jaegerGet(ctx, base+"/api/services")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s/api/services: %w", base, err)
	}
	return body.Data, nil
}

func getJaeger(ctx context.Context, u string, fn traffic.Batch) error {
	resp, err := jaegerGet(ctx, u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return traffic.Read(u, resp.Body, traffic.JaegerJSON, fn)
}

func jaegerGet(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	return resp, nil
}
