// Package ancestry finds the chain of services a call's request passed through, by walking the
// parents of its span up to the root of its trace: over the spans of its batch (Index), and, when
// a trace comes in several batches, over the spans of the earlier ones kept per trace (Store). The
// path rules judge that chain (judge.JudgePaths).
package ancestry

import (
	"encoding/binary"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/driftprocessor/driftprocessor/internal/intent"
	"github.com/driftprocessor/driftprocessor/internal/semconv"
)

// Index holds the spans of one batch by trace and span id: each span's parent and the service
// whose span it is. Every span is kept, internal ones too, since any may stand between a call and
// the root. It is reused from batch to batch.
type Index struct {
	slots []int32 // index into spans, plus one; 0 is empty
	spans []indexed
	mask  uint64
	peers []intent.Peer // by resource: the service of the resource's spans
	// unnamed: the current resource has no service name. Its spans are malformed, and left out: a
	// chain through one ends there, as a part.
	unnamed bool
}

// indexed is one span of the batch: 32 bytes. Its trace is kept folded to 64 bits: a span is found
// by its id and its trace's fold, and two traces of one batch whose folds and span ids both collide
// could only be made on purpose, by a sender that can as well write any parent in one trace.
type indexed struct {
	span   uint64
	parent uint64
	trace  uint64 // fold of the trace id
	res    int32
	up     int32 // the parent's index in spans, or noParent
}

func fold(t pcommon.TraceID) uint64 {
	return binary.LittleEndian.Uint64(t[:8]) ^ binary.LittleEndian.Uint64(t[8:])*0x9E3779B97F4A7C15
}

// noParent is the up of a root span, and of a span whose parent is not in the batch.
const noParent = -1

func spanID(id pcommon.SpanID) uint64 { return binary.LittleEndian.Uint64(id[:]) }

// spread mixes a span id; ids are random, but not every SDK's are.
func spread(id uint64) uint64 { return id * 0x9E3779B97F4A7C15 >> 17 }

// Build indexes the spans of td against the model m. A span without ids is left out: the resolver
// counts it as malformed. The resolver builds its batch's index as it reads the batch, by Reset,
// Resource, Span and Seal, and names each resource's service once for both.
func (x *Index) Build(m *intent.Compiled, td ptrace.Traces) {
	x.Reset()
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		x.Resource(serviceOf(m, rs.Resource()))
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				x.Span(spans.At(k))
			}
		}
	}
	x.Seal()
}

// Reset starts a batch.
func (x *Index) Reset() { x.spans, x.peers = x.spans[:0], x.peers[:0] }

// Resource starts the spans of the batch's next resource, whose service is p.
func (x *Index) Resource(p intent.Peer) {
	x.peers = append(x.peers, p)
	x.unnamed = p.ID == intent.NoNode && strings.TrimSpace(p.Name) == ""
}

// Span adds a span of the current resource.
func (x *Index) Span(s ptrace.Span) {
	if id := spanID(s.SpanID()); id != 0 && !x.unnamed {
		if t := s.TraceID(); !t.IsEmpty() {
			x.spans = append(x.spans, indexed{trace: fold(t), span: id, parent: spanID(s.ParentSpanID()), res: int32(len(x.peers) - 1)})
		}
	}
}

// Seal makes the batch's spans findable, and links each to its parent.
func (x *Index) Seal() {
	x.reset(len(x.spans))
	for i := range x.spans {
		x.add(i)
	}
	// Each parent is found once here, not once per call whose chain passes through it.
	for i := range x.spans {
		e := &x.spans[i]
		e.up = noParent
		if e.parent != 0 {
			e.up = x.find(e.trace, e.parent)
		}
	}
}

func serviceOf(m *intent.Compiled, res pcommon.Resource) intent.Peer {
	name := ""
	if v, ok := res.Attributes().Get(semconv.ServiceName); ok && v.Type() == pcommon.ValueTypeStr {
		name = v.Str()
	}
	return peerOf(m, name)
}

func peerOf(m *intent.Compiled, name string) intent.Peer {
	if id := m.Lookup(name); id != intent.NoNode {
		return m.Peer(id)
	}
	return intent.Peer{ID: intent.NoNode, Name: name, Kind: intent.KindService}
}

func (x *Index) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(x.slots) < size {
		x.slots = make([]int32, size)
	}
	x.slots = x.slots[:size]
	clear(x.slots)
	x.mask = uint64(size - 1)
}

func (x *Index) add(i int) {
	for h := spread(x.spans[i].span) & x.mask; ; h = (h + 1) & x.mask {
		if x.slots[h] == 0 {
			x.slots[h] = int32(i + 1)
			return
		}
	}
}

// find returns the index in spans of the span id's entry in the trace whose fold is trace, or
// noParent.
func (x *Index) find(trace, span uint64) int32 {
	if len(x.slots) == 0 {
		return noParent
	}
	for h := spread(span) & x.mask; x.slots[h] != 0; h = (h + 1) & x.mask {
		if e := &x.spans[x.slots[h]-1]; e.span == span && e.trace == trace {
			return x.slots[h] - 1
		}
	}
	return noParent
}

// Clear drops what the index holds of its batch.
func (x *Index) Clear() {
	clear(x.peers) // names from the batch's resources
	x.spans, x.peers = x.spans[:0], x.peers[:0]
}
