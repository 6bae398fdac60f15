package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/importing"
	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

func sources(parts ...string) string {
	return filepath.Join(append([]string{capturetest.Dir(), "intent-sources"}, parts...)...)
}

func policyFiles(t *testing.T) []string {
	files, err := filepath.Glob(sources("online-boutique-network-policies", "network-policy-*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 13)
	return files
}

// allowed is the (from, to, port) set NetworkPolicies allow, read with the upstream Go types: from
// "*" is from anywhere, port "*" any port. Egress is left out on both sides: the official policies
// allow all of it.
func allowed(t *testing.T, docs [][]byte) map[string]bool {
	set := map[string]bool{}
	for _, data := range docs {
		require.NoError(t, importing.Documents("policy", data, func(doc *yaml.Node, _ int) error {
			var p networkingv1.NetworkPolicy
			require.NoError(t, importing.Strict(doc, &p), "a NetworkPolicy the upstream types read strictly")
			to := p.Spec.PodSelector.MatchLabels["app"]
			for _, rule := range p.Spec.Ingress {
				ports := []string{"*"}
				if len(rule.Ports) > 0 {
					ports = nil
					for _, port := range rule.Ports {
						ports = append(ports, port.Port.String())
					}
				}
				froms := []string{"*"}
				if len(rule.From) > 0 {
					froms = nil
					for _, peer := range rule.From {
						froms = append(froms, peer.PodSelector.MatchLabels["app"])
					}
				}
				for _, f := range froms {
					for _, port := range ports {
						set[f+" -> "+to+":"+port] = true
					}
				}
			}
			return nil
		}))
	}
	return set
}

// TestBoutiqueNetworkPolicyRoundTrip: the official NetworkPolicies make an intent that validates;
// on the fault-free minute it shows no structural drift but the capture's own: the Nezha dataset
// added MySQL to productcatalogservice and adservice, which the official manifests do not have, so
// those two edges (and only they) are undeclared. Exported back, the policies allow the same
// (from, to, port) set as the official files.
func TestBoutiqueNetworkPolicyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	imported := filepath.Join(dir, "intent.yaml")
	code, _, errOut := driftctl(t, append([]string{"import", "networkpolicy", "-o", imported}, policyFiles(t)...)...)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "12 nodes, 15 dependencies; 13 skipped")
	assert.Contains(t, errOut, "12: egress to anywhere names no dependency")
	assert.Contains(t, errOut, "network-policy-deny-all.yaml:15: NetworkPolicy deny-all skipped: it selects every pod")

	code, out, _ := driftctl(t, "validate", imported)
	assert.Equal(t, ExitOK, code, out)

	_, r := checkJSON(t, "--intent", imported, capturetest.BoutiqueFile())
	var drift []string
	for _, e := range r.Edges {
		if e.Status != report.Conforming {
			drift = append(drift, e.Caller+" -> "+e.Callee+" "+e.Kind)
		}
	}
	assert.ElementsMatch(t, []string{"adservice -> mysql undeclared_dependency", "productcatalogservice -> mysql undeclared_dependency"}, drift)

	code, exported, errOut := driftctl(t, "export", "networkpolicy", "--intent", imported)
	require.Equal(t, ExitOK, code, errOut)
	var official [][]byte
	for _, f := range policyFiles(t) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		official = append(official, data)
	}
	want := allowed(t, official)
	assert.Len(t, want, 16)
	assert.Equal(t, want, allowed(t, [][]byte{[]byte(exported)}))
}

// TestBackstageCatalog: Backstage's example catalog makes an intent that validates, and every
// relation of every entity is accounted for: declared, or skipped with its reason.
func TestBackstageCatalog(t *testing.T) {
	out := filepath.Join(t.TempDir(), "intent.yaml")
	code, _, errOut := driftctl(t, "import", "backstage", sources("backstage"), "-o", out)
	require.Equal(t, ExitOK, code, errOut)
	code, lint, _ := driftctl(t, "validate", out)
	assert.Equal(t, ExitOK, code, lint)

	r, err := importing.Backstage(sources("backstage"))
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, s := range r.Services {
		for _, d := range s.DependsOn {
			declared[s.Name+" -> "+d.To] = true
		}
	}
	// the relations, walked independently: entity, relation, target
	relations := map[string]string{ // what each becomes: a declaration, or why it was skipped
		"artist-lookup dependsOn resource:artists-db":              "artist-lookup -> artists-db",
		"wayback-search consumesApis wayback-archive":              "wayback-search -> wayback-archive",
		"wayback-archive-ingestion subcomponentOf wayback-archive": "skipped: a part, not a call",
		"wayback-archive-storage subcomponentOf wayback-archive":   "skipped: a part, not a call",
	}
	got := map[string]string{}
	for k, v := range relations {
		if strings.HasPrefix(v, "skipped: ") {
			i := slices.IndexFunc(r.Skipped, func(s importing.Skipped) bool { return s.What == k })
			if i >= 0 {
				got[k] = "skipped: " + r.Skipped[i].Why
			}
			continue
		}
		if declared[v] {
			got[k] = v
		}
	}
	assert.Equal(t, relations, got)
	for _, s := range r.Skipped {
		assert.Regexp(t, `\.yaml:\d+$`, s.Where, "a skip names its file and line: %s", s)
	}
	t.Logf("%d nodes, %d dependencies, %d skipped", len(r.Services), len(declared), len(r.Skipped))
	assert.Equal(t, len(declared), countRelations(t)-countSkippedRelations(r), "every relation is declared or skipped")
}

// countRelations counts dependsOn, dependencyOf and consumesApis entries in the catalog's files.
func countRelations(t *testing.T) int {
	n := 0
	files, _ := filepath.Glob(sources("backstage", "*", "*.yaml"))
	top, _ := filepath.Glob(sources("backstage", "*.yaml"))
	seen := map[string]bool{}
	for _, f := range append(files, top...) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, importing.Documents(f, data, func(doc *yaml.Node, _ int) error {
			var e struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     struct {
					DependsOn    []string `yaml:"dependsOn"`
					DependencyOf []string `yaml:"dependencyOf"`
					ConsumesApis []string `yaml:"consumesApis"`
				}
			}
			require.NoError(t, doc.Decode(&e))
			key := e.Kind + "/" + e.Metadata.Name
			if seen[key] {
				return nil
			}
			seen[key] = true
			n += len(e.Spec.DependsOn) + len(e.Spec.DependencyOf) + len(e.Spec.ConsumesApis)
			return nil
		}))
	}
	return n
}

func countSkippedRelations(r *importing.Result) int {
	n := 0
	for _, s := range r.Skipped {
		if strings.Contains(s.What, " dependsOn ") || strings.Contains(s.What, " dependencyOf ") || strings.Contains(s.What, " consumesApis ") {
			n++
		}
	}
	return n
}

// crdSchema compiles the schema of a CRD's version with a JSON-schema library.
func crdSchema(t *testing.T, file, version string) *jsonschema.Schema {
	data, err := os.ReadFile(sources("crds", file))
	require.NoError(t, err)
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema any `yaml:"openAPIV3Schema"`
				}
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(data, &crd))
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		doc := viaJSON(t, v.Schema.OpenAPIV3Schema)
		c := jsonschema.NewCompiler()
		require.NoError(t, c.AddResource(file, doc))
		s, err := c.Compile(file)
		require.NoError(t, err)
		return s
	}
	t.Fatalf("%s has no version %s", file, version)
	return nil
}

func viaJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return doc
}

// TestExportsValidate: the Istio and Otterize documents validate against their CRDs' schemas; the
// Istio ones are in dry run unless --enforce; every declared caller is allowed.
func TestExportsValidate(t *testing.T) {
	for _, c := range []struct{ kind, crd, version string }{
		{"istio", "istio-authorizationpolicy-crd.yaml", "v1"},
		{"otterize", "otterize-clientintents-crd.yaml", "v2alpha1"},
	} {
		schema := crdSchema(t, c.crd, c.version)
		code, out, errOut := driftctl(t, "export", c.kind, "--intent", capturetest.BoutiqueIntent(), "--namespace", "shop")
		require.Equal(t, ExitOK, code, errOut)
		n := 0
		require.NoError(t, importing.Documents(c.kind, []byte(out), func(doc *yaml.Node, line int) error {
			var v any
			require.NoError(t, doc.Decode(&v))
			assert.NoError(t, schema.Validate(viaJSON(t, v)), "%s document at line %d", c.kind, line)
			n++
			return nil
		}))
		assert.Positive(t, n, c.kind)
	}
	_, istio, _ := driftctl(t, "export", "istio", "--intent", capturetest.BoutiqueIntent(), "--namespace", "shop")
	assert.Equal(t, strings.Count(istio, "kind: AuthorizationPolicy"), strings.Count(istio, `istio.io/dry-run: "true"`))
	assert.Contains(t, istio, "cluster.local/ns/shop/sa/checkoutservice")
	_, enforced, _ := driftctl(t, "export", "istio", "--enforce", "--intent", capturetest.BoutiqueIntent())
	assert.NotContains(t, enforced, "dry-run")

	// a document that breaks the schema is refused: the validation can fail
	bad := map[string]any{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "spec": map[string]any{"action": "PERMIT"}}
	assert.Error(t, crdSchema(t, "istio-authorizationpolicy-crd.yaml", "v1").Validate(viaJSON(t, bad)))
}

// TestImportMergesIntoHandWritten: importing into an intent keeps its comments, layers, rules and
// expect blocks, and adds what is new with the source beside it.
func TestImportMergesIntoHandWritten(t *testing.T) {
	parity := filepath.Join(capturetest.Dir(), "parity", "intent.yaml")
	orig, err := os.ReadFile(parity)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "merged.yaml")
	code, _, errOut := driftctl(t, append([]string{"import", "networkpolicy", "--into", parity, "-o", out}, policyFiles(t)...)...)
	require.Equal(t, ExitOK, code, errOut)
	merged, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, line := range strings.Split(string(orig), "\n") {
		if c := strings.TrimSpace(line); strings.HasPrefix(c, "#") {
			assert.Contains(t, string(merged), c, "a comment of the hand-written intent is kept")
		}
	}
	for _, kept := range []string{"name: ads-read-no-database", "require: {from: recommendationservice, to: productcatalogservice}", "layers:", "expect"} {
		assert.Contains(t, string(merged), kept)
	}
	assert.Contains(t, string(merged), "- emailservice # NetworkPolicy emailservice (", "checkoutservice -> emailservice, left out by hand, comes in with its source")
	code, lint, _ := driftctl(t, "validate", out)
	assert.NotEqual(t, ExitUsage, code, lint)
}

// TestBadSources: a broken entity is an error naming file and line; an unknown ref and a selector
// that names no service are skipped, each with its file and line and why; nothing is dropped
// silently.
func TestBadSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	broken := write("broken.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec: {type: service}\n---\nkind: Component\nmetadata:\n  title: no name\n")
	code, _, errOut := driftctl(t, "import", "backstage", broken)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, broken+":7: metadata.name: missing")

	unknown := write("unknown.yaml", "kind: Component\nmetadata: {name: a}\nspec: {type: service, dependsOn: [component:nowhere]}\n")
	code, out, errOut := driftctl(t, "import", "backstage", unknown)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, unknown+":1: a dependsOn component:nowhere skipped: unknown ref: no such entity in the files read")
	assert.Contains(t, errOut, "1 nodes, 0 dependencies; 1 skipped")
	assert.Contains(t, out, "a:")

	selector := write("policy.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {matchLabels: {tier: web}}\n")
	code, _, errOut = driftctl(t, "import", "networkpolicy", selector)
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, selector+":1: NetworkPolicy p skipped: its podSelector has no app label")

	strict := write("strict.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelectr: {}\n")
	code, _, errOut = driftctl(t, "import", "networkpolicy", strict)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, strict+`:1: NetworkPolicy: json: unknown field "podSelectr"`)
	_ = fmt.Sprint()
}

// TestStructurizrExamples: Structurizr's examples make intents that validate: containers are the
// services, a Datastore a database, an External system an external resource, a person's
// relationship an ingress; tags go to layers and zones when asked; a relationship to a name the
// model lacks is an error at its line.
func TestStructurizrExamples(t *testing.T) {
	dsl := sources("structurizr", "microservices", "workspace.dsl")
	out := filepath.Join(t.TempDir(), "intent.yaml")
	code, _, errOut := driftctl(t, "import", "structurizr", "--layer-tag", "API=api", "--layer-tag", "Datastore=data", "--zone-tag", "External=outside", dsl, "-o", out)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "20 nodes, 24 dependencies; 0 skipped", "26 relationships, two of them from the user: ingress")
	code, lint, _ := driftctl(t, "validate", out)
	assert.Equal(t, ExitOK, code, lint)
	m, _, err := intentLoad(out)
	require.NoError(t, err)
	node := func(name string) (kind, layer, zone string, ingress bool) {
		id := m.Lookup(name)
		require.NotEqual(t, -1, int(id), name)
		n := m.Node(id)
		if n.Layer >= 0 {
			layer = m.Layers[n.Layer]
		}
		return n.Kind.String(), layer, n.Zone, n.Ingress
	}
	k, l, z, in := node("web-server")
	assert.Equal(t, []any{"service", "", "software-system-a", true}, []any{k, l, z, in})
	k, l, z, _ = node("service-3-api")
	assert.Equal(t, []any{"service", "api", "software-system-a"}, []any{k, l, z})
	k, l, _, _ = node("service-3-database")
	assert.Equal(t, []any{"database", "data"}, []any{k, l})
	k, _, z, _ = node("software-system-b")
	assert.Equal(t, []any{"external", "outside"}, []any{k, z})
	assert.NotNil(t, m.Dependency(m.Lookup("service-5-api"), m.Lookup("software-system-b")))

	code, _, errOut = driftctl(t, "import", "structurizr", sources("structurizr", "big-bank-plc", "workspace.dsl"))
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "8 nodes, 6 dependencies; 10 skipped")
	assert.Contains(t, errOut, "big-bank-plc/workspace.dsl:38: Internet Banking System -> Mainframe Banking System skipped: a person, or a software system drawn through its containers")

	bad := filepath.Join(t.TempDir(), "bad.dsl")
	require.NoError(t, os.WriteFile(bad, []byte("workspace {\n  model {\n    a = softwareSystem \"A\"\n    a -> nowhere \"Uses\"\n  }\n}\n"), 0o600))
	code, _, errOut = driftctl(t, "import", "structurizr", bad)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, bad+`:4: "nowhere" names no element of the model`)
}

// TestOpenSLOExamples: the OpenSLO examples become expect_incoming blocks: a latency objective
// (lt 500, target 0.99) a p99 of 500 ms, a ratio objective (target 0.99) an error rate of 1%; an
// objective that cannot be held is skipped with why; merged into an intent, a hand-written
// expect_incoming wins.
func TestOpenSLOExamples(t *testing.T) {
	files, err := filepath.Glob(sources("openslo", "*", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 4)
	out := filepath.Join(t.TempDir(), "intent.yaml")
	code, _, errOut := driftctl(t, append([]string{"import", "openslo", "-o", out}, files...)...)
	require.Equal(t, ExitOK, code, errOut)
	m, _, err := intentLoad(out)
	require.NoError(t, err)
	assert.True(t, m.HasExpectations())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(data), "web-shop:\n    expect_incoming: {latency: {p99: 500ms}, error_rate: 1%}")
	assert.Contains(t, string(data), "web-availability:\n    expect_incoming: {error_rate: 0.5%}")
	assert.Contains(t, errOut, "timeslices-slo.yaml:2: SLO service-availability objectives[1:] skipped: one expectation per service")

	base := filepath.Join(t.TempDir(), "base.yaml")
	require.NoError(t, os.WriteFile(base, []byte("version: 1\nservices:\n  # the shop\n  web-shop:\n    ingress: true\n    expect_incoming: {latency: {max: 2s}}   # agreed with the shop team\n"), 0o600))
	code, merged, errOut := driftctl(t, append([]string{"import", "openslo", "--into", base}, files...)...)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, merged, "# the shop")
	assert.Contains(t, merged, "expect_incoming: {latency: {max: 2s}} # agreed with the shop team")
	assert.NotContains(t, merged, "p99: 500ms", "the hand-written block wins")
}

var intentLoad = intent.Load
