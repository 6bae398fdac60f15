package intent

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Expect is how a dependency is expected to behave. A zero field expects nothing of that kind.
type Expect struct {
	LatencyMax      time.Duration // every call
	LatencyP99      time.Duration // over the window
	ErrorRate       float64       // a fraction, over the window; HasErrorRate tells whether it is set
	HasErrorRate    bool
	Retries         int // re-sends of one logical call; HasRetries tells whether it is set
	HasRetries      bool
	CallsPerRequest int // calls to the dependency under one parent span; 0: not set
	Line            int // where the most specific part was declared
}

// IsZero reports whether nothing is expected.
func (e *Expect) IsZero() bool {
	return e.LatencyMax == 0 && e.LatencyP99 == 0 && !e.HasErrorRate && !e.HasRetries && e.CallsPerRequest == 0
}

// over fills what e leaves unset from base: the more specific level wins field by field.
func (e Expect) over(base Expect) Expect {
	if e.LatencyMax == 0 {
		e.LatencyMax = base.LatencyMax
	}
	if e.LatencyP99 == 0 {
		e.LatencyP99 = base.LatencyP99
	}
	if !e.HasErrorRate {
		e.ErrorRate, e.HasErrorRate = base.ErrorRate, base.HasErrorRate
	}
	if !e.HasRetries {
		e.Retries, e.HasRetries = base.Retries, base.HasRetries
	}
	if e.CallsPerRequest == 0 {
		e.CallsPerRequest = base.CallsPerRequest
	}
	if e.Line == 0 {
		e.Line = base.Line
	}
	return e
}

var expectKeys = []string{"latency", "error_rate", "retries", "calls_per_request"}

// expect reads an expect block whose key is at line.
func (d *decoder) expect(n *yaml.Node, path string, line int) *Expect {
	fs, ok := d.fields(n, path, expectKeys...)
	if !ok {
		return nil
	}
	e := &Expect{Line: line}
	for _, f := range fs {
		fp := join(path, f.key)
		switch f.key {
		case "latency":
			lfs, _ := d.fields(f.val, fp, "max", "p99")
			for _, lf := range lfs {
				v, ok := d.duration(lf.val, join(fp, lf.key))
				if !ok {
					continue
				}
				if lf.key == "max" {
					e.LatencyMax = v
				} else {
					e.LatencyP99 = v
				}
			}
			if e.LatencyMax > 0 && e.LatencyP99 > e.LatencyMax {
				d.errorf(f.line, fp+".p99", "p99 %s is above max %s: every call is at most max, so the p99 is too", e.LatencyP99, e.LatencyMax)
			}
			if len(lfs) == 0 {
				d.errorf(f.line, fp, "give max, p99 or both")
			}
		case "error_rate":
			e.ErrorRate, e.HasErrorRate = d.percent(f.val, fp)
		case "retries":
			e.Retries, e.HasRetries = d.count(f.val, fp, 0)
		case "calls_per_request":
			e.CallsPerRequest, _ = d.count(f.val, fp, 1)
		}
	}
	if len(fs) == 0 {
		d.errorf(e.Line, path, "an empty expect block expects nothing: give %s", list(expectKeys))
	}
	return e
}

func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		d.errorf(d.resolve(n).Line, path, "%q is not a positive duration (such as 200ms or 1.5s)", s)
		return 0, false
	}
	return v, true
}

// percent reads "1%" or "0.5%" as a fraction.
func (d *decoder) percent(n *yaml.Node, path string) (float64, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(s), "%") || v < 0 || v > 100 {
		d.errorf(d.resolve(n).Line, path, "%q is not a percentage between 0%% and 100%%", s)
		return 0, false
	}
	return v / 100, true
}

func (d *decoder) count(n *yaml.Node, path string, least int) (int, bool) {
	v, ok := d.integer(n, path)
	if ok && v < least {
		d.errorf(d.resolve(n).Line, path, "must be at least %d, got %d", least, v)
		return 0, false
	}
	return v, ok
}
