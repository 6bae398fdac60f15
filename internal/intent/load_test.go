package intent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadShop(t *testing.T) {
	c, _, err := Load("../../testdata/intent/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.System != "astronomy-shop" || c.NumNodes() != 9 {
		t.Fatalf("system %q with %d nodes", c.System, c.NumNodes())
	}
	fe := c.Lookup("frontend")
	for _, alias := range []string{"frontend.shop.svc.cluster.local"} {
		if c.Lookup(alias) != fe {
			t.Errorf("alias %s does not name frontend", alias)
		}
	}
	if c.LookupAddr("frontend", 8080) != fe || c.LookupAddr("frontend", 9999) != fe {
		t.Error("frontend:8080 and frontend:9999 should both name frontend")
	}
	if c.LookupAddr("cart", 7070) != c.Lookup("cart") || c.Lookup("cart:7070") != NoNode {
		t.Error("the alias cart:7070 is an address, not a name")
	}
	dep := c.Dependency(fe, c.Lookup("checkout"))
	if dep == nil || !dep.AllowsOperation("oteldemo.CheckoutService", "/", "PlaceOrder") || dep.AllowsOperation("oteldemo.CheckoutService", "/", "Other") ||
		!dep.AllowsOperation("oteldemo.CheckoutService/PlaceOrder", "", "") || dep.AllowsOperation("oteldemo.CheckoutService/PlaceOrde", "", "r!") {
		t.Error("frontend -> checkout should allow PlaceOrder only")
	}
	if d := c.Dependency(fe, c.Lookup("cart")); d == nil || d.HasOperations() {
		t.Error("frontend -> cart should be declared with any operation")
	}
	if c.Dependency(fe, c.Lookup("payment")) != nil {
		t.Error("frontend -> payment is not declared")
	}
	if n := c.Node(c.Lookup("valkey-cart")); n.Kind != KindDatabase || c.Layers[n.Layer] != "data" {
		t.Errorf("valkey-cart: %+v", n)
	}
	if len(c.Rules()) != 2 || c.Rules()[0].Severity != SeverityCritical || c.Rules()[1].Severity != SeverityWarning {
		t.Errorf("rules: %+v", c.Rules())
	}
}

// TestLoadErrors checks one case per error class: each names the file, the line and the key.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // file:line: key: and a part of the message
	}{
		{"empty file", "", "f.yaml:1: version: the intent file is empty"},
		{"only a comment", "# nothing yet\n", "f.yaml:1: version: the intent file is empty"},
		{"not a mapping", "- version: 1\n", "f.yaml:1: (document): expected a mapping, found a list"},
		{"wrong version", "version: 2\nservices: {a: {}}\n", "f.yaml:1: version: unsupported version 2"},
		{"version not a number", "version: one\n", "f.yaml:1: version: expected an integer"},
		{"missing version", "system: x\nservices: {a: {}}\n", "f.yaml:1: version: missing"},
		{"unknown top key", "version: 1\nsystme: x\n", "f.yaml:2: systme: unknown key"},
		{"unknown service key", "version: 1\nservices:\n  a:\n    lyer: core\n", "f.yaml:4: services.a.lyer: unknown key"},
		{"unknown resource key", "version: 1\nresources:\n  db:\n    kind: database\n    macth: {db.system: x}\n", "f.yaml:5: resources.db.macth: unknown key"},
		{"unknown rule key", "version: 1\nservices: {a: {}}\nrules:\n  - name: r\n    deny: {from: a, to: a}\n    sevrity: info\n", "f.yaml:6: rules[0].sevrity: unknown key"},
		{"unknown selector key", "version: 1\nservices: {a: {}}\nrules:\n  - name: r\n    deny: {from: {nme: a}, to: a}\n", "f.yaml:5: rules[0].deny.from.nme: unknown key"},
		{"duplicate service", "version: 1\nservices:\n  a: {}\n  a: {}\n", "f.yaml:4: services.a: duplicate key"},
		{"service and resource share a name", "version: 1\nservices:\n  db: {}\nresources:\n  db: {kind: database}\n", "f.yaml:5: resources.db: duplicate name"},
		{"duplicate rule name", "version: 1\nservices: {a: {}, b: {}}\nrules:\n  - name: r\n    deny: {from: a, to: b}\n  - name: r\n    deny: {from: b, to: a}\n", "f.yaml:6: rules[1].name: duplicate rule name"},
		{"duplicate alias", "version: 1\nservices:\n  a: {aliases: [x]}\n  b:\n    aliases: [x]\n", "f.yaml:5: services.b.aliases: alias \"x\" is already"},
		{"duplicate alias with a port", "version: 1\nservices:\n  a: {aliases: [\"x:80\"]}\n  b:\n    aliases: [\"x:80\"]\n", "f.yaml:5: services.b.aliases: alias \"x:80\" is already used by a"},
		{"alias names another service", "version: 1\nservices:\n  a: {}\n  b:\n    aliases: [a]\n", "f.yaml:5: services.b.aliases: alias \"a\" is already a name or alias of a"},
		{"undefined dependency", "version: 1\nservices:\n  a:\n    depends_on:\n      - b\n", "f.yaml:5: services.a.depends_on[0]: depends on \"b\""},
		{"undefined dependency, long form", "version: 1\nservices:\n  a:\n    depends_on:\n      - {to: b}\n", "f.yaml:5: services.a.depends_on[0]: depends on \"b\""},
		{"unknown layer", "version: 1\nlayers: [edge, core]\nservices:\n  a:\n    layer: cor\n", "f.yaml:5: services.a.layer: unknown layer \"cor\""},
		{"unknown layer in a rule", "version: 1\nlayers: [edge]\nservices: {a: {layer: edge}}\nrules:\n  - name: r\n    deny: {from: {layer: core}, to: a}\n", "f.yaml:6: rules[0].deny.from.layer: no node has layer \"core\""},
		{"bad operation glob", "version: 1\nservices:\n  a:\n    depends_on:\n      - to: b\n        operations: [\"get[\"]\n  b: {}\n", "f.yaml:5: services.a.depends_on[0].operations[0]: bad glob \"get[\""},
		{"bad match glob", "version: 1\nresources:\n  db:\n    kind: database\n    match: {db.system: \"[redis\"}\n", "f.yaml:5: resources.db.match.db.system: bad glob"},
		{"bad selector glob", "version: 1\nservices: {a: {}}\nrules:\n  - name: r\n    deny: {from: \"[a\", to: a}\n", "f.yaml:5: rules[0].deny.from.name: bad glob"},
		{"selector names no node", "version: 1\nservices: {a: {}}\nrules:\n  - name: r\n    deny: {from: a, to: pyment}\n", "f.yaml:5: rules[0].deny.to: \"pyment\" is neither"},
		{"bad policy", "version: 1\npolicy:\n  undeclared: warn\n", "f.yaml:3: policy.undeclared: \"warn\" is not one of drift, allow"},
		{"bad kind", "version: 1\nresources:\n  q:\n    kind: queue\n", "f.yaml:4: resources.q.kind: \"queue\" is not one of"},
		{"resource without kind", "version: 1\nresources:\n  q:\n    layer: x\n", "f.yaml:3: resources.q.kind: missing"},
		{"bad severity", "version: 1\nservices: {a: {}}\nrules:\n  - name: r\n    deny: {from: a, to: a}\n    severity: high\n", "f.yaml:6: rules[0].severity: \"high\" is not one of"},
		{"rule without deny", "version: 1\nrules:\n  - name: r\n", "f.yaml:3: rules[0].deny: missing"},
		{"ingress not a bool", "version: 1\nservices:\n  a: {ingress: yes please}\n", "f.yaml:3: services.a.ingress: expected true or false"},
		{"syntax error", "version: 1\nservices:\n  a: [\n", "f.yaml:3: (syntax):"},
		{"reserved name", "version: 1\nservices:\n  external: {}\n", "f.yaml:3: services.external: \"external\" is reserved"},
		{"blank name", "version: 1\nservices:\n  \" \": {}\n", "f.yaml:3: services. : a name cannot be blank"},
		{"empty resource name", "version: 1\nresources:\n  \"\": {kind: database}\n", "f.yaml:3: resources.: a name cannot be blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes("f.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("loaded without error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
			var ie *Error
			if tt.name != "syntax error" && !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *intent.Error", err)
			}
		})
	}
}

// TestAddresses: a host's aliases with a port may name different nodes, the host alone names the node
// whose name or alias it is, and a host known only with ports names nothing by itself.
func TestAddresses(t *testing.T) {
	c, err := LoadBytes("a.yaml", []byte(`version: 1
services:
  web: {aliases: ["edge:443", web.internal]}
  admin: {aliases: ["edge:9090", "web:9090"]}
  api: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	web, admin := c.Lookup("web"), c.Lookup("admin")
	for _, tc := range []struct {
		host string
		port int64
		want NodeID
	}{
		{"edge", 443, web}, {"edge", 9090, admin}, {"edge", 80, NoNode}, {"edge", 0, NoNode},
		{"web", 9090, admin}, {"web", 80, web}, {"web", 0, web}, {"web.internal", 9090, web},
		{"api", 8080, c.Lookup("api")}, {"nowhere", 443, NoNode},
	} {
		if got := c.LookupAddr(tc.host, tc.port); got != tc.want {
			t.Errorf("LookupAddr(%s, %d) = %v, want %v", tc.host, tc.port, got, tc.want)
		}
	}
	if c.Lookup("edge") != NoNode || c.Lookup("edge:443") != NoNode {
		t.Error("an alias with a port is an address, not a name")
	}
}

func TestLoadReportsSeveralErrors(t *testing.T) {
	_, err := LoadBytes("f.yaml", []byte("version: 1\nservices:\n  a: {lyer: x}\n  b: {ownr: y}\n"))
	if err == nil || !strings.Contains(err.Error(), "f.yaml:3") || !strings.Contains(err.Error(), "f.yaml:4") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func TestLoadRefusesAliasBomb(t *testing.T) {
	var b strings.Builder
	// A billion strings if expanded; the loader walks only the shapes it expects, so it never does.
	b.WriteString("version: 1\nlayers:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  - &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err := LoadBytes("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "bomb.yaml:11: layers[8]: expected a string, found a list") {
		t.Fatalf("want a clear error for the aliased layers, got %v", err)
	}
}

func TestLoadRefusesHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	data := []byte("version: 1\n# " + strings.Repeat("x", MaxFileSize) + "\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want a size error, got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}

type mapAttrs map[string]string

func (m mapAttrs) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }

func TestMatchResourceFirstInFileOrder(t *testing.T) {
	c, err := LoadBytes("r.yaml", []byte(`version: 1
resources:
  any-redis: {kind: database, match: {db.system.name: "redis*"}}
  cache-a: {kind: database, match: {db.system.name: redis, db.namespace: a}}
  cache-b: {kind: database, match: {db.system.name: redis, db.namespace: b}}
  orders: {kind: messaging, match: {messaging.destination.name: orders}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		attrs mapAttrs
		want  string
	}{
		{mapAttrs{"db.system.name": "redis", "db.namespace": "b"}, "any-redis"},
		{mapAttrs{"db.system": "redis", "db.name": "a"}, "any-redis"},
		{mapAttrs{"messaging.destination": "orders"}, "orders"},
		{mapAttrs{"db.system.name": "postgresql"}, ""},
	} {
		got := ""
		if id := MatchResource(c, tt.attrs); id != NoNode {
			got = c.Node(id).Name
		}
		if got != tt.want {
			t.Errorf("%v: %q, want %q", tt.attrs, got, tt.want)
		}
	}
	c2, _ := LoadBytes("r.yaml", []byte(`version: 1
resources:
  cache-a: {kind: database, match: {db.system.name: redis, db.namespace: a}}
  cache-b: {kind: database, match: {db.system.name: redis, db.namespace: b}}
  any-redis: {kind: database, match: {db.system.name: "redis*"}}
`))
	if id := MatchResource(c2, mapAttrs{"db.system.name": "redis", "db.namespace": "b"}); id == NoNode || c2.Node(id).Name != "cache-b" {
		t.Errorf("indexed by db.namespace: got %v", id)
	}
	if id := MatchResource(c2, mapAttrs{"db.system.name": "redis", "db.namespace": "c"}); id == NoNode || c2.Node(id).Name != "any-redis" {
		t.Errorf("falls through to the glob: got %v", id)
	}
}

func TestExpectations(t *testing.T) {
	c, err := LoadBytes("e.yaml", []byte(`version: 1
services:
  web:
    expect: {latency: {max: 2s}, retries: 1}
    depends_on:
      - to: api
        expect: {latency: {p99: 200ms}, error_rate: 1%}
      - db
  api:
    expect_incoming: {calls_per_request: 10, latency: {max: 1s}}
resources:
  db: {kind: database, expect_incoming: {error_rate: "0.5%"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	web, api, db := c.Lookup("web"), c.Lookup("api"), c.Lookup("db")
	e, ok := c.Expectation(web, api)
	want := Expect{LatencyMax: 2 * time.Second, LatencyP99: 200 * time.Millisecond, ErrorRate: 0.01, HasErrorRate: true,
		Retries: 1, HasRetries: true, CallsPerRequest: 10, Line: 7}
	if !ok || e != want {
		t.Errorf("web -> api: %+v, want %+v", e, want)
	}
	if e, ok := c.Expectation(web, db); !ok || e.ErrorRate != 0.005 || e.LatencyMax != 2*time.Second {
		t.Errorf("web -> db: %+v", e)
	}
	if e, ok := c.Expectation(NoNode, api); !ok || e.LatencyMax != time.Second || e.CallsPerRequest != 10 {
		t.Errorf("unknown -> api: %+v", e)
	}
	if _, ok := c.Expectation(api, web); ok {
		t.Error("nothing is expected of api -> web")
	}
	plain, _ := LoadBytes("p.yaml", []byte("version: 1\nservices: {a: {depends_on: [b]}, b: {}}\n"))
	if plain.HasExpectations() {
		t.Error("a model without expect blocks expects nothing")
	}
}

func TestExpectErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"version: 1\nservices:\n  a:\n    expect: {latency: {max: fast}}\n", `e.yaml:4: services.a.expect.latency.max: "fast" is not a positive duration`},
		{"version: 1\nservices:\n  a:\n    expect: {error_rate: 120%}\n", `e.yaml:4: services.a.expect.error_rate: "120%" is not a percentage`},
		{"version: 1\nservices:\n  a:\n    expect: {error_rate: 0.5}\n", `e.yaml:4: services.a.expect.error_rate: "0.5" is not a percentage`},
		{"version: 1\nservices:\n  a:\n    expect:\n      latency: {max: 100ms, p99: 1s}\n", `e.yaml:5: services.a.expect.latency.p99: p99 1s is above max 100ms`},
		{"version: 1\nservices:\n  a:\n    expect: {retries: -1}\n", `e.yaml:4: services.a.expect.retries: must be at least 0`},
		{"version: 1\nservices:\n  a:\n    expect: {calls_per_request: 0}\n", `e.yaml:4: services.a.expect.calls_per_request: must be at least 1`},
		{"version: 1\nservices:\n  a:\n    expect: {latncy: {max: 1s}}\n", `e.yaml:4: services.a.expect.latncy: unknown key`},
		{"version: 1\nservices:\n  a:\n    depends_on:\n      - to: b\n        expect: {}\n  b: {}\n", `e.yaml:6: services.a.depends_on[0].expect: an empty expect block`},
		{"version: 1\nresources:\n  db: {kind: database, expect: {retries: 1}}\n", `e.yaml:3: resources.db.expect: unknown key "expect"`},
	} {
		_, err := LoadBytes("e.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}

func TestBaseline(t *testing.T) {
	b, err := ParseBaseline("b.yaml", []byte(`version: 1
accepted:
  - {caller: web, callee: pay, kind: forbidden_dependency, until: 2026-12-31, reason: PAY-123}
  - {caller: web, callee: reco}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if b.Match("web", "pay", "forbidden_dependency", now) != 0 || b.Match("web", "pay", "layer_violation", now) != -1 {
		t.Error("kind must match when given")
	}
	if b.Match("web", "reco", "unknown_service", now) != 1 {
		t.Error("no kind accepts every kind")
	}
	if b.Match("web", "pay", "forbidden_dependency", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) != -1 {
		t.Error("an entry past its date no longer applies")
	}
	for _, tt := range []struct{ yaml, want string }{
		{"version: 1\naccepted:\n  - {caller: web}\n", "b.yaml:3: accepted[0]: an entry needs a caller and a callee"},
		{"version: 1\naccepted:\n  - {caller: a, callee: b, until: soon}\n", `b.yaml:3: accepted[0].until: "soon" is not a date`},
		{"version: 1\naccepted:\n  - {caller: a, callee: b, why: x}\n", `b.yaml:3: accepted[0].why: unknown key`},
		{"", "b.yaml:1: version: the baseline file is empty"},
		{"# accepted later\n", "b.yaml:1: version: the baseline file is empty"},
		{"---\n", "b.yaml:2: (document): expected a mapping, found nothing"},
		{"[a, b]\n", "b.yaml:1: (document): expected a mapping, found a list"},
		{"version: 1\naccepted: {caller: a}\n", "b.yaml:2: accepted: expected a list, found a mapping"},
	} {
		if _, err := ParseBaseline("b.yaml", []byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %s", tt.yaml, err, tt.want)
		}
	}
}
