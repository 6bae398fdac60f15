package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/driftprocessor/driftprocessor/internal/enforcing"
	"github.com/driftprocessor/driftprocessor/internal/importing"
	"github.com/driftprocessor/driftprocessor/internal/intent"
)

const importKinds = "backstage, networkpolicy, structurizr, openslo"

// importCmd: `driftctl import KIND PATH... [--into F] [-o OUT]`.
func importCmd(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	into := fs.String("into", "", "merge into this intent file, keeping what it holds (default: a new intent)")
	output := fs.String("o", "", "write the intent here (default: standard output)")
	label := fs.String("label", "app", "networkpolicy: the pod label that names a service")
	unit := fs.String("latency-unit", "ms", "openslo: the unit of a threshold objective's value (OpenSLO values have none)")
	var layerTags, zoneTags list
	fs.Var(&layerTags, "layer-tag", "structurizr: TAG=LAYER, elements with the tag go in the layer (repeatable)")
	fs.Var(&zoneTags, "zone-tag", "structurizr: TAG=ZONE, elements with the tag go in the zone (repeatable; default: a container's zone is its software system)")
	pos, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	if len(pos) < 2 {
		return usageError(errOut, "import", "want KIND PATH..., KIND one of %s", importKinds)
	}
	var r *importing.Result
	var err error
	switch pos[0] {
	case "backstage":
		r, err = importing.Backstage(pos[1:]...)
	case "networkpolicy":
		r, err = importing.NetworkPolicies(*label, pos[1:]...)
	case "openslo":
		r, err = importing.OpenSLO(*unit, pos[1:]...)
	case "structurizr":
		var tags importing.TagMap
		if tags, err = importing.ParseTagMap(layerTags, zoneTags); err != nil {
			return usageError(errOut, "import", "%v", err)
		}
		r, err = importing.Structurizr(tags, pos[1:]...)
	default:
		return usageError(errOut, "import", "kind %q: one of %s", pos[0], importKinds)
	}
	if err != nil {
		fmt.Fprintf(errOut, "driftctl import: %v\n", err)
		return ExitUsage
	}
	var base []byte
	if *into != "" {
		if base, err = os.ReadFile(*into); err != nil {
			fmt.Fprintf(errOut, "driftctl import: %v\n", err)
			return ExitUsage
		}
	}
	data, err := importing.Merge(base, r)
	if err == nil {
		name := *into
		if name == "" {
			name = "(imported)"
		}
		if _, err = intent.LoadBytes(name, data); err != nil {
			err = fmt.Errorf("the merged intent does not load: %w", err)
		}
	}
	if err != nil {
		fmt.Fprintf(errOut, "driftctl import: %v\n", err)
		return ExitDrift
	}
	reportSkipped(errOut, r)
	if err := write(out, *output, data); err != nil {
		fmt.Fprintf(errOut, "driftctl import: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// reportSkipped says what was not imported, one line each, and a count by reason.
func reportSkipped(w io.Writer, r *importing.Result) {
	why := map[string]int{}
	for _, s := range r.Skipped {
		fmt.Fprintln(w, "driftctl import: "+s.String())
		why[s.Why]++
	}
	reasons := make([]string, 0, len(why))
	for k := range why {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	deps := 0
	for _, s := range r.Services {
		deps += len(s.DependsOn)
	}
	fmt.Fprintf(w, "driftctl import: %d nodes, %d dependencies; %d skipped\n", len(r.Services), deps, len(r.Skipped))
	for _, k := range reasons {
		fmt.Fprintf(w, "driftctl import:   %d: %s\n", why[k], k)
	}
}

// exportCmd: `driftctl export KIND --intent F [--namespace N] [--label app] [--enforce] [-o OUT]`.
func exportCmd(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	file := fs.String("intent", "", "the intent file (required)")
	output := fs.String("o", "", "write the policies here (default: standard output)")
	var o enforcing.Options
	fs.StringVar(&o.Label, "label", "app", "the pod label that names a service")
	fs.StringVar(&o.Namespace, "namespace", "default", "the namespace of the services and policies")
	fs.BoolVar(&o.Enforce, "enforce", false, "istio: enforce, rather than the istio.io/dry-run annotation")
	pos, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	if len(pos) != 1 || *file == "" {
		return usageError(errOut, "export", "want KIND --intent F, KIND one of networkpolicy, istio, otterize")
	}
	m, _, err := intent.Load(*file)
	if err != nil {
		fmt.Fprintf(errOut, "driftctl export: %v\n", err)
		return ExitDrift
	}
	var data []byte
	switch pos[0] {
	case "networkpolicy":
		data, err = enforcing.YAML(enforcing.NetworkPolicies(m, o))
	case "istio":
		data, err = enforcing.YAML(enforcing.AuthorizationPolicies(m, o))
	case "otterize":
		data, err = enforcing.YAML(enforcing.ClientIntents(m, o))
	default:
		return usageError(errOut, "export", "kind %q: one of networkpolicy, istio, otterize", pos[0])
	}
	if err == nil {
		err = write(out, *output, data)
	}
	if err != nil {
		fmt.Fprintf(errOut, "driftctl export: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

func write(out io.Writer, path string, data []byte) error {
	if path == "" {
		_, err := out.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
