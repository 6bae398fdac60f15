// Package shop is a small real system for the demo: six Go services (and a seventh that a hotfix
// brings) on loopback ports, calling each other over HTTP and gRPC with the standard OpenTelemetry
// instrumentation, reading SQLite databases through an instrumented driver, and passing orders
// through a queue. Its declared design is testdata/demo/intent.yaml.
package shop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// propagator carries trace context across HTTP, gRPC and queue messages.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// service is what every service of the shop has: its own TracerProvider, as it would in its own
// process, and an HTTP client instrumented with it.
type service struct {
	name   string
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	client *http.Client
	close  []func(context.Context) error
}

func newService(ctx context.Context, name, otlp string) (*service, error) {
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(otlp), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(300*time.Millisecond)),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(name), semconv.ServiceNamespace("demo-shop"))),
	)
	s := &service{
		name:   name,
		tp:     tp,
		tracer: tp.Tracer("github.com/driftprocessor/driftprocessor/demo/shop"),
		client: &http.Client{
			Transport: otelhttp.NewTransport(http.DefaultTransport.(*http.Transport).Clone(),
				otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator)),
			Timeout: 5 * time.Second,
		},
	}
	s.close = append(s.close, tp.Shutdown)
	return s, nil
}

// serveHTTP serves mux on a loopback port with the server instrumentation and returns its address.
func (s *service) serveHTTP(mux *http.ServeMux) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           otelhttp.NewHandler(mux, s.name, otelhttp.WithTracerProvider(s.tp), otelhttp.WithPropagators(propagator)),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	s.close = append([]func(context.Context) error{srv.Shutdown}, s.close...)
	return "http://" + ln.Addr().String(), nil
}

// do sends an HTTP request and reads the answer.
func (s *service) do(ctx context.Context, method, url string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return errors.New(method + " " + url + ": " + resp.Status)
	}
	return nil
}

func (s *service) shutdown(ctx context.Context) error {
	var errs []error
	for _, c := range s.close {
		errs = append(errs, c(ctx))
	}
	s.client.CloseIdleConnections()
	return errors.Join(errs...)
}
