package driftview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/reflexion"
	"github.com/driftprocessor/driftprocessor/internal/reflexion/draw"
)

// view is the extension: the live map its processors feed, and the server that draws it.
type view struct {
	cfg    *Config
	logger *zap.Logger
	live   *reflexion.Live
	now    func() time.Time

	renderer draw.Renderer

	mu     sync.Mutex // guards server and done
	server *http.Server
	done   chan struct{}
	addr   string
}

var _ reflexion.Attacher = (*view)(nil)

func newView(cfg *Config, logger *zap.Logger) *view {
	return &view{cfg: cfg, logger: logger, live: reflexion.NewLive(cfg.MaxRows), now: time.Now,
		renderer: draw.Renderer{TraceURL: cfg.TraceURL}}
}

// Attach is how a drift processor finds its way in.
func (v *view) Attach(source string, model func() *intent.Compiled) *reflexion.Feed {
	return v.live.Attach(source, model)
}

func (v *view) Start(context.Context, component.Host) error {
	ln, err := net.Listen("tcp", v.cfg.Endpoint)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", v.page)
	mux.HandleFunc("/map.svg", v.svg)
	mux.HandleFunc("/api/graph", v.graph)
	v.mu.Lock()
	v.addr = ln.Addr().String()
	v.server = &http.Server{Handler: readOnly(mux), ReadHeaderTimeout: 10 * time.Second}
	v.done = make(chan struct{})
	server, done := v.server, v.done
	v.mu.Unlock()
	go func() {
		defer close(done)
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			v.logger.Error("The drift view stopped serving", zap.Error(err))
		}
	}()
	v.logger.Info("Drift view serving the reflexion map", zap.String("endpoint", "http://"+ln.Addr().String()+"/"))
	return nil
}

func (v *view) Shutdown(ctx context.Context) error {
	v.mu.Lock()
	server, done := v.server, v.done
	v.mu.Unlock()
	if server == nil {
		return nil
	}
	err := server.Shutdown(ctx)
	<-done
	return err
}

// readOnly serves GET and HEAD only: nothing on the map writes.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read only", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (v *view) current() *reflexion.Graph {
	m := v.live.Model()
	if m == nil {
		return &reflexion.Graph{}
	}
	rows, _ := v.live.Observed(v.now())
	return reflexion.Build(m, rows, v.live.Paths(), reflexion.Options{CollapseAbove: v.cfg.CollapseAbove, MaxNodes: v.cfg.MaxNodes, MaxEdges: v.cfg.MaxEdges})
}

// Addr is the address the page is served on, once started.
func (v *view) Addr() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.addr
}

func (v *view) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	g := v.current()
	svg := v.renderer.SVG(g)
	var b bytes.Buffer
	if err := draw.Page(&b, g, svg, "map.svg"); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; img-src 'self' data:")
	_, _ = w.Write(b.Bytes())
}

func (v *view) svg(w http.ResponseWriter, _ *http.Request) {
	svg := v.renderer.SVG(v.current())
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = w.Write(svg)
}

func (v *view) graph(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v.current())
}
