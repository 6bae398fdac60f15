// Command driftctl checks recorded traffic against an intent, shows what a change to the intent
// does, explains a verdict and learns an intent, with the engine the drift processor runs. See
// `driftctl help`.
package main

import (
	"os"

	"github.com/driftprocessor/driftprocessor/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
