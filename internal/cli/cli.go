// Package cli is driftctl: the intent as code, on files, with no collector. Every verdict it shows
// is the verdict engine's (internal/verdict), the one the drift processor runs.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	ExitOK    = 0 // clean
	ExitDrift = 1 // errors in the intent, or drift at or above --fail-on
	ExitUsage = 2 // the command line is wrong, or an input cannot be read
)

const usage = `driftctl: the drift processor's intent as code.

Usage:
  driftctl validate [--strict] INTENT...
  driftctl check --intent F [--baseline B] [--format text|json|junit|markdown|github] [--fail-on SEVERITY] FILES...
  driftctl check --intent F --jaeger URL [--service S]... [--lookback 1h]
  driftctl impact (--old A | --base REF) --new B [--format text|json|markdown] FILES...
  driftctl explain --intent F CALLER CALLEE [OPERATION]
  driftctl learn [--intent F] [FILES...] [--merge M]... [-o OUT]
  driftctl map --intent F [--trace-url URL] FILES... [-o map.svg|map.html]
  driftctl import backstage|networkpolicy|structurizr|openslo PATH... [--into F] [-o OUT]
  driftctl export networkpolicy|istio|otterize --intent F [--namespace N] [--label app] [--enforce] [-o OUT]

FILES are recorded traffic: OTLP/JSON (a request per file or per line), OTLP protobuf (a message, or
the file exporter's frames), Jaeger JSON (the UI's download or the query API's answer) or Zipkin v2
JSON, each maybe gzipped; "-" reads standard input.
`

// command is a subcommand: it parses its own flags and returns an exit code.
type command func(args []string, out, errOut io.Writer) int

var commands = map[string]command{
	"validate": validate,
	"check":    check,
	"impact":   impact,
	"explain":  explain,
	"learn":    learnCmd,
	"map":      mapCmd,
	"import":   importCmd,
	"export":   exportCmd,
}

// Run runs driftctl with args (without the program's name) and returns its exit code.
func Run(args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(errOut, usage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(errOut, "driftctl: unknown command %q\n\n%s", args[0], usage)
		return ExitUsage
	}
	return cmd(args[1:], out, errOut)
}

// parse parses flags and positional arguments in any order (`learn FILES --merge M`), as people
// type them. It reports a usage error on errOut.
func parse(fs *flag.FlagSet, args []string, errOut io.Writer) ([]string, bool) {
	fs.SetOutput(errOut)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, false
			}
			return nil, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, true
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a wrong command line.
func usageError(errOut io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(errOut, "driftctl %s: %s\n", name, fmt.Sprintf(format, args...))
	return ExitUsage
}

// list is a flag that can be given more than once.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }
