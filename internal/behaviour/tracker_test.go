package behaviour

import (
	"fmt"
	"testing"
	"time"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/judge"
)

var t0 = time.Unix(1_700_000_000, 0)

func cfg() Options {
	c := DefaultOptions
	c.MinCalls, c.Refresh = 10, 0
	return c
}

var edge = Edge{"web", "api"}

func TestKinds(t *testing.T) {
	trace, parent := [16]byte{1}, [8]byte{2}
	tests := []struct {
		name   string
		expect intent.Expect
		calls  []judge.Observation // all but the last warm the window up
		want   judge.Kinds
	}{
		{"max latency: one slow call", intent.Expect{LatencyMax: 500 * time.Millisecond},
			[]judge.Observation{{Duration: 600 * time.Millisecond}}, 1 << judge.LatencyExceeded},
		{"max latency: fast enough", intent.Expect{LatencyMax: 500 * time.Millisecond},
			[]judge.Observation{{Duration: 400 * time.Millisecond}}, 0},
		{"p99 over the window", intent.Expect{LatencyP99: 200 * time.Millisecond},
			repeat(20, judge.Observation{Duration: 2 * time.Second}), 1 << judge.LatencyExceeded},
		{"p99 within", intent.Expect{LatencyP99: 200 * time.Millisecond},
			repeat(20, judge.Observation{Duration: 20 * time.Millisecond}), 0},
		{"error rate over", intent.Expect{ErrorRate: 0.01, HasErrorRate: true},
			append(repeat(18, judge.Observation{}), judge.Observation{Failed: true}, judge.Observation{Failed: true}), 1 << judge.ErrorRateExceeded},
		{"error rate within", intent.Expect{ErrorRate: 0.2, HasErrorRate: true},
			append(repeat(19, judge.Observation{}), judge.Observation{Failed: true}), 0},
		{"resend count attribute", intent.Expect{Retries: 2, HasRetries: true},
			[]judge.Observation{{Resends: 3, Trace: trace, Parent: parent}}, 1 << judge.RetryAmplification},
		{"repeated siblings", intent.Expect{Retries: 2, HasRetries: true},
			repeat(4, judge.Observation{Trace: trace, Parent: parent}), 1 << judge.RetryAmplification},
		{"siblings within the retries", intent.Expect{Retries: 2, HasRetries: true},
			repeat(3, judge.Observation{Trace: trace, Parent: parent}), 0},
		{"fan-out", intent.Expect{CallsPerRequest: 3},
			repeat(4, judge.Observation{Trace: trace, Parent: parent}), 1 << judge.FanoutExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(cfg())
			var kinds judge.Kinds
			for i, o := range tt.calls {
				op := "GET /x"
				if tt.name == "fan-out" {
					op = fmt.Sprint(i) // different operations: fan-out, not re-sends
				}
				kinds, _ = tr.Observe(edge, tt.expect, op, o, t0.Add(time.Duration(i)*time.Millisecond))
			}
			if kinds != tt.want {
				t.Fatalf("kinds %b, want %b", kinds, tt.want)
			}
		})
	}
}

func repeat(n int, o judge.Observation) []judge.Observation {
	out := make([]judge.Observation, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// TestWindow: a window is not judged before MinCalls; it breaches while slow calls are in it, and
// recovers once they have slid out.
func TestWindow(t *testing.T) {
	tr := New(cfg())
	e := intent.Expect{LatencyP99: 100 * time.Millisecond}
	slow := judge.Observation{Duration: time.Second}
	now := t0
	for i := 0; i < 9; i++ {
		if k, _ := tr.Observe(edge, e, "", slow, now); k != 0 {
			t.Fatalf("judged after %d calls, before the warm-up of 10", i+1)
		}
	}
	if k, b := tr.Observe(edge, e, "", slow, now); k != 1<<judge.LatencyExceeded || b.P99 < time.Second {
		t.Fatalf("no breach at 10 slow calls: %b, p99 %s", k, b.P99)
	}
	now = now.Add(6 * time.Minute) // the slow calls slide out
	fast := judge.Observation{Duration: 10 * time.Millisecond}
	var k judge.Kinds
	var b judge.Behaviour
	for i := 0; i < 10; i++ {
		k, b = tr.Observe(edge, e, "", fast, now)
	}
	if k != 0 || b.P99 > 20*time.Millisecond {
		t.Fatalf("no recovery: %b, p99 %s", k, b.P99)
	}
}

// TestP99Precision: the window's p99 is within the buckets' 12% of the true one.
func TestP99Precision(t *testing.T) {
	tr := New(cfg())
	e := intent.Expect{LatencyP99: time.Hour}
	var b judge.Behaviour
	for i := 1; i <= 1000; i++ {
		_, b = tr.Observe(edge, e, "", judge.Observation{Duration: time.Duration(i) * time.Millisecond}, t0)
	}
	if b.P99 < 990*time.Millisecond || b.P99 > 1109*time.Millisecond {
		t.Fatalf("p99 %s for 1..1000 ms", b.P99)
	}
}

// TestMemoryBound: many edges get at most MaxEdges windows; many parents at most Siblings groups.
func TestMemoryBound(t *testing.T) {
	c := cfg()
	c.MaxEdges, c.Siblings = 100, 1000
	tr := New(c)
	e := intent.Expect{LatencyP99: time.Second, Retries: 1, HasRetries: true}
	for i := 0; i < 100_000; i++ {
		o := judge.Observation{Duration: time.Millisecond, Trace: [16]byte{byte(i), byte(i >> 8), byte(i >> 16)}, Parent: [8]byte{1}}
		tr.Observe(Edge{"web", fmt.Sprint("api-", i)}, e, "", o, t0)
	}
	if tr.Edges() != 100 || len(tr.sibs.groups) > 1000 || len(tr.sibs.queue)-tr.sibs.head > 1000 {
		t.Fatalf("%d windows, %d sibling groups, queue %d", tr.Edges(), len(tr.sibs.groups), len(tr.sibs.queue)-tr.sibs.head)
	}
}
