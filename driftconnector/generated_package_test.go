// Written by hand in the shape mdatagen generates.

package driftconnector

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
