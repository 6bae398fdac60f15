package judge

import (
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Kind is a kind of drift. The order is the design's table order: when several apply, the first is
// the one a span shows.
type Kind uint8

// Drift kinds, in table order.
const (
	ForbiddenDependency Kind = iota
	LayerViolation
	UndeclaredDependency
	UnknownService
	UndeclaredOperation
	UndeclaredIngress
	// The path kinds: rules over the chain of services a request passed through (the intent's
	// paths:), decided on the call that completes the chain.
	ForbiddenPath
	MissingWaypoint
	CallCycle
	DepthExceeded
	LatencyExceeded
	ErrorRateExceeded
	RetryAmplification
	FanoutExceeded
	// MissingDependency: a dependency a require rule names was not observed within the absence
	// window. It is decided over time, not on a call, so no span shows it: metrics and logs do.
	MissingDependency
	// NumKinds is the number of kinds.
	NumKinds
)

// kindInfo is a kind's row in the table: its name (the value of drift.kind), the rule a verdict of
// this kind names in drift.rule, and its severity. A kind decided by a rule of the intent (a deny
// or a require rule, or a path rule) names that rule and takes its severity; rule and severity here are empty.
type kindInfo struct {
	name, rule, severity string
	decidedBy            string // the file and function that decide it, for people (ARCHITECTURE.md)
}

// kinds is the table of kinds: every kind the engine decides, in the order that picks the kind a
// span shows.
var kinds = [NumKinds]kindInfo{
	ForbiddenDependency:  {"forbidden_dependency", "", "", "internal/judge/judge.go judgeRules"},
	LayerViolation:       {"layer_violation", "layers", intent.SeverityWarning, "internal/judge/judge.go judgeStructure"},
	UndeclaredDependency: {"undeclared_dependency", "depends_on", intent.SeverityWarning, "internal/judge/judge.go judgeStructure"},
	UnknownService:       {"unknown_service", "policy", intent.SeverityWarning, "internal/judge/judge.go judgeStructure, judgeIngress"},
	UndeclaredOperation:  {"undeclared_operation", "depends_on", intent.SeverityWarning, "internal/judge/judge.go judgeStructure"},
	UndeclaredIngress:    {"undeclared_ingress", "ingress", intent.SeverityWarning, "internal/judge/judge.go judgeIngress"},
	ForbiddenPath:        {"forbidden_path", "", "", "internal/judge/paths.go JudgePaths"},
	MissingWaypoint:      {"missing_waypoint", "", "", "internal/judge/paths.go JudgePaths"},
	CallCycle:            {"call_cycle", "", "", "internal/judge/paths.go JudgePaths"},
	DepthExceeded:        {"depth_exceeded", "", "", "internal/judge/paths.go JudgePaths"},
	LatencyExceeded:      {"latency_exceeded", "expect", intent.SeverityWarning, "internal/behaviour/tracker.go Tracker.Observe"},
	ErrorRateExceeded:    {"error_rate_exceeded", "expect", intent.SeverityWarning, "internal/behaviour/tracker.go Tracker.Observe"},
	RetryAmplification:   {"retry_amplification", "expect", intent.SeverityWarning, "internal/behaviour/tracker.go Tracker.Observe"},
	FanoutExceeded:       {"fanout_exceeded", "expect", intent.SeverityWarning, "internal/behaviour/tracker.go Tracker.Observe"},
	MissingDependency:    {"missing_dependency", "", "", "internal/absence/absence.go Watch.Check"},
}

// String is the kind's name, the value of drift.kind.
func (k Kind) String() string {
	if k >= NumKinds {
		return ""
	}
	return kinds[k].name
}

// Rule is the value of drift.rule for a verdict of this kind, or "" when the intent's rule that
// decided it is named instead.
func (k Kind) Rule() string { return kinds[k].rule }

// Severity is the kind's severity, or "" when it takes the severity of the intent's rule.
func (k Kind) Severity() string { return kinds[k].severity }

// DecidedBy names the file and function that decide the kind. Every call's kinds are decided
// through verdict.decide, which calls them.
func (k Kind) DecidedBy() string { return kinds[k].decidedBy }

// ParseKind returns the kind named name.
func ParseKind(name string) (Kind, bool) {
	for k := range NumKinds {
		if kinds[k].name == name {
			return k, true
		}
	}
	return NumKinds, false
}

// KindNames lists the kinds' names in table order, for messages.
func KindNames() string {
	names := make([]string, NumKinds)
	for k := range NumKinds {
		names[k] = kinds[k].name
	}
	return strings.Join(names, ", ")
}

// Status is what a span and drift.calls show of a judged call: the value of drift.status.
type Status uint8

// Statuses.
const (
	Conforming Status = iota // declared, breaks no rule
	Drifting                 // drift that no baseline accepts
	Known                    // drift a baseline accepts
)

var statusNames = [...]string{Conforming: "conforming", Drifting: "drift", Known: "known"}

func (s Status) String() string { return statusNames[s] }

// Status is the verdict's status.
func (v Verdict) Status() Status {
	switch {
	case !v.Drift():
		return Conforming
	case v.Known:
		return Known
	}
	return Drifting
}
