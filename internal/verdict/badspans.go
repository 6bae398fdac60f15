package verdict

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// BadSpanLogEvery is the most often spans that cannot be read as calls are logged: a flood of bad
// data produces a counter (drift.spans.malformed) and one line per interval, not one per span.
const BadSpanLogEvery = 10 * time.Second

// badSpanLog counts bad spans by reason and logs the counts at most once per interval.
type badSpanLog struct {
	logger *zap.Logger
	now    func() time.Time

	mu     sync.Mutex
	last   time.Time
	counts map[string]int
}

func (l *badSpanLog) note(reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.counts[reason]++
	now := l.now()
	if now.Sub(l.last) < BadSpanLogEvery {
		return
	}
	fields := []zap.Field{zap.Duration("interval", BadSpanLogEvery)}
	for r, n := range l.counts {
		fields = append(fields, zap.Int(r, n))
	}
	l.logger.Warn("Spans that could not be read as calls passed through unjudged (counts since the last such line)", fields...)
	clear(l.counts)
	l.last = now
}

// lateLogEvery is the most often late partners are logged.
const lateLogEvery = time.Minute

// lateLog says, at most once a minute, that partners came after their calls were judged at the
// end of pairing.ttl, and how many since the last line.
type lateLog struct {
	logger *zap.Logger
	ttl    time.Duration

	mu    sync.Mutex
	last  time.Time
	count int
}

func (l *lateLog) note(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if !l.last.IsZero() && now.Sub(l.last) < lateLogEvery {
		return
	}
	l.logger.Warn("Spans came after their partner waited out pairing.ttl and was judged without them: the TTL is shorter than the time between the two sides of some calls (see drift.pairing.late)",
		zap.Duration("pairing.ttl", l.ttl), zap.Int("late_since_last_line", l.count))
	l.count, l.last = 0, now
}
