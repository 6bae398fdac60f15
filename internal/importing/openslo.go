package importing

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Expect is an expect_incoming block an import declares, in the intent's own spelling.
type Expect struct {
	LatencyMax, LatencyP99 string // durations: "500ms"
	ErrorRate              string // a percentage: "1%"
	Source                 string
}

type slo struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Service   string `yaml:"service"`
		Indicator struct {
			Spec struct {
				ThresholdMetric any `yaml:"thresholdMetric"`
				RatioMetric     any `yaml:"ratioMetric"`
			} `yaml:"spec"`
		} `yaml:"indicator"`
		Objectives []struct {
			Op     string   `yaml:"op"`
			Value  *float64 `yaml:"value"`
			Target *float64 `yaml:"target"`
		} `yaml:"objectives"`
	} `yaml:"spec"`
}

// OpenSLO imports OpenSLO v1 SLOs as expect_incoming blocks on the service each names: a
// threshold SLO (calls under a value, for a target share of them) is a latency expectation, the
// value read in latencyUnit (OpenSLO values carry no unit): a p99 when the target is 99% or more,
// a max when it is 100%; a ratio SLO (good over total) is an error rate of 1 - target. An SLO
// that cannot be expressed so is skipped, with why.
func OpenSLO(latencyUnit string, files ...string) (*Result, error) {
	unit, err := time.ParseDuration("1" + latencyUnit)
	if err != nil {
		return nil, fmt.Errorf("latency unit %q: %w", latencyUnit, err)
	}
	r := &Result{}
	return r, eachDocument(files, func(file string, doc *yaml.Node, line int) error {
		return r.slo(file, line, doc, unit)
	})
}

func (r *Result) slo(file string, line int, doc *yaml.Node, unit time.Duration) error {
	where := at(file, line)
	var s slo
	if err := doc.Decode(&s); err != nil {
		return fmt.Errorf("%s: not an OpenSLO document: %w", where, err)
	}
	if s.Kind != "SLO" || !strings.HasPrefix(s.APIVersion, "openslo/") {
		r.Skip(where, "a "+orUnknown(s.Kind)+" document", "not an OpenSLO SLO")
		return nil
	}
	what := "SLO " + s.Metadata.Name
	switch {
	case s.Spec.Service == "":
		return fmt.Errorf("%s: spec.service: missing", where)
	case len(s.Spec.Objectives) == 0:
		return fmt.Errorf("%s: spec.objectives: missing", where)
	}
	o := s.Spec.Objectives[0]
	if len(s.Spec.Objectives) > 1 {
		r.Skip(where, what+" objectives[1:]", "one expectation per service: the first objective is taken")
	}
	if o.Target == nil {
		return fmt.Errorf("%s: spec.objectives[0].target: missing", where)
	}
	e := &Expect{Source: fmt.Sprintf("OpenSLO %s (%s)", s.Metadata.Name, where)}
	switch {
	case s.Spec.Indicator.Spec.ThresholdMetric != nil:
		if o.Value == nil || (o.Op != "lt" && o.Op != "lte") {
			r.Skip(where, what, "a threshold objective other than op lt or lte with a value says nothing of latency")
			return nil
		}
		d := time.Duration(*o.Value * float64(unit))
		switch {
		case *o.Target >= 1:
			e.LatencyMax = d.String()
		case *o.Target >= 0.99:
			e.LatencyP99 = d.String()
		default:
			r.Skip(where, what, fmt.Sprintf("a latency target of %g is below the p99 an expect block can hold", *o.Target))
			return nil
		}
	case s.Spec.Indicator.Spec.RatioMetric != nil:
		e.ErrorRate = strconv.FormatFloat((1-*o.Target)*100, 'g', 4, 64) + "%"
	default:
		r.Skip(where, what, "its indicator is neither a threshold nor a ratio metric")
		return nil
	}
	svc := r.Service(s.Spec.Service, e.Source)
	if svc.Expect != nil {
		svc.Expect.merge(e)
		return nil
	}
	svc.Expect = e
	return nil
}

// merge takes what e sets and x does not: several SLOs of one service make one block.
func (x *Expect) merge(e *Expect) {
	if x.LatencyMax == "" {
		x.LatencyMax = e.LatencyMax
	}
	if x.LatencyP99 == "" {
		x.LatencyP99 = e.LatencyP99
	}
	if x.ErrorRate == "" {
		x.ErrorRate = e.ErrorRate
	}
	x.Source += "; " + e.Source
}
