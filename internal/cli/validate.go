package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/lint"
)

func validate(args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	files, ok := parse(fs, args, errOut)
	if !ok {
		return ExitUsage
	}
	if len(files) == 0 {
		return usageError(errOut, "validate", "no intent file given")
	}
	errs, warnings := 0, 0
	for _, f := range files {
		m, _, err := intent.Load(f)
		if err != nil {
			fmt.Fprintln(out, err)
			errs++
			continue
		}
		for _, finding := range lint.Check(m) {
			fmt.Fprintln(out, finding.String(f))
			if finding.Severity == lint.Error {
				errs++
			} else {
				warnings++
			}
		}
	}
	fmt.Fprintf(errOut, "driftctl validate: %d files, %d errors, %d warnings\n", len(files), errs, warnings)
	if errs > 0 || (*strict && warnings > 0) {
		return ExitDrift
	}
	return ExitOK
}
