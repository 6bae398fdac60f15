package traffic

import (
	"bufio"
	"fmt"
	"io"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv2"
)

// readZipkinJSON reads a Zipkin v2 JSON array of spans with contrib's Zipkin translator, the one
// its Zipkin receiver runs. Tags stay strings, as that receiver's default keeps them.
func readZipkinJSON(name string, br *bufio.Reader, fn Batch) error {
	b, err := io.ReadAll(br)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	td, err := zipkinv2.NewJSONTracesUnmarshaler(false).UnmarshalTraces(b)
	if err != nil {
		return place(name, "byte 0", fmt.Errorf("not Zipkin v2 JSON: %w", err))
	}
	return fn(td)
}
