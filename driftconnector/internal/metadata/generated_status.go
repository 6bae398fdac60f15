// Written by hand in the shape mdatagen generates (mdatagen is not available here); keep it in step
// with ../../metadata.yaml.

// Package metadata contains the build information for the connector/drift component.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	Type      = component.MustNewType("drift")
	ScopeName = "github.com/driftprocessor/driftprocessor/driftconnector"
)

const (
	TracesToMetricsStability = component.StabilityLevelAlpha
)
