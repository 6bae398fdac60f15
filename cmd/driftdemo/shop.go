package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// shop emits the traces of one request at a time, as the services of testdata/demo/intent.yaml
// would: one tracer per service, real semantic-convention attributes, client and server spans.
type shop struct {
	tracers map[string]trace.Tracer
	rnd     *rand.Rand
	drift   bool // the hotfixes are live
}

// clock hands out increasing timestamps inside one request, so spans nest with plausible durations.
type clock struct{ t time.Time }

func (c *clock) tick(r *rand.Rand, max time.Duration) time.Time {
	c.t = c.t.Add(time.Duration(r.Int64N(int64(max))) + 50*time.Microsecond)
	return c.t
}

// span starts a span of service at the clock's time; end closes it later.
func (s *shop) span(ctx context.Context, c *clock, service, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, func()) {
	ctx, sp := s.tracers[service].Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...),
		trace.WithTimestamp(c.tick(s.rnd, 2*time.Millisecond)))
	return ctx, func() { sp.End(trace.WithTimestamp(c.tick(s.rnd, 5*time.Millisecond))) }
}

// httpCall is a client span in caller and, when callee is instrumented, its server span.
func (s *shop) httpCall(ctx context.Context, c *clock, caller, callee, host string, port int, method, route string, body func(context.Context)) {
	url := fmt.Sprintf("http://%s:%d%s", host, port, route)
	ctx, end := s.span(ctx, c, caller, method, trace.SpanKindClient,
		attribute.String("http.request.method", method), attribute.String("url.full", url),
		attribute.String("server.address", host), attribute.Int("server.port", port))
	defer end()
	if callee == "" {
		return
	}
	ctx, endServer := s.span(ctx, c, callee, method+" "+route, trace.SpanKindServer,
		attribute.String("http.request.method", method), attribute.String("http.route", route),
		attribute.String("url.path", route), attribute.Int("http.response.status_code", 200))
	defer endServer()
	if body != nil {
		body(ctx)
	}
}

// grpcCall is a gRPC client span and its server span.
func (s *shop) grpcCall(ctx context.Context, c *clock, caller, callee, service, method string, body func(context.Context)) {
	attrs := []attribute.KeyValue{attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", service),
		attribute.String("rpc.method", method)}
	ctx, end := s.span(ctx, c, caller, service+"/"+method, trace.SpanKindClient, attrs...)
	defer end()
	ctx, endServer := s.span(ctx, c, callee, service+"/"+method, trace.SpanKindServer, attrs...)
	defer endServer()
	if body != nil {
		body(ctx)
	}
}

func (s *shop) redis(ctx context.Context, c *clock, caller, op string) {
	_, end := s.span(ctx, c, caller, op, trace.SpanKindClient, attribute.String("db.system.name", "redis"),
		attribute.String("db.operation.name", op), attribute.String("server.address", "cart-cache"), attribute.Int("server.port", 6379))
	end()
}

func (s *shop) postgres(ctx context.Context, c *clock, caller, op, table string) {
	_, end := s.span(ctx, c, caller, op+" "+table, trace.SpanKindClient, attribute.String("db.system.name", "postgresql"),
		attribute.String("db.namespace", "catalog"), attribute.String("db.operation.name", op),
		attribute.String("db.collection.name", table), attribute.String("server.address", "catalog-db"))
	end()
}

// request emits one user request, starting at the gateway.
func (s *shop) request(ctx context.Context) trace.SpanContext {
	c := &clock{t: time.Now().Add(-time.Second)}
	ctx, end := s.span(ctx, c, "web-gateway", "GET /shop", trace.SpanKindServer,
		attribute.String("http.request.method", "GET"), attribute.String("http.route", "/shop"))
	root := trace.SpanContextFromContext(ctx)
	s.httpCall(ctx, c, "web-gateway", "storefront", "storefront.shop.svc.cluster.local", 8080, "GET", "/products", func(ctx context.Context) {
		s.storefront(ctx, c)
	})
	end()
	return root
}

func (s *shop) storefront(ctx context.Context, c *clock) {
	s.grpcCall(ctx, c, "storefront", "catalog", "shop.Catalog", "ListProducts", func(ctx context.Context) {
		s.postgres(ctx, c, "catalog", "SELECT", "products")
	})
	s.httpCall(ctx, c, "storefront", "cart", "cart.shop.svc.cluster.local", 8080, "GET", "/cart", func(ctx context.Context) {
		s.redis(ctx, c, "cart", "HGETALL")
	})
	if s.rnd.IntN(4) == 0 {
		s.httpCall(ctx, c, "storefront", "checkout", "checkout", 8080, "POST", "/checkout", func(ctx context.Context) {
			s.checkout(ctx, c)
		})
	}
	if !s.drift {
		return
	}
	switch s.rnd.IntN(6) {
	case 0: // hotfix: the storefront charges cards itself, straight to payments
		s.grpcCall(ctx, c, "storefront", "payments", "shop.Payments", "Charge", nil)
	case 1: // a service nobody declared: recommendations, which reads the catalog
		s.httpCall(ctx, c, "storefront", "recommendations", "recommendations", 8080, "GET", "/recommend", func(ctx context.Context) {
			s.grpcCall(ctx, c, "recommendations", "catalog", "shop.Catalog", "ListProducts", nil)
		})
	case 2: // a shortcut: the storefront reads the cart cache directly
		s.redis(ctx, c, "storefront", "HGETALL")
	}
}

func (s *shop) checkout(ctx context.Context, c *clock) {
	s.httpCall(ctx, c, "checkout", "cart", "cart.shop.svc.cluster.local", 8080, "DELETE", "/cart", nil)
	s.grpcCall(ctx, c, "checkout", "payments", "shop.Payments", "Charge", func(ctx context.Context) {
		s.httpCall(ctx, c, "payments", "", "api.payments.example", 443, "POST", "/v1/charges", nil)
	})
	_, end := s.span(ctx, c, "checkout", "publish orders", trace.SpanKindProducer,
		attribute.String("messaging.system", "kafka"), attribute.String("messaging.destination.name", "orders"),
		attribute.String("messaging.operation.name", "publish"))
	end()
}
