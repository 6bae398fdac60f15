package behaviour

import "time"

// siblings counts recent calls by parent span: all calls to a callee under one parent (fan-out),
// and those with one operation (re-sends). Groups expire in arrival order and are bounded in number.
type siblings struct {
	max    int
	groups map[sibKey]*group
	queue  []queued
	head   int
}

type sibKey struct {
	trace  [16]byte
	parent [8]byte
	callee string
	op     string // "" counts every operation
}

type group struct {
	count   int
	expires time.Time
}

type queued struct {
	key     sibKey
	expires time.Time
}

func newSiblings(max int) siblings { return siblings{max: max, groups: map[sibKey]*group{}} }

// add counts one call at now and returns how many calls under its parent had its operation, and how
// many went to its callee at all, this one included. A group lives for ttl after its first call.
func (s *siblings) add(trace [16]byte, parent [8]byte, callee, op string, now time.Time, ttl time.Duration) (same, all int) {
	for s.head < len(s.queue) && !s.queue[s.head].expires.After(now) {
		s.pop()
	}
	if s.head > 64 && s.head > len(s.queue)/2 {
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	expires := now.Add(ttl)
	return s.count(sibKey{trace, parent, callee, op}, expires), s.count(sibKey{trace, parent, callee, ""}, expires)
}

func (s *siblings) count(k sibKey, expires time.Time) int {
	if g, ok := s.groups[k]; ok {
		g.count++
		return g.count
	}
	for len(s.groups) >= s.max && s.head < len(s.queue) { // full: forget the oldest group
		s.pop()
	}
	s.groups[k] = &group{count: 1, expires: expires}
	s.queue = append(s.queue, queued{k, expires})
	return 1
}

func (s *siblings) pop() {
	if s.head >= len(s.queue) {
		return
	}
	q := s.queue[s.head]
	s.queue[s.head] = queued{}
	s.head++
	if g, ok := s.groups[q.key]; ok && g.expires.Equal(q.expires) {
		delete(s.groups, q.key)
	}
}
