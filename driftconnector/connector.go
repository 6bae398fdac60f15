package driftconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/driftprocessor/driftprocessor/driftconnector/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/verdict"
)

// driftConnector turns calls into drift metrics: judged here by the verdict engine (judge mode), or
// read from the drift.* attributes a drift processor stamped upstream (stamped mode).
type driftConnector struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	next      consumer.Metrics
	now       func() time.Time

	engine *verdict.Engine // judge mode
	out    *aggregating    // judge mode: the engine's verdicts into the aggregator
	agg    *aggregator

	stop chan struct{}
	wg   sync.WaitGroup
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*driftConnector, error) {
	return newConnectorWithClock(set, cfg, next, verdict.Clock)
}

// newConnectorWithClock is newConnector with the clock given (tests move time).
func newConnectorWithClock(set connector.Settings, cfg *Config, next consumer.Metrics, now func() time.Time) (*driftConnector, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	c := &driftConnector{cfg: cfg, logger: set.Logger, telemetry: tb, next: next, now: now, stop: make(chan struct{})}
	if cfg.Mode == ModeJudge {
		// Spans are the traces pipeline's, read-only here: nothing is stamped, nothing removed.
		c.engine, err = verdict.New(verdict.Settings{
			IntentFile: cfg.IntentFile, Pairing: cfg.Pairing, Paths: cfg.Paths, Behavior: cfg.Behavior, Absence: cfg.Absence,
			BaselineFile: cfg.BaselineFile, BaselineStaleAfter: cfg.BaselineStaleAfter, Logger: set.Logger, Now: now,
		})
		if err != nil {
			return nil, err
		}
		c.out = &aggregating{c: c}
	}
	c.agg = newAggregator(cfg, now())
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

func (c *driftConnector) Shutdown(ctx context.Context) error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
	if c.engine != nil {
		c.engine.Drain(c.out) // what still waits is judged as if its TTL ran out
		c.flush(ctx)          // and sent on with the rest, once more
	}
	c.telemetry.Shutdown()
	return nil
}

// run flushes the metrics every interval and, in judge mode, ticks the engine every second and
// re-reads the intent file every reload interval.
func (c *driftConnector) run() {
	defer c.wg.Done()
	flush := time.NewTicker(c.cfg.FlushInterval)
	defer flush.Stop()
	var tick, reload <-chan time.Time
	if c.engine != nil {
		t := time.NewTicker(min(time.Second, c.cfg.Pairing.TTL))
		defer t.Stop()
		tick = t.C
		if c.cfg.ReloadInterval > 0 {
			t := time.NewTicker(c.cfg.ReloadInterval)
			defer t.Stop()
			reload = t.C
		}
	}
	for {
		select {
		case <-c.stop:
			return
		case <-tick:
			c.engine.Tick(c.out)
		case <-reload:
			c.reload(context.Background())
		case <-flush.C:
			c.flush(context.Background())
		}
	}
}

// reload re-reads the intent and baseline files as the processor does: a broken one keeps the last
// good model, and is said once.
func (c *driftConnector) reload(ctx context.Context) {
	if opt, counted := c.engine.Reload(ctx).Counted(); counted {
		c.telemetry.IntentReloads.Add(ctx, 1, opt)
	}
}

func (c *driftConnector) flush(ctx context.Context) {
	md := c.agg.flush(c.now())
	if err := c.next.ConsumeMetrics(ctx, md); err != nil {
		c.logger.Warn("Drift metrics could not be sent on", zap.Error(err))
	}
}

func (c *driftConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	if c.engine != nil {
		c.engine.Batch(td, c.out)
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
				status, ok := a.Get(driftconv.AttrStatus)
				if !ok {
					continue
				}
				if dims == nil {
					dims = c.dimensions(rs.Resource())
				}
				c.agg.add(call{
					caller: str(a, driftconv.AttrCaller), callee: str(a, driftconv.AttrCallee),
					status: status.AsString(), kind: str(a, driftconv.AttrKind),
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

// aggregating is the connector's output of the engine: each verdict counted in the aggregator.
type aggregating struct{ c *driftConnector }

func (o *aggregating) Judged(j *verdict.Judged) {
	call := call{caller: j.Call.Caller.Name, callee: j.Call.Callee.Name, status: j.Verdict.Status().String()}
	if j.Verdict.Drift() {
		call.kind = j.Verdict.Kind().String()
	}
	if j.Call.Ops != nil {
		call.duration = j.Call.Ops.Observe().Duration
	}
	call.dims = o.c.dimensions(j.Resource)
	o.c.agg.add(call, j.Now)
}

// Unresolved counts the call by caller; the processor's own drift.unresolved says why.
func (o *aggregating) Unresolved(caller, _ string) { o.c.agg.addUnresolved(caller, o.c.now()) }

var malformedReason = func() map[string]metric.AddOption {
	m := map[string]metric.AddOption{}
	for _, r := range driftconv.Reasons {
		m[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String(driftconv.AttrReason, r)))
	}
	return m
}()

func (o *aggregating) Malformed(reason string) {
	o.c.telemetry.SpansMalformed.Add(context.Background(), 1, malformedReason[reason])
}
