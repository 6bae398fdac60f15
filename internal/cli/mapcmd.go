package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/driftprocessor/driftprocessor/internal/reflexion"
	"github.com/driftprocessor/driftprocessor/internal/reflexion/draw"
	"github.com/driftprocessor/driftprocessor/internal/replay"
)

// mapCmd draws the reflexion map of recorded traffic with the drift view extension's code.
func mapCmd(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	var j judging
	j.flags(fs)
	output := fs.String("o", "", "write the map here: a .svg file, or a .html page (default: SVG on standard output)")
	traceURL := fs.String("trace-url", "", "link each edge to its example trace: {trace_id} is replaced (http://localhost:16686/trace/{trace_id})")
	files, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	j.files = files
	if j.intent == "" {
		return usageError(errOut, "map", "--intent is required")
	}
	if err := j.check(); err != nil {
		return usageError(errOut, "map", "%v", err)
	}
	runs, err := j.judge(replay.Options{IntentFile: j.intent, BaselineFile: j.baseline, TTL: j.ttl})
	if err != nil {
		fmt.Fprintf(errOut, "driftctl map: %v\n", err)
		return ExitUsage
	}
	data, err := drawMap(runs[0], *traceURL, strings.HasSuffix(*output, ".html"))
	if err == nil {
		err = write(out, *output, data)
	}
	if err != nil {
		fmt.Fprintf(errOut, "driftctl map: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

func drawMap(run *replay.Run, traceURL string, page bool) ([]byte, error) {
	rep := run.Report()
	rows := make([]reflexion.Observed, 0, len(rep.Edges))
	for _, e := range rep.Edges {
		rows = append(rows, reflexion.Observed{Caller: e.Caller, Callee: e.Callee, Status: e.Status, Kind: e.Kind, Calls: e.Calls, ExampleTrace: e.ExampleTrace})
	}
	g := reflexion.Build(run.Engine().Model(), rows, run.Paths(), reflexion.DefaultOptions())
	svg := draw.Renderer{TraceURL: traceURL}.SVG(g)
	if !page {
		return svg, nil
	}
	var b bytes.Buffer
	err := draw.Page(&b, g, svg, "")
	return b.Bytes(), err
}
