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
