package driftconnector

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/driftprocessor/driftprocessor/driftconnector/internal/metadata"
	"github.com/driftprocessor/driftprocessor/internal/clean"
	"github.com/driftprocessor/driftprocessor/internal/driftconv"
)

// Attribute marking the series that collects what the series limit refused.
const attrOverflow = "otel.metric.overflow"

// call is one judged call as the metrics see it.
type call struct {
	caller, callee, status, kind string
	duration                     time.Duration
	dims                         []string // values of the configured dimensions, "" when absent
}

type seriesKey struct {
	caller, callee, status, kind string
	dims                         string // dimension values joined by \x00
	overflow                     bool
}

// series is one set of attributes: its call count and duration histogram.
type series struct {
	key      seriesKey
	dims     []string
	start    pcommon.Timestamp
	lastSeen time.Time
	calls    uint64
	hist     histogram
}

// aggregator keeps cumulative series between flushes, bounded in number and expiring unused ones.
type aggregator struct {
	cfg *Config

	mu            sync.Mutex
	series        map[seriesKey]*series
	conforming    []seriesKey         // the keys of conforming series, to fold first (some may be gone)
	unresolved    map[string]*counter // by caller
	overflowCalls uint64
	start         pcommon.Timestamp
}

type counter struct {
	n        uint64
	lastSeen time.Time
}

func newAggregator(cfg *Config, now time.Time) *aggregator {
	return &aggregator{cfg: cfg, series: map[seriesKey]*series{}, unresolved: map[string]*counter{},
		start: pcommon.NewTimestampFromTime(now)}
}

// add counts one call. Past MaxSeries (the overflow series included), drift is served first: a call
// of a new drifting series takes the place of a conforming series, which is folded into the
// overflow series; a call of a new conforming series, or of a drifting one when only drift is left,
// goes to the overflow series.
func (a *aggregator) add(c call, now time.Time) {
	k := seriesKey{caller: clean.Name(c.caller), callee: clean.Name(c.callee), status: c.status, kind: c.kind,
		dims: strings.Join(c.dims, "\x00")}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.series[k]
	if !ok {
		full := len(a.series) >= a.cfg.MaxSeries-1 // one is kept for the overflow series
		if full && (c.status == driftconv.StatusConforming || !a.foldConforming(now)) {
			a.overflowCalls++
			s = a.overflowSeries(now)
		} else {
			s = a.newSeries(k, c.dims, now)
			if c.status == driftconv.StatusConforming {
				a.conforming = append(a.conforming, k)
			}
		}
	}
	s.calls++
	s.lastSeen = now
	s.hist.add(c.duration)
}

func (a *aggregator) newSeries(k seriesKey, dims []string, now time.Time) *series {
	s := &series{key: k, dims: dims, start: pcommon.NewTimestampFromTime(now), hist: newHistogram(&a.cfg.Histogram)}
	a.series[k] = s
	return s
}

func (a *aggregator) overflowSeries(now time.Time) *series {
	k := seriesKey{overflow: true}
	if s, ok := a.series[k]; ok {
		return s
	}
	return a.newSeries(k, nil, now)
}

// foldConforming folds the newest conforming series into the overflow series, to make room for a
// drifting one; it reports whether there was one.
func (a *aggregator) foldConforming(now time.Time) bool {
	for len(a.conforming) > 0 {
		k := a.conforming[len(a.conforming)-1]
		a.conforming = a.conforming[:len(a.conforming)-1]
		s, ok := a.series[k]
		if !ok {
			continue // expired already
		}
		delete(a.series, k)
		o := a.overflowSeries(now)
		o.calls += s.calls
		o.hist.merge(&s.hist)
		o.lastSeen = now
		a.overflowCalls += s.calls
		return true
	}
	return false
}

func (a *aggregator) addUnresolved(caller string, now time.Time) {
	caller = clean.Name(caller)
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.unresolved[caller]
	if !ok {
		if len(a.unresolved) >= a.cfg.MaxSeries {
			caller = driftconv.Other
			if u, ok = a.unresolved[caller]; !ok {
				u = &counter{}
				a.unresolved[caller] = u
			}
		} else {
			u = &counter{}
			a.unresolved[caller] = u
		}
	}
	u.n++
	u.lastSeen = now
}

// flush drops expired series and writes the rest as cumulative metrics.
func (a *aggregator) flush(now time.Time) pmetric.Metrics {
	a.mu.Lock()
	defer a.mu.Unlock()
	if exp := a.cfg.Expiration; exp > 0 {
		for k, s := range a.series {
			if now.Sub(s.lastSeen) > exp {
				delete(a.series, k)
			}
		}
		a.conforming = slices.DeleteFunc(a.conforming, func(k seriesKey) bool { _, ok := a.series[k]; return !ok })
		for k, u := range a.unresolved {
			if now.Sub(u.lastSeen) > exp {
				delete(a.unresolved, k)
			}
		}
	}
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ts := pcommon.NewTimestampFromTime(now)
	keys := a.sortedKeys()

	calls := newSum(sm, driftconv.MetricCalls, "Calls judged against the intent model.", "{call}")
	duration := a.newDuration(sm)
	for _, k := range keys {
		s := a.series[k]
		dp := calls.DataPoints().AppendEmpty()
		a.attributes(s, dp.Attributes(), true)
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(s.calls))
		s.hist.write(duration, func(attrs pcommon.Map) { a.attributes(s, attrs, false) }, s.start, ts)
	}

	edges := sm.Metrics().AppendEmpty()
	edges.SetName(driftconv.MetricEdges)
	edges.SetDescription("Distinct observed edges (caller, callee) by status.")
	edges.SetUnit("{edge}")
	byStatus := map[string]map[[2]string]bool{driftconv.StatusConforming: {}, driftconv.StatusDrift: {}, driftconv.StatusKnown: {}}
	for _, k := range keys {
		if set, ok := byStatus[k.status]; ok && !k.overflow {
			set[[2]string{k.caller, k.callee}] = true
		}
	}
	gauge := edges.SetEmptyGauge()
	for _, status := range []string{driftconv.StatusConforming, driftconv.StatusDrift, driftconv.StatusKnown} {
		p := gauge.DataPoints().AppendEmpty()
		p.Attributes().PutStr(driftconv.AttrStatus, status)
		p.SetTimestamp(ts)
		p.SetIntValue(int64(len(byStatus[status])))
	}

	unresolved := newSum(sm, driftconv.MetricUnresolved, "Calls whose callee nothing could name.", "{call}")
	callers := make([]string, 0, len(a.unresolved))
	for c := range a.unresolved {
		callers = append(callers, c)
	}
	sort.Strings(callers)
	for _, c := range callers {
		dp := unresolved.DataPoints().AppendEmpty()
		dp.Attributes().PutStr(driftconv.AttrCaller, c)
		dp.SetStartTimestamp(a.start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(a.unresolved[c].n))
	}

	overflow := newSum(sm, driftconv.MetricOverflowCalls, "Calls counted in the overflow series because the series limit was reached.", "{call}")
	dp := overflow.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(a.start)
	dp.SetTimestamp(ts)
	dp.SetIntValue(int64(a.overflowCalls))
	return md
}

func (a *aggregator) sortedKeys() []seriesKey {
	keys := make([]seriesKey, 0, len(a.series))
	for k := range a.series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		x, y := keys[i], keys[j]
		if x.caller != y.caller {
			return x.caller < y.caller
		}
		if x.callee != y.callee {
			return x.callee < y.callee
		}
		if x.status != y.status {
			return x.status < y.status
		}
		if x.kind != y.kind {
			return x.kind < y.kind
		}
		return x.dims < y.dims
	})
	return keys
}

// attributes writes a series' attributes; the duration histogram has no status or kind.
func (a *aggregator) attributes(s *series, attrs pcommon.Map, withStatus bool) {
	if s.key.overflow {
		attrs.PutBool(attrOverflow, true)
		return
	}
	attrs.PutStr(driftconv.AttrCaller, s.key.caller)
	attrs.PutStr(driftconv.AttrCallee, s.key.callee)
	if withStatus {
		attrs.PutStr(driftconv.AttrStatus, s.key.status)
		if s.key.kind != "" {
			attrs.PutStr(driftconv.AttrKind, s.key.kind)
		}
	}
	for i, d := range a.cfg.Dimensions {
		if i < len(s.dims) && s.dims[i] != "" {
			attrs.PutStr(d, s.dims[i])
		}
	}
}

func newSum(sm pmetric.ScopeMetrics, name, desc, unit string) pmetric.Sum {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetDescription(desc)
	m.SetUnit(unit)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return sum
}

func (a *aggregator) newDuration(sm pmetric.ScopeMetrics) pmetric.Metric {
	m := sm.Metrics().AppendEmpty()
	m.SetName(driftconv.MetricCallDuration)
	m.SetDescription("Duration of judged calls, per edge (the client span's when there is one).")
	m.SetUnit("s")
	if a.cfg.Histogram.Exponential {
		m.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	} else {
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	}
	return m
}

// histogram counts durations in explicit buckets, or in exponential ones (base 2^(2^-scale)), whose
// scale comes down when the range no longer fits in max buckets.
type histogram struct {
	bounds []float64 // explicit, in seconds
	counts []uint64
	sum    float64
	count  uint64
	min    float64
	max    float64

	exponential bool
	maxSize     int
	scale       int32
	offset      int32 // index of counts[0]
	zero        uint64
}

func newHistogram(cfg *HistogramConfig) histogram {
	if cfg.Exponential {
		return histogram{exponential: true, maxSize: cfg.MaxSize, scale: 8}
	}
	h := histogram{bounds: make([]float64, len(cfg.Explicit))}
	for i, b := range cfg.Explicit {
		h.bounds[i] = b.Seconds()
	}
	h.counts = make([]uint64, len(h.bounds)+1)
	return h
}

func (h *histogram) add(d time.Duration) {
	v := d.Seconds()
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if h.count == 0 || v > h.max {
		h.max = v
	}
	h.count++
	h.sum += v
	if !h.exponential {
		h.counts[sort.SearchFloat64s(h.bounds, v)]++
		return
	}
	if v <= 0 {
		h.zero++
		return
	}
	h.addAt(h.index(v), 1)
}

// index of v's bucket at the current scale: bucket i holds (base^i, base^(i+1)].
func (h *histogram) index(v float64) int32 {
	return int32(math.Ceil(math.Log2(v)*math.Exp2(float64(h.scale)))) - 1
}

// merge adds o's counts into h; both have the same configuration.
func (h *histogram) merge(o *histogram) {
	if o.count == 0 {
		return
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.count == 0 || o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.sum += o.sum
	if !h.exponential {
		for i, n := range o.counts {
			h.counts[i] += n
		}
		return
	}
	h.zero += o.zero
	src := *o // a copy: o's buckets are brought to h's scale without changing o
	src.counts = slices.Clone(o.counts)
	for h.scale > src.scale {
		h.downscale()
	}
	for src.scale > h.scale {
		src.downscale()
	}
	for i, n := range src.counts {
		if n > 0 {
			h.addAt(src.offset+int32(i), n)
		}
	}
}

// addAt adds n to the bucket of index idx at h's scale (as add does for one value), growing the
// buckets and bringing the scale down while they do not fit in maxSize.
func (h *histogram) addAt(idx int32, n uint64) {
	for {
		if len(h.counts) == 0 {
			h.offset, h.counts = idx, []uint64{0}
		}
		lo, hi := min(h.offset, idx), max(h.offset+int32(len(h.counts))-1, idx)
		if int(hi-lo+1) <= h.maxSize {
			if idx < h.offset {
				h.counts = append(make([]uint64, h.offset-idx), h.counts...)
				h.offset = idx
			}
			for idx >= h.offset+int32(len(h.counts)) {
				h.counts = append(h.counts, 0)
			}
			h.counts[idx-h.offset] += n
			return
		}
		h.downscale()
		idx >>= 1
	}
}

// downscale halves the resolution: buckets 2i and 2i+1 merge.
func (h *histogram) downscale() {
	h.scale--
	if len(h.counts) == 0 {
		return
	}
	newOffset := h.offset >> 1
	merged := make([]uint64, (h.offset+int32(len(h.counts))-1)>>1-newOffset+1)
	for i, n := range h.counts {
		merged[(h.offset+int32(i))>>1-newOffset] += n
	}
	h.counts, h.offset = merged, newOffset
}

func (h *histogram) write(m pmetric.Metric, attrs func(pcommon.Map), start, ts pcommon.Timestamp) {
	if h.exponential {
		dp := m.ExponentialHistogram().DataPoints().AppendEmpty()
		attrs(dp.Attributes())
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.SetCount(h.count)
		dp.SetSum(h.sum)
		dp.SetMin(h.min)
		dp.SetMax(h.max)
		dp.SetScale(h.scale)
		dp.SetZeroCount(h.zero)
		dp.Positive().SetOffset(h.offset)
		dp.Positive().BucketCounts().FromRaw(h.counts)
		return
	}
	dp := m.Histogram().DataPoints().AppendEmpty()
	attrs(dp.Attributes())
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.SetCount(h.count)
	dp.SetSum(h.sum)
	dp.SetMin(h.min)
	dp.SetMax(h.max)
	dp.ExplicitBounds().FromRaw(h.bounds)
	dp.BucketCounts().FromRaw(h.counts)
}
