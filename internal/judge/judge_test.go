package judge

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

const model = `version: 1
policy: {undeclared: %s, unknown_services: %s}
layers: [edge, core, data]
services:
  gw: {layer: edge, ingress: true, depends_on: [api]}
  api:
    layer: core
    depends_on:
      - db
      - to: billing
        operations: ["Billing/Get*"]
  billing: {layer: core, owner: money}
resources:
  db: {kind: database, layer: data}
rules:
  - name: no-edge-to-data
    deny: {from: {layer: edge}, to: {kind: database}}
  - name: only-api-bills
    deny: {from: "*", to: {owner: money}}
    except: [{from: api}]
`

func compile(t *testing.T, undeclared, unknown string) *intent.Compiled {
	t.Helper()
	m, err := intent.LoadBytes("m.yaml", []byte(fmt.Sprintf(model, undeclared, unknown)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func peer(m *intent.Compiled, name string, kind intent.Kind) intent.Peer {
	return intent.Peer{ID: m.Lookup(name), Name: name, Kind: kind}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name               string
		undeclared, policy string // policy for unknown services
		from, to, op       string
		external           bool
		toKind             intent.Kind
		want               []Kind // all kinds that apply, the shown one first
		rule               string
	}{
		{name: "declared", from: "gw", to: "api", want: nil},
		{name: "declared with a matching operation", from: "api", to: "billing", op: "Billing/GetInvoice", want: nil},
		{name: "undeclared operation", from: "api", to: "billing", op: "Billing/Delete", want: []Kind{UndeclaredOperation}},
		{name: "deny by layer and kind selectors", from: "gw", to: "db", want: []Kind{ForbiddenDependency, UndeclaredDependency}, rule: "no-edge-to-data"},
		{name: "deny by owner, except api", from: "gw", to: "billing", want: []Kind{ForbiddenDependency, UndeclaredDependency}, rule: "only-api-bills"},
		{name: "up the layers", from: "billing", to: "gw", want: []Kind{LayerViolation, UndeclaredDependency}},
		{name: "sideways is fine for layers", from: "billing", to: "api", want: []Kind{UndeclaredDependency}},
		{name: "deny-list policy allows undeclared calls", undeclared: "allow", from: "billing", to: "api", want: nil},
		{name: "unknown callee", from: "api", to: "mystery", want: []Kind{UndeclaredDependency, UnknownService}},
		{name: "unknown caller", from: "mystery", to: "api", want: []Kind{UnknownService}},
		{name: "unknown services allowed", policy: "allow", from: "api", to: "mystery", want: nil},
		{name: "glob rule matches an unknown caller", from: "mystery", to: "billing", want: []Kind{ForbiddenDependency, UnknownService}, rule: "only-api-bills"},
		{name: "an unmodelled database matches a kind selector", from: "gw", to: "postgresql", toKind: intent.KindDatabase, want: []Kind{ForbiddenDependency, UndeclaredDependency, UnknownService}, rule: "no-edge-to-data"},
		{name: "ingress declared", external: true, to: "gw", want: nil},
		{name: "ingress undeclared", external: true, to: "api", want: []Kind{UndeclaredIngress}},
		{name: "ingress to an unknown service", external: true, to: "mystery", want: []Kind{UnknownService}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			undeclared, policy := tt.undeclared, tt.policy
			if undeclared == "" {
				undeclared = "drift"
			}
			if policy == "" {
				policy = "drift"
			}
			m := compile(t, undeclared, policy)
			c := &Call{Callee: peer(m, tt.to, tt.toKind), Operation: Op(tt.op), External: tt.external}
			if tt.external {
				c.Caller = intent.Peer{ID: intent.NoNode, Name: intent.External}
			} else {
				c.Caller = peer(m, tt.from, intent.KindService)
			}
			v := Judge(m, c)
			var want Kinds
			for _, k := range tt.want {
				want.Add(k)
			}
			if v.Kinds != want {
				t.Fatalf("kinds %08b, want %08b", v.Kinds, want)
			}
			if len(tt.want) == 0 {
				if v.Drift() {
					t.Fatal("drift on a conforming call")
				}
				return
			}
			if v.Kind() != tt.want[0] {
				t.Errorf("shows %s, want %s", v.Kind(), tt.want[0])
			}
			e := Explain(m, c, v)
			wantRule, wantSeverity := v.Kind().Rule(), v.Kind().Severity()
			if v.Kind() == ForbiddenDependency { // a deny rule decided: its name and severity show
				wantRule, wantSeverity = tt.rule, v.Rule.Severity
			}
			if e.Rule != wantRule || e.Severity != wantSeverity {
				t.Errorf("rule %q severity %q, want %q %q", e.Rule, e.Severity, wantRule, wantSeverity)
			}
			// One sentence that names the edge and the intent file's line.
			if edge := c.Caller.Name + " -> " + c.Callee.Name; !strings.HasPrefix(e.Message, edge) {
				t.Errorf("message %q does not start with the edge %q", e.Message, edge)
			}
			if !regexp.MustCompile(regexp.QuoteMeta(m.File) + `:[1-9][0-9]*\)`).MatchString(e.Message) {
				t.Errorf("message %q does not name %s and a line", e.Message, m.File)
			}
		})
	}
}

func TestJudgeConformingAllocatesNothing(t *testing.T) {
	m := compile(t, "drift", "drift")
	c := &Call{Caller: peer(m, "api", intent.KindService), Callee: peer(m, "billing", intent.KindService), Operation: Operation{Name: "Billing", Sep: "/", Detail: "GetInvoice", Structured: true}}
	if n := testing.AllocsPerRun(100, func() { _ = Judge(m, c) }); n != 0 {
		t.Fatalf("%v allocations per conforming call", n)
	}
}

// TestRulesOnKnownEdgesFoundOnce: on a known edge the judge takes the rule found when the model was
// compiled; it must be the first rule that matches the call, as trying every rule per call finds,
// for every pair of nodes: declared edges a rule denies, edges a require rule names, and the rest.
func TestRulesOnKnownEdgesFoundOnce(t *testing.T) {
	m, err := intent.LoadBytes("m.yaml", []byte(`version: 1
layers: [edge, core]
services:
  gw: {layer: edge, ingress: true, depends_on: [api, billing]}
  api: {layer: core, depends_on: [billing, gw]}
  billing: {layer: core, owner: money}
rules:
  - name: no-gw-to-billing
    deny: {from: gw, to: billing}
  - name: nothing-up
    deny: {from: {layer: core}, to: {layer: edge}}
  - name: only-api-bills
    deny: {from: "*", to: {owner: money}}
    except: [{from: api}]
  - name: billing-calls-gw
    require: {from: billing, to: gw}
`))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"gw", "api", "billing"}
	checked := 0
	for _, from := range names {
		for _, to := range names {
			c := &Call{Caller: peer(m, from, intent.KindService), Callee: peer(m, to, intent.KindService)}
			var want *intent.Rule
			for i := range m.Rules() {
				if m.Rules()[i].Matches(c.Caller, c.Callee) {
					want = &m.Rules()[i]
					break
				}
			}
			v := Judge(m, c)
			if v.Rule != want || v.Kinds.Has(ForbiddenDependency) != (want != nil) {
				t.Errorf("%s -> %s: rule %v, want %v", from, to, v.Rule, want)
			}
			if v.Edge() >= 0 {
				checked++
			}
		}
	}
	if checked != 5 { // four declared edges and one required
		t.Fatalf("%d known edges judged", checked)
	}
}
