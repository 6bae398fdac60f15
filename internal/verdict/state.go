package verdict

import (
	"time"

	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/firstsight"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/learn"
)

// State is what of the engine's state survives a restart, as JSON: first-seen times, absence
// watches and the learned model. Behaviour windows are not kept: they span minutes.
type State struct {
	FirstSeen []Seen       `json:"first_seen"`
	Absence   AbsenceState `json:"absence"`
	Learned   *learn.State `json:"learned,omitempty"`
}

// Seen is one drifting edge's first sight.
type Seen struct {
	Caller string    `json:"caller"`
	Callee string    `json:"callee"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
}

// AbsenceState is what the absence watches saw.
type AbsenceState struct {
	Start    int64            `json:"start"`
	LastSeen map[string]int64 `json:"last_seen"` // "from\x00to" -> unix nanoseconds; 0: watched, never seen
}

// State returns the state to keep.
func (e *Engine) State() State {
	s := State{Absence: AbsenceState{LastSeen: map[string]int64{}}}
	e.sights.Each(func(edge firstsight.Edge, at time.Time, _ bool) {
		s.FirstSeen = append(s.FirstSeen, Seen{Caller: edge.Caller, Callee: edge.Callee, Kind: edge.Kind, At: at})
	})
	m := e.current.Load()
	if m.absence != nil {
		s.Absence.Start = m.absence.Start()
		m.absence.EachSeen(func(t intent.TrackedEdge, at int64) { // 0 too: the edge was watched, never seen
			s.Absence.LastSeen[m.intent.Node(t.From).Name+"\x00"+m.intent.Node(t.To).Name] = at
		})
	}
	if e.learner != nil {
		l := e.learner.Export()
		s.Learned = &l
	}
	return s
}

// Restore takes up a state kept by an earlier run; first sights it holds are not logged again.
func (e *Engine) Restore(s State) {
	m := e.current.Load()
	for _, f := range s.FirstSeen {
		caller := intent.Peer{ID: m.intent.Lookup(f.Caller), Name: f.Caller}
		callee := intent.Peer{ID: m.intent.Lookup(f.Callee), Name: f.Callee}
		e.sights.Restore(firstsight.Edge{Caller: f.Caller, Callee: f.Callee, Kind: f.Kind}, f.At,
			modelledEdge(caller, callee, f.Caller == intent.External))
	}
	if m.absence != nil {
		m.absence.Resume(s.Absence.Start, e.set.Now(), func(from, to string) (int64, bool) {
			at, ok := s.Absence.LastSeen[from+"\x00"+to]
			return at, ok
		})
	}
	if e.learner != nil && s.Learned != nil {
		e.learner.Restore(*s.Learned)
	}
}

// What learn mode remembers at most.
const (
	maxLearnedNodes = 10_000
	maxLearnedEdges = 100_000
)

// Learned is the observed system merged with the current intent, as an intent file; nil when
// learning is off.
func (e *Engine) Learned() ([]byte, error) {
	if e.learner == nil {
		return nil, nil
	}
	m, notes := e.learner.Model(e.current.Load().intent.Model)
	return intent.Write(m, notes)
}

// BehaviourStats returns the window summary of every edge with expectations.
func (e *Engine) BehaviourStats() []behaviour.EdgeStats { return e.behaviour.Stats() }
