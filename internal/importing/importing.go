// Package importing turns the declarations teams already keep (Kubernetes NetworkPolicies, a
// Backstage catalog) into intent, and merges it into an intent file at the level of its YAML
// nodes: what was written by hand (layers, rules, expect blocks, comments) stays as it was, and
// every generated declaration carries a comment naming where it came from.
package importing

import (
	"fmt"
	"slices"
	"strconv"
)

// Service is a node an import declares: a service, or a resource (Kind database, messaging or
// external).
type Service struct {
	Name      string
	Kind      string // "" for a service
	Zone      string
	Layer     string // added to the intent's layers when it is not among them
	Owner     string
	Ingress   bool  // reachable from outside the traced system
	Ports     []int // the ports it serves on, written as name:port aliases
	DependsOn []Dependency
	Expect    *Expect // expect_incoming
	Source    string  // where it was declared: entity ref or policy, file:line
}

// Dependency is one declared dependency and where it came from.
type Dependency struct {
	To     string
	Source string
}

// Skipped is a declaration an import did not turn into intent, and why.
type Skipped struct {
	Where, What, Why string
}

func (s Skipped) String() string { return fmt.Sprintf("%s: %s skipped: %s", s.Where, s.What, s.Why) }

// Result is what an import found.
type Result struct {
	Services []*Service
	Skipped  []Skipped
	index    map[string]*Service
}

// Service returns the service named name, added when new.
func (r *Result) Service(name, source string) *Service {
	if r.index == nil {
		r.index = map[string]*Service{}
	}
	if s := r.index[name]; s != nil {
		return s
	}
	s := &Service{Name: name, Source: source}
	r.index[name] = s
	r.Services = append(r.Services, s)
	return s
}

// Lookup returns the service named name, or nil.
func (r *Result) Lookup(name string) *Service { return r.index[name] }

// Depend declares from -> to.
func (r *Result) Depend(from, to, source string) {
	s := r.Service(from, source)
	if !slices.ContainsFunc(s.DependsOn, func(d Dependency) bool { return d.To == to }) {
		s.DependsOn = append(s.DependsOn, Dependency{To: to, Source: source})
	}
}

// Port adds a port the service serves on.
func (s *Service) Port(p int) {
	if p > 0 && !slices.Contains(s.Ports, p) {
		s.Ports = append(s.Ports, p)
		slices.Sort(s.Ports)
	}
}

// Skip records what was not imported.
func (r *Result) Skip(where, what, why string) {
	r.Skipped = append(r.Skipped, Skipped{Where: where, What: what, Why: why})
}

// at names a place in a file.
func at(file string, line int) string { return file + ":" + strconv.Itoa(line) }
