package absence

import (
	"strings"
	"testing"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

var t0 = time.Unix(1_700_000_000, 0)

const absenceModel = `version: 1
services:
  checkout: {depends_on: [payment, cart]}
  payment: {}
  cart: {}
  fraud: {}
rules:
  - name: fraud-checks
    require: {from: checkout, to: fraud}
`

func TestAbsence(t *testing.T) {
	m, err := intent.LoadBytes("a.yaml", []byte(absenceModel))
	if err != nil {
		t.Fatal(err)
	}
	checkout, payment, cart := m.Lookup("checkout"), m.Lookup("payment"), m.Lookup("cart")
	a := New(m, time.Hour, 10)
	a.Check(t0, func(intent.TrackedEdge, bool) {}) // watching starts
	changes := map[string]bool{}
	check := func(now time.Time) {
		a.Check(now, func(e intent.TrackedEdge, absent bool) {
			name := m.Node(e.From).Name + " -> " + m.Node(e.To).Name
			if e.Require != nil {
				name += " (required)"
			}
			changes[name] = absent
		})
	}
	// an hour and more of checkout calling payment only, but too little to judge: nothing is absent
	for i := 0; i < 5; i++ {
		a.Call(checkout, m.Edge(checkout, payment).Index, t0.Add(time.Duration(i)*10*time.Minute))
	}
	check(t0.Add(61 * time.Minute))
	if len(changes) != 0 {
		t.Fatalf("a quiet caller made edges absent: %v", changes)
	}
	// enough calls: cart and fraud have not been seen for an hour
	for i := 0; i < 10; i++ {
		a.Call(checkout, m.Edge(checkout, payment).Index, t0.Add(61*time.Minute))
	}
	check(t0.Add(62 * time.Minute))
	want := map[string]bool{"checkout -> cart": true, "checkout -> fraud (required)": true}
	if len(changes) != 2 || !changes["checkout -> cart"] || !changes["checkout -> fraud (required)"] {
		t.Fatalf("absent: %v, want %v", changes, want)
	}
	// cart comes back
	a.Call(checkout, m.Edge(checkout, cart).Index, t0.Add(63*time.Minute))
	check(t0.Add(64 * time.Minute))
	if changes["checkout -> cart"] {
		t.Fatal("cart was seen again and is still absent")
	}
	n := 0
	a.EachAbsent(func(intent.TrackedEdge) { n++ })
	if n != 1 {
		t.Fatalf("%d absent edges, want the required one", n)
	}
}

// TestAbsenceContinuesAcrossReload: an edit of the intent file (here a new service, which renumbers
// the nodes, and a new dependency) neither clears nor re-reports the edges already absent; the new
// dependency is watched from the reload.
func TestAbsenceContinuesAcrossReload(t *testing.T) {
	before, err := intent.LoadBytes("a.yaml", []byte(absenceModel))
	if err != nil {
		t.Fatal(err)
	}
	a := New(before, time.Hour, 10)
	a.Check(t0, func(intent.TrackedEdge, bool) {})
	checkout, payment := before.Lookup("checkout"), before.Lookup("payment")
	for i := 0; i < 10; i++ {
		a.Call(checkout, before.Edge(checkout, payment).Index, t0.Add(61*time.Minute))
	}
	a.Check(t0.Add(62*time.Minute), func(intent.TrackedEdge, bool) {})

	edited := strings.NewReplacer("services:\n", "services:\n  search: {}\n", "[payment, cart]", "[search, payment, cart]").Replace(absenceModel)
	after, err := intent.LoadBytes("a.yaml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	reload := t0.Add(62 * time.Minute)
	b := New(after, time.Hour, 10)
	b.Continue(a, reload)
	absent := func() map[string]bool {
		got := map[string]bool{}
		b.EachAbsent(func(e intent.TrackedEdge) { got[after.Node(e.From).Name+" -> "+after.Node(e.To).Name] = true })
		return got
	}
	changes := map[string]bool{}
	check := func(now time.Time) {
		b.Check(now, func(e intent.TrackedEdge, absent bool) {
			changes[after.Node(e.From).Name+" -> "+after.Node(e.To).Name] = absent
		})
	}
	if got := absent(); len(got) != 2 || !got["checkout -> cart"] || !got["checkout -> fraud"] {
		t.Fatalf("absent after the reload: %v, want cart and fraud still", got)
	}
	check(reload.Add(time.Minute))
	if len(changes) != 0 {
		t.Fatalf("the reload changed absence: %v", changes)
	}
	// checkout's activity carried over: ten more calls an hour later keep it busy enough
	co, pay := after.Lookup("checkout"), after.Lookup("payment")
	for i := 0; i < 10; i++ {
		b.Call(co, after.Edge(co, pay).Index, reload.Add(61*time.Minute))
	}
	check(reload.Add(61 * time.Minute))
	if len(changes) != 1 || !changes["checkout -> search"] {
		t.Fatalf("changes an hour after the reload: %v, want the new dependency absent", changes)
	}
	if got := absent(); len(got) != 3 {
		t.Fatalf("absent: %v", got)
	}
}

// TestCallsBetweenChecksAreSavedAndCarried: a save (EachSeen) or a reload (Continue) sees the calls
// made since the last check, not only those a check has looked at.
func TestCallsBetweenChecksAreSavedAndCarried(t *testing.T) {
	m, err := intent.LoadBytes("a.yaml", []byte(absenceModel))
	if err != nil {
		t.Fatal(err)
	}
	checkout := m.Lookup("checkout")
	pay, cart := m.Edge(checkout, m.Lookup("payment")).Index, m.Edge(checkout, m.Lookup("cart")).Index
	name := func(e intent.TrackedEdge) string { return m.Node(e.From).Name + " -> " + m.Node(e.To).Name }
	a := New(m, time.Hour, 1)
	a.Check(t0, func(intent.TrackedEdge, bool) {})
	a.Call(checkout, pay, t0.Add(10*time.Minute))
	a.Call(checkout, cart, t0.Add(20*time.Minute))

	seen := map[string]int64{}
	a.EachSeen(func(e intent.TrackedEdge, at int64) { seen[name(e)] = at })
	// never earlier than it was seen; no later than the latest call
	if at := seen["checkout -> payment"]; at < t0.Add(10*time.Minute).UnixNano() || at > t0.Add(20*time.Minute).UnixNano() {
		t.Errorf("payment saved as seen at %v, want between its call and the latest", time.Unix(0, at).Sub(t0))
	}
	if at := seen["checkout -> cart"]; at != t0.Add(20*time.Minute).UnixNano() {
		t.Errorf("cart saved as seen at %v, want 20m", time.Unix(0, at).Sub(t0))
	}
	if at := seen["checkout -> fraud"]; at != 0 {
		t.Errorf("fraud, never called, saved as seen at %v", time.Unix(0, at).Sub(t0))
	}

	// cart is called again, and the intent file reloaded before any check
	a.Call(checkout, cart, t0.Add(90*time.Minute))
	b := New(m, time.Hour, 1)
	b.Continue(a, t0.Add(90*time.Minute))
	absent := map[string]bool{}
	b.Check(t0.Add(100*time.Minute), func(e intent.TrackedEdge, is bool) { absent[name(e)] = is })
	if len(absent) != 2 || !absent["checkout -> payment"] || !absent["checkout -> fraud"] {
		t.Fatalf("absent after the reload: %v, want payment and fraud (cart was called 10 minutes ago)", absent)
	}
}
