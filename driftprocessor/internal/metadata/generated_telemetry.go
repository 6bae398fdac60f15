// Written by hand in the shape mdatagen generates (mdatagen is not available here); keep it in step
// with ../../metadata.yaml.

package metadata

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/trace"

	"go.opentelemetry.io/collector/component"
)

func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter(ScopeName)
}

func Tracer(settings component.TelemetrySettings) trace.Tracer {
	return settings.TracerProvider.Tracer(ScopeName)
}

// TelemetryBuilder provides an interface for components to report telemetry
// as defined in metadata and user config.
type TelemetryBuilder struct {
	meter                       metric.Meter
	mu                          sync.Mutex
	registrations               []metric.Registration
	DriftBaselineStale          metric.Int64ObservableGauge
	DriftCalls                  metric.Int64ObservableCounter
	DriftEdgeAbsent             metric.Int64ObservableGauge
	DriftEdgeErrorRate          metric.Float64ObservableGauge
	DriftEdgeErrorRateExpected  metric.Float64ObservableGauge
	DriftEdgeFirstSeen          metric.Int64ObservableGauge
	DriftEdgeLatencyP99         metric.Float64ObservableGauge
	DriftEdgeLatencyP99Expected metric.Float64ObservableGauge
	DriftEdges                  metric.Int64ObservableGauge
	DriftIntentReloads          metric.Int64Counter
	DriftPairingPending         metric.Int64ObservableGauge
	DriftSpansMalformed         metric.Int64ObservableCounter
	DriftUnresolved             metric.Int64ObservableCounter
	DriftViolations             metric.Int64ObservableCounter
}

// TelemetryBuilderOption applies changes to default builder.
type TelemetryBuilderOption interface {
	apply(*TelemetryBuilder)
}

//lint:ignore U1000 kept in the shape mdatagen generates
type telemetryBuilderOptionFunc func(mb *TelemetryBuilder)

//lint:ignore U1000 kept in the shape mdatagen generates
func (tbof telemetryBuilderOptionFunc) apply(mb *TelemetryBuilder) {
	tbof(mb)
}

// RegisterDriftBaselineStaleCallback sets callback for observable DriftBaselineStale metric.
func (builder *TelemetryBuilder) RegisterDriftBaselineStaleCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftBaselineStale, cb)
}

// RegisterDriftCallsCallback sets callback for observable DriftCalls metric.
func (builder *TelemetryBuilder) RegisterDriftCallsCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftCalls, cb)
}

// RegisterDriftSpansMalformedCallback sets callback for observable DriftSpansMalformed metric.
func (builder *TelemetryBuilder) RegisterDriftSpansMalformedCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftSpansMalformed, cb)
}

// RegisterDriftUnresolvedCallback sets callback for observable DriftUnresolved metric.
func (builder *TelemetryBuilder) RegisterDriftUnresolvedCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftUnresolved, cb)
}

// RegisterDriftViolationsCallback sets callback for observable DriftViolations metric.
func (builder *TelemetryBuilder) RegisterDriftViolationsCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftViolations, cb)
}

// RegisterDriftEdgeBehaviourCallback sets one callback for the four observable DriftEdge* gauges.
func (builder *TelemetryBuilder) RegisterDriftEdgeBehaviourCallback(cb func(ctx context.Context, p99, p99Expected, errorRate, errorRateExpected metric.Float64Observer)) error {
	insts := []metric.Float64Observable{builder.DriftEdgeLatencyP99, builder.DriftEdgeLatencyP99Expected, builder.DriftEdgeErrorRate, builder.DriftEdgeErrorRateExpected}
	reg, err := builder.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		cb(ctx, &observerFloat64{inst: insts[0], obs: o}, &observerFloat64{inst: insts[1], obs: o},
			&observerFloat64{inst: insts[2], obs: o}, &observerFloat64{inst: insts[3], obs: o})
		return nil
	}, insts[0], insts[1], insts[2], insts[3])
	if err != nil {
		return err
	}
	builder.mu.Lock()
	defer builder.mu.Unlock()
	builder.registrations = append(builder.registrations, reg)
	return nil
}

type observerFloat64 struct {
	embedded.Float64Observer
	inst metric.Float64Observable
	obs  metric.Observer
}

func (of *observerFloat64) Observe(value float64, opts ...metric.ObserveOption) {
	of.obs.ObserveFloat64(of.inst, value, opts...)
}

// RegisterDriftEdgeAbsentCallback sets callback for observable DriftEdgeAbsent metric.
func (builder *TelemetryBuilder) RegisterDriftEdgeAbsentCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftEdgeAbsent, cb)
}

// RegisterDriftEdgeFirstSeenCallback sets callback for observable DriftEdgeFirstSeen metric.
func (builder *TelemetryBuilder) RegisterDriftEdgeFirstSeenCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftEdgeFirstSeen, cb)
}

// RegisterDriftEdgesCallback sets callback for observable DriftEdges metric.
func (builder *TelemetryBuilder) RegisterDriftEdgesCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftEdges, cb)
}

// RegisterDriftPairingPendingCallback sets callback for observable DriftPairingPending metric.
func (builder *TelemetryBuilder) RegisterDriftPairingPendingCallback(cb metric.Int64Callback) error {
	return builder.register(builder.DriftPairingPending, cb)
}

func (builder *TelemetryBuilder) register(inst metric.Int64Observable, cb metric.Int64Callback) error {
	reg, err := builder.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		cb(ctx, &observerInt64{inst: inst, obs: o})
		return nil
	}, inst)
	if err != nil {
		return err
	}
	builder.mu.Lock()
	defer builder.mu.Unlock()
	builder.registrations = append(builder.registrations, reg)
	return nil
}

type observerInt64 struct {
	embedded.Int64Observer
	inst metric.Int64Observable
	obs  metric.Observer
}

func (oi *observerInt64) Observe(value int64, opts ...metric.ObserveOption) {
	oi.obs.ObserveInt64(oi.inst, value, opts...)
}

// Shutdown unregister all registered callbacks for async instruments.
func (builder *TelemetryBuilder) Shutdown() {
	builder.mu.Lock()
	defer builder.mu.Unlock()
	for _, reg := range builder.registrations {
		reg.Unregister()
	}
	builder.registrations = nil
}

// NewTelemetryBuilder provides a struct with methods to update all internal telemetry
// for a component
func NewTelemetryBuilder(settings component.TelemetrySettings, options ...TelemetryBuilderOption) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{}
	for _, op := range options {
		op.apply(&builder)
	}
	builder.meter = Meter(settings)
	var err, errs error
	builder.DriftBaselineStale, err = builder.meter.Int64ObservableGauge(
		"drift.baseline.stale",
		metric.WithDescription("Baseline entries that are stale (1), by reason: expired (its date has passed) or unmatched. [Alpha]"),
		metric.WithUnit("{entry}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftCalls, err = builder.meter.Int64ObservableCounter(
		"drift.calls",
		metric.WithDescription("Calls judged against the intent model, by caller, callee, status and (for drift) the kind the span shows. [Alpha]"),
		metric.WithUnit("{call}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeAbsent, err = builder.meter.Int64ObservableGauge(
		"drift.edge.absent",
		metric.WithDescription("Declared or required dependencies not observed within the absence window while their caller was busy (1); drift.kind is missing_dependency for a required one. [Alpha]"),
		metric.WithUnit("{edge}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeErrorRate, err = builder.meter.Float64ObservableGauge(
		"drift.edge.error_rate",
		metric.WithDescription("Observed error rate of an edge with expectations, over the behaviour window. [Alpha]"),
		metric.WithUnit("1"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeErrorRateExpected, err = builder.meter.Float64ObservableGauge(
		"drift.edge.error_rate.expected",
		metric.WithDescription("Expected error rate of an edge, from the intent. [Alpha]"),
		metric.WithUnit("1"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeFirstSeen, err = builder.meter.Int64ObservableGauge(
		"drift.edge.first_seen",
		metric.WithDescription("When a drifting edge (caller, callee, kind) was first seen, in Unix seconds. [Alpha]"),
		metric.WithUnit("s"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeLatencyP99, err = builder.meter.Float64ObservableGauge(
		"drift.edge.latency.p99",
		metric.WithDescription("Observed p99 latency of an edge with expectations, over the behaviour window. [Alpha]"),
		metric.WithUnit("s"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdgeLatencyP99Expected, err = builder.meter.Float64ObservableGauge(
		"drift.edge.latency.p99.expected",
		metric.WithDescription("Expected p99 latency of an edge, from the intent. [Alpha]"),
		metric.WithUnit("s"),
	)
	errs = errors.Join(errs, err)
	builder.DriftEdges, err = builder.meter.Int64ObservableGauge(
		"drift.edges",
		metric.WithDescription("Distinct observed edges (caller, callee) by status, since start or the last model change. [Alpha]"),
		metric.WithUnit("{edge}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftIntentReloads, err = builder.meter.Int64Counter(
		"drift.intent.reloads",
		metric.WithDescription("Reloads of a changed intent file, by result (success or failure). [Alpha]"),
		metric.WithUnit("{reload}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftPairingPending, err = builder.meter.Int64ObservableGauge(
		"drift.pairing.pending",
		metric.WithDescription("Spans waiting in the pairing store for their partner. [Alpha]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftSpansMalformed, err = builder.meter.Int64ObservableCounter(
		"drift.spans.malformed",
		metric.WithDescription("Spans that could not be read as calls (no service.name, empty ids); passed through untouched. [Alpha]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftUnresolved, err = builder.meter.Int64ObservableCounter(
		"drift.unresolved",
		metric.WithDescription("Calls whose callee nothing could name; counted, not judged. [Alpha]"),
		metric.WithUnit("{call}"),
	)
	errs = errors.Join(errs, err)
	builder.DriftViolations, err = builder.meter.Int64ObservableCounter(
		"drift.violations",
		metric.WithDescription("Drift kinds that applied to judged calls, every applicable kind counted (a call may break several). [Alpha]"),
		metric.WithUnit("{violation}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
