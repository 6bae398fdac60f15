package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/learn"
	"github.com/driftprocessor/driftprocessor/internal/replay"
)

// emptyIntent is where learning starts without --intent.
const emptyIntent = "version: 1\nservices: {}\n"

func learnCmd(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("learn", flag.ContinueOnError)
	var j judging
	j.inputs.flags(fs)
	fs.StringVar(&j.intent, "intent", "", "extend this intent (default: start from nothing)")
	fs.DurationVar(&j.ttl, "ttl", replay.DefaultTTL, "how long, in recorded time, a call waits for its partner span")
	var merges list
	fs.Var(&merges, "merge", "a model learned elsewhere (another gateway's learn output) to merge in (repeatable)")
	output := fs.String("o", "", "write the intent here (default: standard output)")
	files, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	j.files = files
	if len(files) == 0 && j.jaeger == "" && len(merges) == 0 {
		return usageError(errOut, "learn", "nothing to learn from: give FILES, --jaeger URL or --merge M")
	}
	data, err := j.learned(merges)
	if err != nil {
		fmt.Fprintf(errOut, "driftctl learn: %v\n", err)
		return ExitUsage
	}
	if err := write(out, *output, data); err != nil {
		fmt.Fprintf(errOut, "driftctl learn: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// learned is the intent the traffic shows, extending --intent, with the merged models joined in.
func (j *judging) learned(merges []string) ([]byte, error) {
	opts := replay.Options{IntentFile: j.intent, TTL: j.ttl, Learn: true}
	if j.intent == "" {
		opts.IntentFile, opts.IntentData = "(learned)", []byte(emptyIntent)
	}
	var base *intent.Compiled
	var err error
	if j.intent != "" {
		base, _, err = intent.Load(j.intent)
	} else {
		base, err = intent.LoadBytes(opts.IntentFile, opts.IntentData)
	}
	if err != nil {
		return nil, err
	}
	if len(j.files) > 0 || j.jaeger != "" {
		if err := j.inputs.check(); err != nil {
			return nil, err
		}
		runs, err := j.judge(opts)
		if err != nil {
			return nil, err
		}
		runs[0].Report() // judges what still waits, so that it is learned
		data, err := runs[0].Engine().Learned()
		if err != nil {
			return nil, err
		}
		if len(merges) == 0 {
			return data, nil // with its notes of when each addition was first seen
		}
		if base, err = intent.LoadBytes(opts.IntentFile, data); err != nil {
			return nil, fmt.Errorf("the learned intent does not load back: %w", err)
		}
	}
	models := make([]*intent.Model, 0, len(merges))
	for _, f := range merges {
		m, _, err := intent.Load(f)
		if err != nil {
			return nil, err
		}
		models = append(models, m.Model)
	}
	merged, notes := learn.Merge(base.Model, models...)
	return intent.Write(merged, notes)
}
