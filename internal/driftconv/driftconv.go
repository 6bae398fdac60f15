// Package driftconv holds every name the drift components write: the drift.* span attributes, the
// attributes and values of the drift metrics, and the reasons a span is counted as malformed. Tests,
// dashboards and users rely on them; they are defined here once.
package driftconv

// Span attributes stamped on the span that carries a judged call; the first four are the drift
// metrics' attributes too.
const (
	AttrStatus    = "drift.status"
	AttrKind      = "drift.kind"
	AttrCaller    = "drift.caller"
	AttrCallee    = "drift.callee"
	AttrOperation = "drift.operation"
	AttrRule      = "drift.rule"
	AttrSeverity  = "drift.severity"
	AttrMessage   = "drift.message"
	// AttrPath names the chain of services of a call that breaks a path rule: "a -> b -> c".
	AttrPath = "drift.path"
)

// Stamped are the attributes a drift processor sets on spans. Any that arrive on the span of a call
// were set by something else, and are removed before judging.
var Stamped = []string{AttrStatus, AttrKind, AttrCaller, AttrCallee, AttrOperation, AttrRule, AttrSeverity, AttrMessage, AttrPath}

// Metric names. The processor's own telemetry is generated from its metadata.yaml with these
// names; the connector writes these into its metrics pipeline.
const (
	MetricCalls         = "drift.calls"
	MetricCallDuration  = "drift.call.duration"
	MetricEdges         = "drift.edges"
	MetricUnresolved    = "drift.unresolved"
	MetricOverflowCalls = "drift.overflow.calls"
)

// Values of drift.status.
const (
	StatusConforming = "conforming"
	StatusDrift      = "drift"
	StatusKnown      = "known"
)

// Other metric attributes and their values.
const (
	AttrReason    = "reason" // of drift.spans.malformed and drift.baseline.stale
	AttrResult    = "result" // of drift.intent.reloads
	ResultSuccess = "success"
	ResultFailure = "failure"
	// Other stands for the names beyond the limit of distinct names outside the model.
	Other = "_other"
	// AttrOverflow marks the series that collects what a series limit refused, as the OpenTelemetry
	// SDKs mark theirs.
	AttrOverflow = "otel.metric.overflow"
)

// Reasons a span is counted as malformed (drift.spans.malformed's reason).
const (
	ReasonNoServiceName = "no_service_name"
	ReasonBadIDs        = "bad_ids"
	// ReasonDriftAttributes: a span of a call arrived with attributes that only a drift processor
	// sets (its verdicts): they are removed (a span cannot mark itself conforming); the span is
	// judged as any other.
	ReasonDriftAttributes = "drift_attributes"
)

// Reasons lists the malformed-span reasons in a fixed order.
var Reasons = []string{ReasonNoServiceName, ReasonBadIDs, ReasonDriftAttributes}

// Why a call is counted unresolved, not judged (drift.unresolved's reason).
const (
	// UnresolvedNoCallee: nothing names the callee (no partner span, no attribute, no resource).
	UnresolvedNoCallee = "no_callee"
	// UnresolvedPartnerElsewhere: not every span reaches this collector (whole_traces: false), and
	// the partner span most likely went to another.
	UnresolvedPartnerElsewhere = "partner_elsewhere"
	// UnresolvedDuplicateServer: a second server span under one client span.
	UnresolvedDuplicateServer = "duplicate_server"
	// UnresolvedClientBeforeStart: a server span that arrived within one pairing TTL of the start,
	// whose client span may have come before it (to the collector that stopped).
	UnresolvedClientBeforeStart = "client_before_start"
)

// UnresolvedReasons lists the unresolved reasons in a fixed order.
var UnresolvedReasons = []string{UnresolvedNoCallee, UnresolvedPartnerElsewhere, UnresolvedDuplicateServer, UnresolvedClientBeforeStart}

// Why a baseline entry is stale (drift.baseline.stale's reason).
const (
	StaleExpired   = "expired"   // its until date has passed
	StaleUnmatched = "unmatched" // nothing has matched it for baseline_stale_after
)
