package shop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

// Shop is the running system.
type Shop struct {
	storefront, catalog, cart, checkout, payments, fulfilment, recommendations *service

	storefrontURL, cartURL, checkoutURL, recommendationsURL        string
	catalogConn, paymentsConn, recoCatalogConn, hotfixPaymentsConn *grpc.ClientConn
	catalogDB, cartDB, cartReadsCatalogDB                          *sql.DB
	orders                                                         chan order
	visitor                                                        *http.Client
	hotfixes                                                       atomic.Bool
	rnd                                                            *rand.Rand
	rndMu                                                          sync.Mutex
	consumer                                                       sync.WaitGroup
}

// order is a message on the orders queue, with the trace context of its producer.
type order struct {
	id      int
	headers propagation.MapCarrier
}

// Start starts every service; their spans go to the OTLP/gRPC endpoint otlp. dir holds the databases.
func Start(ctx context.Context, otlp, dir string) (*Shop, error) {
	s := &Shop{orders: make(chan order, 100), rnd: rand.New(rand.NewPCG(7, 11)), visitor: &http.Client{Transport: &http.Transport{}}}
	var err error
	for _, svc := range []struct {
		p    **service
		name string
	}{{&s.storefront, "storefront"}, {&s.catalog, "catalog"}, {&s.cart, "cart"}, {&s.checkout, "checkout"},
		{&s.payments, "payments"}, {&s.fulfilment, "fulfilment"}, {&s.recommendations, "recommendations"}} {
		if *svc.p, err = newService(ctx, svc.name, otlp); err != nil {
			return nil, err
		}
	}
	if err := s.openDatabases(dir); err != nil {
		return nil, err
	}
	if err := s.serve(); err != nil {
		_ = s.Close(context.Background())
		return nil, err
	}
	s.consumer.Add(1)
	go s.fulfil()
	return s, nil
}

// openDatabases creates the catalog's and the cart's SQLite databases, each opened through otelsql by
// the service that owns it; the cart also holds a handle on the catalog's, which a hotfix uses.
func (s *Shop) openDatabases(dir string) error {
	open := func(svc *service, name string) (*sql.DB, error) {
		return otelsql.Open("sqlite", filepath.Join(dir, name+".db"),
			otelsql.WithTracerProvider(svc.tp),
			otelsql.WithAttributes(attribute.String("db.system.name", "sqlite"), attribute.String("db.namespace", name)),
			otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitConnPrepare: true, OmitRows: true, OmitConnectorConnect: true}))
	}
	var err error
	if s.catalogDB, err = open(s.catalog, "catalog"); err != nil {
		return err
	}
	if s.cartDB, err = open(s.cart, "cart"); err != nil {
		return err
	}
	if s.cartReadsCatalogDB, err = open(s.cart, "catalog"); err != nil {
		return err
	}
	ctx := context.Background() // setup, outside any trace
	for _, stmt := range []struct {
		db  *sql.DB
		sql string
	}{
		{s.catalogDB, "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT)"},
		{s.catalogDB, "INSERT OR IGNORE INTO products VALUES (1, 'telescope'), (2, 'binoculars'), (3, 'star chart')"},
		{s.cartDB, "CREATE TABLE IF NOT EXISTS items (cart INTEGER, product INTEGER)"},
	} {
		if _, err := stmt.db.ExecContext(ctx, stmt.sql); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shop) serve() error {
	var err error
	// storefront: the shop's front door (HTTP)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products", s.handleProducts)
	if s.storefrontURL, err = s.storefront.serveHTTP(mux); err != nil {
		return err
	}
	// catalog: gRPC, over its own database
	catalogAddr, err := s.catalog.serveGRPC("shop.Catalog", map[string]rpcMethod{"ListProducts": s.listProducts})
	if err != nil {
		return err
	}
	// cart: HTTP, over its own database
	mux = http.NewServeMux()
	mux.HandleFunc("GET /cart", s.handleCart)
	mux.HandleFunc("DELETE /cart", s.handleCart)
	if s.cartURL, err = s.cart.serveHTTP(mux); err != nil {
		return err
	}
	// checkout: HTTP; charges through payments, publishes the order
	mux = http.NewServeMux()
	mux.HandleFunc("POST /checkout", s.handleCheckout)
	if s.checkoutURL, err = s.checkout.serveHTTP(mux); err != nil {
		return err
	}
	// payments: gRPC
	paymentsAddr, err := s.payments.serveGRPC("shop.Payments", map[string]rpcMethod{
		"Charge": func(_ context.Context, in *message) (*message, error) {
			return &message{Total: len(in.Items) * 10}, nil
		},
	})
	if err != nil {
		return err
	}
	// recommendations: the service nobody declared (HTTP), reading the catalog
	mux = http.NewServeMux()
	mux.HandleFunc("GET /recommend", s.handleRecommend)
	if s.recommendationsURL, err = s.recommendations.serveHTTP(mux); err != nil {
		return err
	}
	if s.catalogConn, err = s.storefront.dialGRPC(catalogAddr); err != nil {
		return err
	}
	if s.paymentsConn, err = s.checkout.dialGRPC(paymentsAddr); err != nil {
		return err
	}
	if s.hotfixPaymentsConn, err = s.storefront.dialGRPC(paymentsAddr); err != nil {
		return err
	}
	s.recoCatalogConn, err = s.recommendations.dialGRPC(catalogAddr)
	return err
}

// EnableHotfixes switches on the changes that nobody put in the design.
func (s *Shop) EnableHotfixes() { s.hotfixes.Store(true) }

func (s *Shop) chance(n int) bool {
	s.rndMu.Lock()
	defer s.rndMu.Unlock()
	return s.rnd.IntN(n) == 0
}

// Request is one user visit: the storefront's product page, which the storefront serves by calling
// the others.
func (s *Shop) Request(ctx context.Context) error {
	// The visitor's browser is not traced: the storefront's server span is the root.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.storefrontURL+"/products", nil)
	if err != nil {
		return err
	}
	resp, err := s.visitor.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("storefront: " + resp.Status)
	}
	return nil
}

func (s *Shop) handleProducts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := errors.Join(
		ignore(call(ctx, s.catalogConn, "/shop.Catalog/ListProducts", &message{})),
		s.storefront.do(ctx, http.MethodGet, s.cartURL+"/cart"),
	)
	if s.chance(4) {
		err = errors.Join(err, s.storefront.do(ctx, http.MethodPost, s.checkoutURL+"/checkout"))
	}
	if s.hotfixes.Load() {
		err = errors.Join(err, s.storefrontHotfixes(ctx))
	}
	reply(w, err)
}

// storefrontHotfixes are what a few hurried changes did to the storefront.
func (s *Shop) storefrontHotfixes(ctx context.Context) error {
	var errs []error
	if s.chance(3) { // "checkout is slow": charge the card from the storefront
		errs = append(errs, ignore(call(ctx, s.hotfixPaymentsConn, "/shop.Payments/Charge", &message{Items: []string{"telescope"}})))
	}
	if s.chance(2) { // a new recommendations service, never declared
		errs = append(errs, s.storefront.do(ctx, http.MethodGet, s.recommendationsURL+"/recommend"))
	}
	if s.chance(3) { // a retry loop: the cart is asked three times more (expected: once more at most)
		for i := 0; i < 3; i++ {
			errs = append(errs, s.storefront.do(ctx, http.MethodGet, s.cartURL+"/cart"))
		}
	}
	return errors.Join(errs...)
}

func (s *Shop) listProducts(ctx context.Context, _ *message) (*message, error) {
	names, err := queryNames(ctx, s.catalogDB, "SELECT name FROM products")
	return &message{Items: names}, err
}

func (s *Shop) handleCart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var err error
	if r.Method == http.MethodDelete {
		_, err = s.cartDB.ExecContext(ctx, "DELETE FROM items WHERE cart = ?", 1)
	} else {
		_, err = queryNames(ctx, s.cartDB, "SELECT product FROM items WHERE cart = 1")
	}
	if s.hotfixes.Load() && s.chance(3) { // a shortcut: the cart reads the catalog team's database
		_, qerr := queryNames(ctx, s.cartReadsCatalogDB, "SELECT name FROM products")
		err = errors.Join(err, qerr)
	}
	reply(w, err)
}

func (s *Shop) handleCheckout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := errors.Join(
		s.checkout.do(ctx, http.MethodDelete, s.cartURL+"/cart"),
		ignore(call(ctx, s.paymentsConn, "/shop.Payments/Charge", &message{Items: []string{"telescope"}})),
	)
	s.publish(ctx, order{id: 1})
	reply(w, err)
}

func (s *Shop) handleRecommend(w http.ResponseWriter, r *http.Request) {
	reply(w, ignore(call(r.Context(), s.recoCatalogConn, "/shop.Catalog/ListProducts", &message{})))
}

// publish puts an order on the queue, under a PRODUCER span whose context travels in the message.
func (s *Shop) publish(ctx context.Context, o order) {
	ctx, span := s.checkout.tracer.Start(ctx, "publish orders", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "demo-queue"),
			attribute.String("messaging.destination.name", "orders"), attribute.String("messaging.operation.name", "publish"),
			attribute.String("messaging.operation.type", "send")))
	defer span.End()
	o.headers = propagation.MapCarrier{}
	propagator.Inject(ctx, o.headers)
	select {
	case s.orders <- o:
	default: // a full queue drops, as a real one would push back
	}
}

// fulfil consumes orders, each under a CONSUMER span that continues its producer's trace.
func (s *Shop) fulfil() {
	defer s.consumer.Done()
	for o := range s.orders {
		ctx := propagator.Extract(context.Background(), o.headers)
		_, span := s.fulfilment.tracer.Start(ctx, "process orders", trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.system", "demo-queue"),
				attribute.String("messaging.destination.name", "orders"), attribute.String("messaging.operation.name", "process"),
				attribute.String("messaging.operation.type", "process")))
		span.End()
	}
}

// Close stops every service and flushes their spans.
func (s *Shop) Close(ctx context.Context) error {
	var errs []error
	for _, svc := range []*service{s.storefront, s.recommendations, s.checkout, s.cart, s.catalog, s.payments} {
		if svc != nil {
			errs = append(errs, svc.shutdown(ctx))
		}
	}
	s.visitor.CloseIdleConnections()
	close(s.orders)
	s.consumer.Wait()
	if s.fulfilment != nil {
		errs = append(errs, s.fulfilment.shutdown(ctx))
	}
	for _, db := range []*sql.DB{s.catalogDB, s.cartDB, s.cartReadsCatalogDB} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

func queryNames(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n any
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, fmt.Sprint(n))
	}
	return names, rows.Err()
}

func ignore(_ *message, err error) error { return err }

func reply(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
