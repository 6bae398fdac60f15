// Package intent holds the declared design of a system: the intent model v1, its strict YAML loader
// and its compilation into the immutable lookup structure that the hot path reads.
package intent

import "fmt"

// Policy values.
const (
	PolicyDrift = "drift"
	PolicyAllow = "allow"
)

// Severity values.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Kind is the kind of a node: a service, or an uninstrumented resource.
type Kind uint8

// Node kinds. KindUnknown is used for peers that are not in the model and whose kind cannot be told.
const (
	KindUnknown Kind = iota
	KindService
	KindDatabase
	KindMessaging
	KindExternal
)

var kindNames = [...]string{"unknown", "service", "database", "messaging", "external"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

func parseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), true
		}
	}
	return KindUnknown, false
}

// Model is an intent file as written, with the line of every element (for messages).
type Model struct {
	File       string
	Version    int
	System     string
	Policy     Policy
	Layers     []string
	Nodes      []NodeSpec // services first, then resources, each in file order
	Rules      []RuleSpec
	Paths      []PathSpec // rules over the chain of services a request passes through
	NodeLine   int        // line of the `services:` key, cited for unknown services
	LayersLine int
}

// Policy says how calls that the model does not mention are judged.
type Policy struct {
	Undeclared      string // drift | allow
	UnknownServices string // drift | allow
}

// NodeSpec is a service or a resource.
type NodeSpec struct {
	Name      string
	Line      int
	Kind      Kind
	Layer     string
	Zone      string
	Owner     string
	Ingress   bool
	Aliases   []string
	LayerLine int
	AliasLine int
	DependsOn []DependencySpec
	DepsLine  int // line of `depends_on`, or of the node when it has none
	Match     []MatchSpec
	// Expect is the default for the service's outgoing dependencies; ExpectIncoming for every call
	// the node receives.
	Expect, ExpectIncoming *Expect
}

// DependencySpec is one entry of depends_on.
type DependencySpec struct {
	To         string
	Line       int
	Path       string
	Operations []string
	Expect     *Expect
}

// MatchSpec is one attribute matcher of a resource.
type MatchSpec struct {
	Key  string
	Glob string
	Line int
}

// RuleSpec is a deny rule, or (Require) a require rule: an edge that must be observed.
type RuleSpec struct {
	Name     string
	Line     int
	Path     string
	Require  bool
	From, To SelectorSpec
	Except   []ExceptSpec
	Severity string
	Message  string
}

// ExceptSpec exempts calls from a rule; an empty side matches everything.
type ExceptSpec struct {
	From, To SelectorSpec
}

// SelectorSpec chooses nodes: by name glob, or by attributes. Every non-empty field must match; within
// a field, any listed value may match.
type SelectorSpec struct {
	Set   bool // false for an omitted side of an except entry
	Line  int
	Path  string
	Name  []string
	Kind  []string
	Zone  []string
	Layer []string
	Owner []string
}
