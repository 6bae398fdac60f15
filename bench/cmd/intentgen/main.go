// Command intentgen prints the intent model of the synthetic system loadgen sends traces of.
package main

import (
	"flag"
	"fmt"

	"github.com/driftprocessor/driftprocessor/internal/synthtest"
)

func main() {
	services := flag.Int("services", 200, "services in the synthetic system")
	flag.Parse()
	fmt.Print(synthtest.New(*services, 10, 1).Intent())
}
