package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

// driftctl runs the command in-process and returns its exit code, standard output and error.
func driftctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func checkJSON(t *testing.T, args ...string) (int, report.Report) {
	t.Helper()
	code, out, errOut := driftctl(t, append([]string{"check", "--format", "json"}, args...)...)
	var r report.Report
	require.NoError(t, json.Unmarshal([]byte(out), &r), "stdout: %s\nstderr: %s", out, errOut)
	return code, r
}

// withoutLine writes the intent with one line left out, and returns its path.
func withoutLine(t *testing.T, src, line string) string { return replaced(t, src, line+"\n", "") }

// replaced writes the intent with old replaced by new, and returns its path.
func replaced(t *testing.T, src, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	changed := strings.Replace(string(data), old, new, 1)
	require.NotEqual(t, string(data), changed, "the intent has no %q", old)
	path := filepath.Join(t.TempDir(), "intent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(changed), 0o600))
	return path
}

var traceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestCheckBoutique: the real minute against its declared architecture: every call judged, all
// conforming, each row citing the line that declares it and a trace of its own; exit 0.
func TestCheckBoutique(t *testing.T) {
	code, r := checkJSON(t, "--intent", capturetest.BoutiqueIntent(), capturetest.BoutiqueFile())
	assert.Equal(t, ExitOK, code)
	assert.EqualValues(t, capturetest.BoutiqueSpans, r.Spans)
	assert.EqualValues(t, capturetest.BoutiqueCalls, r.Calls)
	assert.Zero(t, r.Unresolved)
	assert.Len(t, r.Edges, 16, "15 observed edges and the calls from outside")
	var calls int64
	for _, e := range r.Edges {
		assert.Equal(t, report.Conforming, e.Status, "%s -> %s", e.Caller, e.Callee)
		assert.Positive(t, e.IntentLine, "%s -> %s", e.Caller, e.Callee)
		assert.Regexp(t, traceID, e.ExampleTrace)
		calls += e.Calls
	}
	assert.EqualValues(t, capturetest.BoutiqueCalls, calls)
}

// TestCheckDrift: an intent that leaves frontend -> currencyservice out: that edge, and nothing
// else, drifts, with the line of frontend's depends_on; every rendering says so, and --fail-on
// decides the exit code.
func TestCheckDrift(t *testing.T) {
	intentFile := withoutLine(t, capturetest.BoutiqueIntent(), "      - currencyservice")
	code, r := checkJSON(t, "--intent", intentFile, capturetest.BoutiqueFile())
	assert.Equal(t, ExitDrift, code)
	var drift []report.Edge
	for _, e := range r.Edges {
		if e.Status != report.Conforming {
			drift = append(drift, e)
		}
	}
	require.Len(t, drift, 1, "only the edge the change left out drifts: %+v", drift)
	d := drift[0]
	assert.Equal(t, report.Edge{Caller: "frontend", Callee: "currencyservice", Status: report.Drift, Kind: "undeclared_dependency",
		Rule: "depends_on", Severity: "warning", Calls: capturetest.BoutiqueFrontendToCurrency, ExampleTrace: d.ExampleTrace,
		IntentLine: 17, Message: "frontend -> currencyservice is not in the depends_on of frontend (" + intentFile + ":17)."}, d)
	assert.Equal(t, r.Edges[0], d, "drift comes first")

	code, _, _ = driftctl(t, "check", "--intent", intentFile, "--fail-on", "critical", capturetest.BoutiqueFile())
	assert.Equal(t, ExitOK, code, "a warning does not fail --fail-on critical")

	_, text, _ := driftctl(t, "check", "--intent", intentFile, capturetest.BoutiqueFile())
	assert.Regexp(t, `(?m)^DRIFT\s+frontend -> currencyservice\s+undeclared_dependency\s+warning\s+1438 calls\s+\S+intent.yaml:17\s+trace [0-9a-f]{32}$`, text)
	assert.Equal(t, 1, strings.Count(text, "DRIFT"))

	_, gh, _ := driftctl(t, "check", "--intent", intentFile, "--format", "github", capturetest.BoutiqueFile())
	lines := strings.Split(strings.TrimSpace(gh), "\n")
	require.Len(t, lines, 2, "one annotation, one summary: %s", gh)
	assert.Equal(t, "::warning file="+intentFile+",line=17,title=drift%3A undeclared_dependency frontend -> currencyservice::"+
		d.Message+" (1438 calls, example trace "+d.ExampleTrace+")", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "::notice title=driftctl check::"))

	_, md, _ := driftctl(t, "check", "--intent", intentFile, "--format", "markdown", capturetest.BoutiqueFile())
	assert.Contains(t, md, "| drift | `frontend -> currencyservice` | undeclared_dependency | warning | depends_on | 1438 | `"+intentFile+":17` | "+d.ExampleTrace+" |")
	assert.Contains(t, md, "<summary>15 conforming edges</summary>")

	_, junit, _ := driftctl(t, "check", "--intent", intentFile, "--format", "junit", capturetest.BoutiqueFile())
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(junit), &suites))
	require.Len(t, suites.Suites, 1)
	s := suites.Suites[0]
	assert.Equal(t, 16, s.Tests)
	assert.Equal(t, 1, s.Failures)
	assert.Equal(t, "frontend -> currencyservice undeclared_dependency", s.Cases[0].Name)
	assert.Equal(t, "undeclared_dependency", s.Cases[0].Failure.Type)
}

// TestFormatsAgree: the same traces written by Jaeger (its query API's answer) and as OTLP give the
// same rows; so do the Zipkin captures against the intent learned from them.
func TestFormatsAgree(t *testing.T) {
	jaegerFile := filepath.Join(capturetest.Dir(), "jaeger", "boutique-traces.json")
	_, fromJaeger := checkJSON(t, "--intent", capturetest.BoutiqueIntent(), jaegerFile)

	// the same ten traces, from the OTLP minute
	ids := map[string]bool{}
	var resp struct {
		Data []struct {
			TraceID string `json:"traceID"`
		} `json:"data"`
	}
	data, err := os.ReadFile(jaegerFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &resp))
	for _, tr := range resp.Data {
		ids[tr.TraceID] = true
	}
	require.Len(t, ids, 10)
	subset := filepath.Join(t.TempDir(), "subset.json")
	writeTraces(t, subset, ids)
	_, fromOTLP := checkJSON(t, "--intent", capturetest.BoutiqueIntent(), subset)

	assert.Positive(t, fromOTLP.Calls)
	assert.Equal(t, fromOTLP.Spans, fromJaeger.Spans)
	assert.Equal(t, fromOTLP.Calls, fromJaeger.Calls)
	assert.Equal(t, rows(fromOTLP), rows(fromJaeger))

	dir := filepath.Join(capturetest.Dir(), "zipkin")
	for _, f := range []string{"yelp.json", "messaging-kafka.json", "smartthings-mobile-web-install.json.gz"} {
		learned := filepath.Join(t.TempDir(), "learned.yaml")
		code, _, errOut := driftctl(t, "learn", filepath.Join(dir, f), "-o", learned)
		require.Equal(t, ExitOK, code, errOut)
		code, r := checkJSON(t, "--intent", learned, filepath.Join(dir, f))
		assert.Equal(t, ExitOK, code, f)
		assert.Positive(t, r.Calls, f)
		for _, e := range r.Edges {
			assert.Equal(t, report.Conforming, e.Status, "%s: %s -> %s %s", f, e.Caller, e.Callee, e.Kind)
		}
	}
}

func rows(r report.Report) map[string]int64 {
	out := map[string]int64{}
	for _, e := range r.Edges {
		out[e.Caller+" -> "+e.Callee+" "+e.Status+" "+e.Kind] += e.Calls
	}
	return out
}

// TestImpact: taking frontend -> currencyservice out and declaring cartservice -> emailservice:
// the first newly drifts with its calls, the second is newly absent; the change undone turns the
// first back to conforming. --base reads the old intent from git.
func TestImpact(t *testing.T) {
	changed := withoutLine(t, capturetest.BoutiqueIntent(), "      - currencyservice")
	data, err := os.ReadFile(changed)
	require.NoError(t, err)
	data = bytes.Replace(data, []byte("depends_on: [redis-cart]"), []byte("depends_on: [redis-cart, emailservice]"), 1)
	require.NoError(t, os.WriteFile(changed, data, 0o600))

	impactJSON := func(args ...string) Impact {
		code, out, errOut := driftctl(t, append([]string{"impact", "--format", "json"}, args...)...)
		require.Equal(t, ExitOK, code, errOut)
		var im Impact
		require.NoError(t, json.Unmarshal([]byte(out), &im), out)
		return im
	}
	im := impactJSON("--old", capturetest.BoutiqueIntent(), "--new", changed, capturetest.BoutiqueFile())
	require.Len(t, im.NewlyDrifting, 1)
	nd := im.NewlyDrifting[0]
	assert.Equal(t, ImpactEdge{Caller: "frontend", Callee: "currencyservice", Kinds: []string{"undeclared_dependency"},
		Calls: capturetest.BoutiqueFrontendToCurrency, ExampleTrace: nd.ExampleTrace, IntentLine: 17}, nd)
	assert.Regexp(t, traceID, nd.ExampleTrace)
	assert.Empty(t, im.NewlyConforming)
	assert.Equal(t, []AbsentEdge{{Caller: "cartservice", Callee: "emailservice", IntentLine: 32}}, im.NewlyAbsent)

	back := impactJSON("--old", changed, "--new", capturetest.BoutiqueIntent(), capturetest.BoutiqueFile())
	assert.Empty(t, back.NewlyDrifting)
	assert.Empty(t, back.NewlyAbsent, "the old intent declared what is unobserved; nothing new is")
	require.Len(t, back.NewlyConforming, 1)
	assert.Equal(t, "currencyservice", back.NewlyConforming[0].Callee)

	// --base: the intent before the change is the committed one
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	orig, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "intent"), 0o755))
	inRepo := filepath.Join(repo, "intent", "shop.yaml")
	require.NoError(t, os.WriteFile(inRepo, orig, 0o600))
	git("add", ".")
	git("commit", "-q", "-m", "intent")
	require.NoError(t, os.WriteFile(inRepo, data, 0o600))
	fromGit := impactJSON("--base", "HEAD", "--new", inRepo, capturetest.BoutiqueFile())
	assert.Equal(t, im.NewlyDrifting, fromGit.NewlyDrifting)
	assert.Equal(t, im.NewlyAbsent, fromGit.NewlyAbsent)
	assert.Equal(t, "HEAD:"+inRepo, fromGit.Old)

	_, md, _ := driftctl(t, "impact", "--format", "markdown", "--old", capturetest.BoutiqueIntent(), "--new", changed, capturetest.BoutiqueFile())
	assert.Contains(t, md, "| `frontend -> currencyservice` | undeclared_dependency | 1438 | "+nd.ExampleTrace+" | `"+changed+":17` |")
	assert.Contains(t, md, "| `cartservice -> emailservice` | `"+changed+":32` |")
}

// TestExplain: the declarations that decide, with their lines, and the verdict.
func TestExplain(t *testing.T) {
	parity := filepath.Join(capturetest.Dir(), "parity", "intent.yaml")
	code, out, errOut := driftctl(t, "explain", "--intent", parity, "adservice", "mysql")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "  caller: service adservice, declared at "+parity+":")
	assert.Contains(t, out, "  dependency: declared at "+parity+":47 (any operation)")
	assert.Contains(t, out, "  rule ads-read-no-database ("+parity+":63, critical) denies it: the first rule that matches decides")
	assert.Contains(t, out, "verdict: drift forbidden_dependency (severity critical, rule ads-read-no-database, "+parity+":63)")

	_, out, _ = driftctl(t, "explain", "--intent", capturetest.BoutiqueIntent(), "frontend", "cartservice")
	assert.Contains(t, out, "  dependency: declared at "+capturetest.BoutiqueIntent()+":19 (any operation)")
	assert.Contains(t, out, "  rules: no deny rule selects it")
	assert.Contains(t, out, "verdict: conforming")

	_, out, _ = driftctl(t, "explain", "--intent", capturetest.BoutiqueIntent(), "external", "cartservice")
	assert.Contains(t, out, "verdict: drift undeclared_ingress")

	code, _, errOut = driftctl(t, "explain", "--intent", capturetest.BoutiqueIntent(), "frontend")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "want CALLER CALLEE [OPERATION]")
}

// TestValidate: each lint check on an intent written to trip it, at its line; a broken intent is
// an error with file, line and key; the exit codes.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	lintme := filepath.Join(dir, "lint.yaml")
	require.NoError(t, os.WriteFile(lintme, []byte(`version: 1
layers: [web, core, data, unused]
services:
  web:
    layer: web
    ingress: true
    depends_on: [api, ledger-db]
  api:
    layer: core
    depends_on: [store]
  island:
    layer: core
    depends_on: [api]
  lonely:
    layer: core
    expect: {latency: {max: 10ms}}
    expect_incoming: {latency: {max: 10ms}}
resources:
  store: {kind: database, layer: data, match: {db.system.name: postgresql}}
  ledger-db: {kind: database, layer: data, match: {db.system.name: mysql}}
  spare-db: {kind: database, layer: data, match: {db.system.name: redis}}
rules:
  - name: no-web-to-db
    deny: {from: web, to: {kind: database}}
  - name: no-web-to-ledger
    deny: {from: web, to: ledger-db}
  - name: nothing-from-ops
    deny: {from: ops-*, to: api}
  - name: all-excepted
    deny: {from: api, to: store}
    except: [{from: api}]
`), 0o600))
	code, out, _ := driftctl(t, "validate", lintme)
	assert.Equal(t, ExitDrift, code, "a declared dependency a rule denies is an error")
	want := []string{
		lintme + ":2: warning: layer unused has no members [layer-empty]",
		lintme + ":7: error: web -> ledger-db is declared, but rule no-web-to-db (line 23) denies it: every call along it is forbidden_dependency [dependency-forbidden]",
		lintme + ":11: warning: service island: no ingress reaches it through declared dependencies [unreachable]",
		lintme + ":14: warning: service lonely: no ingress reaches it through declared dependencies [unreachable]",
		lintme + ":16: warning: lonely: expect applies to its dependencies, but it declares none [expect-without-edge]",
		lintme + ":17: warning: lonely: expect_incoming applies to calls into it, but nothing depends on it and it is not an ingress [expect-without-edge]",
		lintme + ":21: warning: resource spare-db: no service depends on it and no rule names it [resource-unused]",
		lintme + ":25: warning: rule no-web-to-ledger is shadowed by rule no-web-to-db (line 23): every call it denies, that earlier rule denies first and names [rule-shadowed]",
		lintme + ":27: warning: rule nothing-from-ops selects no call between the services and resources of the model: it can match only names the model does not declare [rule-never-matches]",
		lintme + ":29: warning: rule all-excepted: its except excludes every call its from and to select, so it never denies anything [except-excludes-all]",
	}
	assert.Equal(t, want, strings.Split(strings.TrimSpace(out), "\n"))

	code, out, errOut := driftctl(t, "validate", capturetest.BoutiqueIntent())
	assert.Equal(t, ExitOK, code, out)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "1 files, 0 errors, 0 warnings")

	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("version: 1\nservices:\n  a:\n    depends_on: [b]\n    laeyr: core\n"), 0o600))
	code, out, _ = driftctl(t, "validate", broken)
	assert.Equal(t, ExitDrift, code)
	assert.Contains(t, out, broken+":5: services.a.laeyr:")

	warnOnly := replaced(t, capturetest.BoutiqueIntent(), "layers: [edge, frontend, core, data]", "layers: [edge, frontend, core, data, spare]")
	code, _, _ = driftctl(t, "validate", warnOnly)
	assert.Equal(t, ExitOK, code, "warnings alone pass")
	code, _, _ = driftctl(t, "validate", "--strict", warnOnly)
	assert.Equal(t, ExitDrift, code, "--strict fails on warnings")

	code, _, _ = driftctl(t, "validate")
	assert.Equal(t, ExitUsage, code)
}

// TestUsage: a wrong command line is exit 2 with a message; so is traffic that cannot be read.
func TestUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no command":      nil,
		"unknown command": {"chekc"},
		"no intent":       {"check", capturetest.BoutiqueFile()},
		"no traffic":      {"check", "--intent", capturetest.BoutiqueIntent()},
		"bad format":      {"check", "--intent", capturetest.BoutiqueIntent(), "--format", "xml", capturetest.BoutiqueFile()},
		"bad severity":    {"check", "--intent", capturetest.BoutiqueIntent(), "--fail-on", "high", capturetest.BoutiqueFile()},
		"missing file":    {"check", "--intent", capturetest.BoutiqueIntent(), "/nonexistent/traffic.json"},
		"bad flag":        {"check", "--intnet", "x"},
		"impact old+base": {"impact", "--old", "a", "--base", "HEAD", "--new", "b", "f"},
	} {
		code, _, errOut := driftctl(t, args...)
		assert.Equal(t, ExitUsage, code, name)
		assert.NotEmpty(t, errOut, name)
	}
}

// writeTraces writes the spans of the Boutique minute whose trace is in ids, as one OTLP/JSON request.
func writeTraces(t *testing.T, path string, ids map[string]bool) {
	t.Helper()
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool { return !ids[s.TraceID().String()] })
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// TestLearnAndMerge: three gateways each see whole traces of the minute and learn; one of them saw
// every checkout, which the others never saw. The merge of their models judges the whole minute
// conforming, while a model alone does not.
func TestLearnAndMerge(t *testing.T) {
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	checkout := map[string]bool{}
	capturetest.EachSpan(td, func(res pcommon.Resource, s ptrace.Span) {
		if v, _ := res.Attributes().Get("service.name"); v.Str() == "checkoutservice" {
			checkout[s.TraceID().String()] = true
		}
	})
	thirds := [3]map[string]bool{{}, {}, {}}
	capturetest.EachSpan(td, func(_ pcommon.Resource, s ptrace.Span) {
		id := s.TraceID()
		switch {
		case checkout[id.String()]:
			thirds[0][id.String()] = true
		default:
			thirds[1+int(id[15])%2][id.String()] = true
		}
	})
	require.NotEmpty(t, checkout)
	dir := t.TempDir()
	var models []string
	for i, ids := range thirds {
		traffic := filepath.Join(dir, fmt.Sprintf("gateway-%d.json", i))
		writeTraces(t, traffic, ids)
		learned := filepath.Join(dir, fmt.Sprintf("learned-%d.yaml", i))
		code, _, errOut := driftctl(t, "learn", traffic, "-o", learned)
		require.Equal(t, ExitOK, code, errOut)
		models = append(models, learned)
	}
	_, alone := checkJSON(t, "--intent", models[1], capturetest.BoutiqueFile())
	drifting, _ := alone.Drifting()
	assert.Positive(t, drifting, "a gateway that saw no checkout did not learn its edges")

	merged := filepath.Join(dir, "merged.yaml")
	code, _, errOut := driftctl(t, "learn", "--merge", models[0], "--merge", models[1], "--merge", models[2], "-o", merged)
	require.Equal(t, ExitOK, code, errOut)
	code, r := checkJSON(t, "--intent", merged, capturetest.BoutiqueFile())
	assert.Equal(t, ExitOK, code)
	assert.EqualValues(t, capturetest.BoutiqueCalls, r.Calls)
	for _, e := range r.Edges {
		assert.Equal(t, report.Conforming, e.Status, "%s -> %s %s", e.Caller, e.Callee, e.Kind)
	}
	code, out, _ := driftctl(t, "validate", merged)
	assert.Equal(t, ExitOK, code, out)
}

// TestCheckPaths: a path rule the minute breaks is listed with its chains, each with its calls,
// line and message, in every format, whichever kind its calls' rows show; it fails --fail-on at
// its severity even when those rows show a milder kind; and the map highlights its chains.
func TestCheckPaths(t *testing.T) {
	// adservice -> mysql left out of the model: its calls' rows show undeclared_dependency, a warning
	undeclared := replaced(t, capturetest.BoutiqueIntent(), "  adservice:\n    layer: core\n    depends_on: [mysql]\n", "  adservice: {layer: core}\n")
	base, err := os.ReadFile(undeclared)
	require.NoError(t, err)
	intentFile := filepath.Join(t.TempDir(), "intent.yaml")
	rule := "paths:\n  - name: ads-do-not-read-mysql-for-the-frontend\n    deny: {from: frontend, to: mysql, via: adservice}\n    severity: critical\n"
	require.NoError(t, os.WriteFile(intentFile, append(base, rule...), 0o600))
	line := strings.Count(string(base), "\n") + 2

	code, _, _ := driftctl(t, "check", "--intent", undeclared, "--fail-on", "critical", capturetest.BoutiqueFile())
	require.Equal(t, ExitOK, code, "without the path rule, a warning does not fail --fail-on critical")
	code, r := checkJSON(t, "--intent", intentFile, "--fail-on", "critical", capturetest.BoutiqueFile())
	assert.Equal(t, ExitDrift, code, "the critical path rule does")
	for _, e := range r.Edges {
		if e.Caller == "adservice" && e.Callee == "mysql" {
			assert.Equal(t, "undeclared_dependency", e.Kind, "the row shows the first kind in the table")
		} else {
			assert.Equal(t, report.Conforming, e.Status, "%s -> %s", e.Caller, e.Callee)
		}
	}
	require.Len(t, r.Paths, 1, "%+v", r.Paths)
	p := r.Paths[0]
	assert.Equal(t, report.Path{Rule: "ads-do-not-read-mysql-for-the-frontend", Kind: "forbidden_path", Severity: "critical", Status: report.Drift,
		Path: "frontend -> adservice -> mysql", Calls: 368, ExampleTrace: p.ExampleTrace, IntentLine: line,
		Message: fmt.Sprintf("frontend -> adservice -> mysql reaches mysql by a path it denies: path rule ads-do-not-read-mysql-for-the-frontend (%s:%d).", intentFile, line)}, p)
	assert.Regexp(t, traceID, p.ExampleTrace)

	_, text, _ := driftctl(t, "check", "--intent", intentFile, capturetest.BoutiqueFile())
	assert.Regexp(t, `(?m)^DRIFT\s+path frontend -> adservice -> mysql\s+forbidden_path\s+critical\s+368 calls\s+\S+intent.yaml:\d+\s+trace [0-9a-f]{32}$`, text)
	_, gh, _ := driftctl(t, "check", "--intent", intentFile, "--format", "github", capturetest.BoutiqueFile())
	assert.Contains(t, gh, fmt.Sprintf("::error file=%s,line=%d,title=drift%%3A forbidden_path frontend -> adservice -> mysql::", intentFile, line))
	_, md, _ := driftctl(t, "check", "--intent", intentFile, "--format", "markdown", capturetest.BoutiqueFile())
	assert.Contains(t, md, "| drift | `frontend -> adservice -> mysql` | forbidden_path | critical | ads-do-not-read-mysql-for-the-frontend | 368 |")

	svg := filepath.Join(t.TempDir(), "map.svg")
	code, _, errOut := driftctl(t, "map", "--intent", intentFile, "-o", svg, capturetest.BoutiqueFile())
	require.Equal(t, ExitOK, code, errOut)
	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(data), `class="path"`))
	assert.Contains(t, string(data), `data-path="frontend -&gt; adservice -&gt; mysql"`)
}

// TestValidatePaths: a path rule that a chain of declared dependencies breaks is an error, with
// the first such chain; a path rule that no declared chain breaks is not reported.
func TestValidatePaths(t *testing.T) {
	base, err := os.ReadFile(capturetest.BoutiqueIntent())
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "intent.yaml")
	lines := strings.Count(string(base), "\n")
	require.NoError(t, os.WriteFile(file, append(base, `paths:
  - name: catalog-behind-checkout
    require: {to: productcatalogservice, via: checkoutservice}
  - name: shallow
    max_depth: 2
  - name: no-mysql-through-the-cart
    deny: {from: frontend, to: mysql, via: cartservice}
  - name: no-loops
    cycles: deny
`...), 0o600))
	code, out, _ := driftctl(t, "validate", file)
	assert.Equal(t, ExitDrift, code)
	assert.Equal(t, []string{
		fmt.Sprintf("%s:%d: error: path rule catalog-behind-checkout: the declared dependencies allow loadgenerator -> frontend -> productcatalogservice, which breaks it: every request along it would be missing_waypoint [path-declared-breaks]", file, lines+2),
		fmt.Sprintf("%s:%d: error: path rule shallow: the declared dependencies allow loadgenerator -> frontend -> adservice -> mysql, which breaks it: every request along it would be depth_exceeded [path-declared-breaks]", file, lines+4),
	}, strings.Split(strings.TrimSpace(out), "\n"))
}
