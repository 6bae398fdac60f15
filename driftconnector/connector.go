package driftconnector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/record"
	"github.com/driftprocessor/driftprocessor/internal/resolve"
)

// driftConnector turns calls into drift metrics: judged here (judge mode), or read from the drift.*
// attributes a drift processor stamped upstream (stamped mode).
type driftConnector struct {
	cfg    *Config
	logger *zap.Logger
	next   consumer.Metrics
	now    func() time.Time

	model    atomic.Pointer[intent.Compiled]   // judge mode; swapped whole on reload
	watcher  *intent.Watcher[*intent.Compiled] // judge mode; owned by the background goroutine
	resolver *resolve.Resolver                 // judge mode
	agg      *aggregator

	stop chan struct{}
	wg   sync.WaitGroup
}

func newConnector(logger *zap.Logger, cfg *Config, next consumer.Metrics) (*driftConnector, error) {
	c := &driftConnector{cfg: cfg, logger: logger, next: next, now: time.Now, stop: make(chan struct{})}
	if cfg.Mode == ModeJudge {
		m, data, err := intent.Load(cfg.IntentFile)
		if err != nil {
			return nil, err
		}
		c.model.Store(m)
		c.watcher = intent.NewWatcher(cfg.IntentFile, data, intent.LoadBytes)
		c.resolver = resolve.New(resolve.Options{TTL: cfg.Pairing.TTL, MaxPending: cfg.Pairing.MaxPending,
			WholeTraces: cfg.Pairing.WholeTraces})
	}
	c.agg = newAggregator(cfg, c.now())
	return c, nil
}

func (c *driftConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *driftConnector) Start(context.Context, component.Host) error {
	c.wg.Add(1)
	go c.run()
	return nil
}

func (c *driftConnector) Shutdown(context.Context) error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
	return nil
}

// run flushes the metrics every interval and, in judge mode, expires waiting spans every second and
// re-reads the intent file every reload interval.
func (c *driftConnector) run() {
	defer c.wg.Done()
	flush := time.NewTicker(c.cfg.FlushInterval)
	defer flush.Stop()
	expiry := time.NewTicker(time.Second)
	defer expiry.Stop()
	var reload <-chan time.Time
	if c.watcher != nil && c.cfg.ReloadInterval > 0 {
		t := time.NewTicker(c.cfg.ReloadInterval)
		defer t.Stop()
		reload = t.C
	}
	for {
		select {
		case <-c.stop:
			return
		case <-expiry.C:
			if c.resolver != nil {
				m := c.model.Load()
				c.resolver.Expire(m, c.now(), &sink{c: c, m: m})
			}
		case <-reload:
			c.reload()
		case <-flush.C:
			c.flush(context.Background())
		}
	}
}

// reload re-reads the intent file: a changed one replaces the model; a broken one keeps the last
// good model, and says why once.
func (c *driftConnector) reload() {
	m, changed, err := c.watcher.Check()
	switch {
	case err != nil:
		c.logger.Warn("Intent file reload failed; keeping the last good model",
			zap.String("intent_file", c.cfg.IntentFile), zap.Error(err))
	case changed:
		c.model.Store(m)
		c.logger.Info("Intent model reloaded", zap.String("intent_file", c.cfg.IntentFile),
			zap.String("system", m.System), zap.Int("nodes", m.NumNodes()))
	}
}

func (c *driftConnector) flush(ctx context.Context) {
	md := c.agg.flush(c.now())
	if err := c.next.ConsumeMetrics(ctx, md); err != nil {
		c.logger.Warn("Drift metrics could not be sent on", zap.Error(err))
	}
}

func (c *driftConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	if c.resolver != nil {
		m := c.model.Load()
		c.resolver.Batch(m, td, c.now(), &sink{c: c, m: m})
		return nil
	}
	c.readStamped(td)
	return nil
}

// readStamped counts the verdicts a drift processor stamped (annotate: all counts conforming calls).
func (c *driftConnector) readStamped(td ptrace.Traces) {
	now := c.now()
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		var dims []string
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				a := span.Attributes()
				status, ok := a.Get(record.AttrStatus)
				if !ok {
					continue
				}
				if dims == nil {
					dims = c.dimensions(rs.Resource())
				}
				c.agg.add(call{
					caller: str(a, record.AttrCaller), callee: str(a, record.AttrCallee),
					status: status.AsString(), kind: str(a, record.AttrKind),
					duration: time.Duration(span.EndTimestamp()) - time.Duration(span.StartTimestamp()), dims: dims,
				}, now)
			}
		}
	}
}

func str(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok {
		return v.AsString()
	}
	return ""
}

// dimensions reads the configured resource attributes.
func (c *driftConnector) dimensions(res pcommon.Resource) []string {
	if len(c.cfg.Dimensions) == 0 {
		return []string{}
	}
	out := make([]string, len(c.cfg.Dimensions))
	for i, d := range c.cfg.Dimensions {
		out[i] = str(res.Attributes(), d)
	}
	return out
}

// sink judges the calls the resolver hands over, against the model the batch is resolved with, and
// counts them.
type sink struct {
	c *driftConnector
	m *intent.Compiled
}

func (s *sink) Call(call judge.Call, _ ptrace.Span, res pcommon.Resource, _ bool) {
	v := judge.Judge(s.m, &call)
	out := aggCall(call, v)
	if call.Ops != nil {
		out.duration = call.Ops.Observe().Duration
	}
	out.dims = s.c.dimensions(res)
	s.c.agg.add(out, s.c.now())
}

func aggCall(c judge.Call, v judge.Verdict) call {
	out := call{caller: c.Caller.Name, callee: c.Callee.Name, status: record.StatusOK}
	if v.Drift() {
		out.status, out.kind = record.StatusDrift, v.Kind().String()
	}
	return out
}

func (s *sink) Unresolved(caller string) { s.c.agg.addUnresolved(caller, s.c.now()) }

func (s *sink) Malformed(string) {}
