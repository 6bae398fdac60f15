package record

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

// label is the interned id of a label value.
type label = uint32

// Fixed label ids.
const (
	labelOther    label = 0 // the names beyond the limit
	labelExternal label = 1 // callers outside the traced system
)

// labels interns label values. Names of a model are always admitted; names from span data only up
// to a limit, beyond which they share the value driftconv.Other. Reads take a read lock only.
type labels struct {
	mu      sync.RWMutex
	ids     map[string]label
	names   []string
	ofModel []bool // by label: a name some model declared (or external)
	others  int    // admitted names that no model declared
	limit   int
}

func newLabels(limit int) *labels {
	l := &labels{ids: map[string]label{}, limit: limit}
	l.add(driftconv.Other)
	l.add(intent.External)
	return l
}

func (l *labels) add(name string) label {
	id := label(len(l.names))
	l.ids[name] = id
	l.names = append(l.names, name)
	l.ofModel = append(l.ofModel, false)
	return id
}

// model interns a name of a model.
func (l *labels) model(name string) label {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.ids[name]
	if !ok {
		id = l.add(name)
	}
	l.ofModel[id] = true
	return id
}

// outside reports whether id is a name no model declared: one taken from span data, or Other.
func (l *labels) outside(id label) bool {
	if id == labelExternal {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return !l.ofModel[id]
}

// other interns a name from span data, within the limit; the label value is the name cleaned.
func (l *labels) other(name string) label {
	id, ok, full := l.lookup(name)
	if !ok {
		if c := clean.Name(name); c != name { // a long or invalid name is known by its cleaned form
			name = c
			id, ok, full = l.lookup(name)
		}
	}
	if ok {
		return id
	}
	if full {
		return labelOther
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, ok := l.ids[name]; ok {
		return id
	}
	if l.others >= l.limit {
		return labelOther
	}
	l.others++
	return l.add(strings.Clone(name))
}

func (l *labels) lookup(name string) (id label, ok, full bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	id, ok = l.ids[name]
	return id, ok, l.others >= l.limit
}

func (l *labels) name(id label) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.names[id]
}

// ModelLabels maps the nodes of one compiled model to their label ids, so that recording a call between
// nodes of the model hashes no string.
type ModelLabels struct {
	nodes []label
	gen   uint64               // the model's generation, for drift.edges
	edges []intent.TrackedEdge // the model's known edges
	// conforming holds the drift.calls series of conforming calls once it exists, so that most calls
	// are counted with no hashing at all: by known edge, then by node for calls into it from outside
	// the system (one per trace, as a rule).
	conforming []atomic.Pointer[series]
}

// conformingSlot is where the conforming call c is counted in conforming and in a tally's bySlot,
// or -1 when it is counted by its labels.
func (b *ModelLabels) conformingSlot(c *judge.Call, v *judge.Verdict) int {
	if e := v.Edge(); e >= 0 {
		return e
	}
	if c.External && c.Callee.ID != intent.NoNode { // the judge marks a call from outside: no name to compare
		return len(b.edges) + int(c.Callee.ID)
	}
	return -1
}

// conformingLabels are the caller and callee labels of the series of conforming slot e.
func (b *ModelLabels) conformingLabels(e int) (caller, callee label) {
	if e < len(b.edges) {
		edge := b.edges[e]
		return b.nodes[edge.From], b.nodes[edge.To]
	}
	return labelExternal, b.nodes[e-len(b.edges)]
}

func (b *ModelLabels) peer(l *labels, p intent.Peer) label {
	switch {
	case p.ID != intent.NoNode:
		return b.nodes[p.ID]
	case p.Name == intent.External: // callers outside the traced system
		return labelExternal
	}
	return l.other(p.Name)
}
