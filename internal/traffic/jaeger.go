package traffic

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	model "github.com/jaegertracing/jaeger-idl/model/v1"
	jaegertranslator "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/jaeger"
)

// The Jaeger UI's JSON, as its query API answers and its "Download JSON" saves: {"data": [trace,
// ...]}. Jaeger keeps the types of this shape in an internal package, so they are declared here;
// the spans then go through Jaeger's model and contrib's Jaeger translator, the conversion
// contrib's Jaeger receiver runs. Only "data" is read, one trace at a time.
type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	Flags         uint32      `json:"flags"`
	OperationName string      `json:"operationName"`
	References    []jaegerRef `json:"references"`
	StartTime     int64       `json:"startTime"` // µs since the epoch
	Duration      int64       `json:"duration"`  // µs
	Tags          []jaegerTag `json:"tags"`
	ProcessID     string      `json:"processID"`
}

type jaegerRef struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerTag struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

type jaegerProcess struct {
	ServiceName string      `json:"serviceName"`
	Tags        []jaegerTag `json:"tags"`
}

// readJaegerJSON decodes the traces of "data" one at a time, each into one batch: a file of many
// traces is never held whole.
func readJaegerJSON(name string, br *bufio.Reader, fn Batch) error {
	dec := json.NewDecoder(br)
	at := func(err error) error { return place(name, fmt.Sprintf("byte %d", dec.InputOffset()), err) }
	if err := enterData(dec); err != nil {
		return at(err)
	}
	for i := 0; dec.More(); i++ {
		var t jaegerTrace
		if err := dec.Decode(&t); err != nil {
			return at(fmt.Errorf("data[%d]: %w", i, err))
		}
		batches, err := t.batches()
		if err != nil {
			return at(fmt.Errorf("data[%d]: %w", i, err))
		}
		td, err := jaegertranslator.ProtoToTraces(batches)
		if err != nil {
			return at(fmt.Errorf("data[%d]: %w", i, err))
		}
		if err := fn(td); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the array's end
		return at(fmt.Errorf("data: %w", err))
	}
	return nil
}

// enterData moves dec to the first trace of the object's "data" array, skipping the other keys.
func enterData(dec *json.Decoder) error {
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return errors.New("not a Jaeger JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("%v: %w", tok, err)
			}
			continue
		}
		if tok, err := dec.Token(); err != nil {
			return err
		} else if tok != json.Delim('[') {
			return errors.New("data: not an array of traces")
		}
		return nil
	}
	return errors.New("no data: not a Jaeger JSON response")
}

// batches turns a trace into Jaeger model batches, one per process.
func (t *jaegerTrace) batches() ([]*model.Batch, error) {
	byProcess := make(map[string]*model.Batch, len(t.Processes))
	var out []*model.Batch
	for i := range t.Spans {
		s := &t.Spans[i]
		b := byProcess[s.ProcessID]
		if b == nil {
			p, ok := t.Processes[s.ProcessID]
			if !ok {
				return nil, fmt.Errorf("spans[%d]: processID %q is not among the trace's processes", i, s.ProcessID)
			}
			tags, err := keyValues(p.Tags)
			if err != nil {
				return nil, fmt.Errorf("processes[%q]: %w", s.ProcessID, err)
			}
			b = &model.Batch{Process: &model.Process{ServiceName: p.ServiceName, Tags: tags}}
			byProcess[s.ProcessID] = b
			out = append(out, b)
		}
		span, err := s.model()
		if err != nil {
			return nil, fmt.Errorf("spans[%d]: %w", i, err)
		}
		b.Spans = append(b.Spans, span)
	}
	return out, nil
}

func (s *jaegerSpan) model() (*model.Span, error) {
	traceID, err := model.TraceIDFromString(s.TraceID)
	if err != nil {
		return nil, fmt.Errorf("traceID: %w", err)
	}
	spanID, err := model.SpanIDFromString(s.SpanID)
	if err != nil {
		return nil, fmt.Errorf("spanID: %w", err)
	}
	tags, err := keyValues(s.Tags)
	if err != nil {
		return nil, err
	}
	span := &model.Span{
		TraceID: traceID, SpanID: spanID, OperationName: s.OperationName, Flags: model.Flags(s.Flags),
		StartTime: time.UnixMicro(s.StartTime).UTC(), Duration: time.Duration(s.Duration) * time.Microsecond,
		Tags: tags,
	}
	for j, r := range s.References {
		refTrace, err := model.TraceIDFromString(r.TraceID)
		if err != nil {
			return nil, fmt.Errorf("references[%d].traceID: %w", j, err)
		}
		refSpan, err := model.SpanIDFromString(r.SpanID)
		if err != nil {
			return nil, fmt.Errorf("references[%d].spanID: %w", j, err)
		}
		ref := model.NewChildOfRef(refTrace, refSpan)
		if r.RefType == "FOLLOWS_FROM" {
			ref = model.NewFollowsFromRef(refTrace, refSpan)
		}
		span.References = append(span.References, ref)
	}
	return span, nil
}

func keyValues(tags []jaegerTag) ([]model.KeyValue, error) {
	kvs := make([]model.KeyValue, 0, len(tags))
	for i, t := range tags {
		kv, err := t.model()
		if err != nil {
			return nil, fmt.Errorf("tags[%d] (%s): %w", i, t.Key, err)
		}
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

func (t jaegerTag) model() (model.KeyValue, error) {
	switch t.Type {
	case "bool":
		var v bool
		err := json.Unmarshal(t.Value, &v)
		return model.Bool(t.Key, v), err
	case "int64":
		var v int64
		err := json.Unmarshal(t.Value, &v)
		return model.Int64(t.Key, v), err
	case "float64":
		var v float64
		err := json.Unmarshal(t.Value, &v)
		return model.Float64(t.Key, v), err
	case "binary":
		var v string
		if err := json.Unmarshal(t.Value, &v); err != nil {
			return model.KeyValue{}, err
		}
		b, err := base64.StdEncoding.DecodeString(v)
		return model.Binary(t.Key, b), err
	}
	// "string", and a type this reader does not know: kept as its text
	var v string
	if err := json.Unmarshal(t.Value, &v); err != nil {
		v = string(t.Value)
	}
	return model.String(t.Key, v), nil
}
