package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/replay"
	"github.com/driftprocessor/driftprocessor/internal/report"
)

// judging are the flags of every command that judges traffic.
type judging struct {
	intent, baseline string
	ttl              time.Duration
	inputs
}

func (j *judging) flags(fs *flag.FlagSet) {
	fs.StringVar(&j.intent, "intent", "", "the intent file (required)")
	fs.StringVar(&j.baseline, "baseline", "", "a baseline file: drift it accepts shows as known")
	fs.DurationVar(&j.ttl, "ttl", replay.DefaultTTL, "how long, in recorded time, a call waits for its partner span")
	j.inputs.flags(fs)
}

func check(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var j judging
	j.flags(fs)
	format := fs.String("format", "text", "output: "+strings.Join(report.Formats, ", "))
	failOn := fs.String("fail-on", "warning", "exit 1 when drift of this severity or above is found: info, warning, critical, none")
	files, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	j.files = files
	switch {
	case j.intent == "":
		return usageError(errOut, "check", "--intent is required")
	case !slices.Contains(report.Formats, *format):
		return usageError(errOut, "check", "--format %q: one of %s", *format, strings.Join(report.Formats, ", "))
	}
	if err := report.ParseSeverity(*failOn); err != nil {
		return usageError(errOut, "check", "--fail-on: %v", err)
	}
	if err := j.check(); err != nil {
		return usageError(errOut, "check", "%v", err)
	}
	runs, err := j.judge(replay.Options{IntentFile: j.intent, BaselineFile: j.baseline, TTL: j.ttl})
	if err != nil {
		fmt.Fprintf(errOut, "driftctl check: %v\n", err)
		return ExitUsage
	}
	rep := runs[0].Report()
	if err := rep.Write(out, *format); err != nil {
		fmt.Fprintf(errOut, "driftctl check: %v\n", err)
		return ExitUsage
	}
	if rep.Failing(*failOn) {
		return ExitDrift
	}
	return ExitOK
}

// judge replays the inputs once through a run per options: the runs see the same batches.
func (j *judging) judge(opts ...replay.Options) ([]*replay.Run, error) {
	runs := make([]*replay.Run, len(opts))
	for i, o := range opts {
		r, err := replay.New(o)
		if err != nil {
			return nil, err
		}
		runs[i] = r
	}
	err := j.read(func(td ptrace.Traces) error {
		for _, r := range runs {
			r.Batch(td)
		}
		return nil
	})
	return runs, err
}
