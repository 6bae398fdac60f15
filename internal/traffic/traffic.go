// Package traffic reads recorded traffic in the formats teams keep it in, as batches of pdata
// spans: OTLP/JSON (a request per file, or one per line as contrib's file exporter writes it),
// OTLP protobuf (one message, or the file exporter's length-prefixed frames), Jaeger JSON (the
// UI's download and the query API's response) and Zipkin v2 JSON, each optionally gzipped. The
// conversions are the ecosystem's own (pdata's unmarshalers, contrib's Jaeger and Zipkin
// translators); this package only finds the format and the pieces.
package traffic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Format is a format of recorded traffic.
type Format uint8

// Formats.
const (
	Auto Format = iota
	OTLPJSON
	OTLPProto
	JaegerJSON
	ZipkinJSON
)

var formatNames = [...]string{Auto: "auto", OTLPJSON: "otlp-json", OTLPProto: "otlp-proto", JaegerJSON: "jaeger-json", ZipkinJSON: "zipkin-json"}

func (f Format) String() string { return formatNames[f] }

// ParseFormat reads a format's name, as String writes it.
func ParseFormat(name string) (Format, error) {
	for f, n := range formatNames {
		if n == name {
			return Format(f), nil
		}
	}
	return Auto, fmt.Errorf("unknown format %q: one of auto, otlp-json, otlp-proto, jaeger-json, zipkin-json", name)
}

// Batch is called with each batch of spans, in file order. The batch is the caller's: nothing
// else holds it.
type Batch func(ptrace.Traces) error

// maxLine bounds one line (one request) of line-delimited OTLP/JSON, and one protobuf frame.
const maxLine = 256 << 20

// ReadFile reads the file at path in format f (Auto: found from its first bytes), calling fn with
// each batch. An error names the file and the place in it.
func ReadFile(path string, f Format, fn Batch) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	return Read(path, file, f, fn)
}

// Read reads r, named name in errors, as ReadFile does.
func Read(name string, r io.Reader, f Format, fn Batch) error {
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 1<<20)
	}
	if f == Auto {
		var err error
		if f, err = sniff(br); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	switch f {
	case OTLPJSON:
		return readOTLPJSON(name, br, fn)
	case OTLPProto:
		return readOTLPProto(name, br, fn)
	case JaegerJSON:
		return readJaegerJSON(name, br, fn)
	case ZipkinJSON:
		return readZipkinJSON(name, br, fn)
	}
	return fmt.Errorf("%s: unknown format %d", name, f)
}

// sniff finds the format from the first bytes: JSON is told apart by its first key (an array is
// Zipkin's), anything else is protobuf.
func sniff(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(4096)
	if len(head) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return Auto, errors.New("empty file")
		}
		return Auto, err
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return Auto, errors.New("empty file")
	case trimmed[0] == '[':
		return ZipkinJSON, nil
	case trimmed[0] != '{':
		return OTLPProto, nil
	}
	switch key := firstKey(trimmed); key {
	case "resourceSpans", "resource_spans":
		return OTLPJSON, nil
	case "data", "total", "limit", "offset", "errors":
		return JaegerJSON, nil
	case "":
		return Auto, errors.New("a JSON object whose first key cannot be read: not OTLP/JSON or Jaeger JSON")
	default:
		return Auto, fmt.Errorf("a JSON object that starts with key %q: neither OTLP/JSON (resourceSpans) nor Jaeger JSON (data)", key)
	}
}

// firstKey is the first key of the JSON object that b starts with, or "".
func firstKey(b []byte) string {
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return ""
	}
	return string(b[1 : 1+end])
}

// place is where in a file an error is: a line, a byte offset or a frame.
func place(name, where string, err error) error {
	return fmt.Errorf("%s:%s: %w", name, where, err)
}
