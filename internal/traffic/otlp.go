package traffic

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// readOTLPJSON reads one ExportTraceServiceRequest per line when the first line is a whole JSON
// value (contrib's file exporter), else the whole file as one request.
func readOTLPJSON(name string, br *bufio.Reader, fn Batch) error {
	first, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return place(name, "1", err)
	}
	if !json.Valid(bytes.TrimSpace(first)) {
		rest, err := io.ReadAll(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return otlpJSON(name, "1", append(first, rest...), fn)
	}
	if err := otlpJSON(name, "1", first, fn); err != nil {
		return err
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	line := 2
	for ; sc.Scan(); line++ {
		if err := otlpJSON(name, strconv.Itoa(line), sc.Bytes(), fn); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return place(name, strconv.Itoa(line), err)
	}
	return nil
}

func otlpJSON(name, line string, b []byte, fn Batch) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(b)
	if err != nil {
		return place(name, line, fmt.Errorf("not an OTLP/JSON trace request: %w", err))
	}
	return fn(td)
}

// readOTLPProto reads one TracesData (or ExportTraceServiceRequest: the same bytes) message, or the
// file exporter's frames: each message after its length, four bytes big-endian. A message starts
// with its first field's tag (0x0a), a frame with the high byte of a length (0x00 below 16 MiB).
func readOTLPProto(name string, br *bufio.Reader, fn Batch) error {
	head, _ := br.Peek(1)
	if len(head) == 1 && head[0] != 0 {
		b, err := io.ReadAll(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return otlpProto(name, "byte 0", b, fn)
	}
	var size [4]byte
	buf := make([]byte, 0, 1<<20)
	for frame, offset := 1, int64(0); ; frame++ {
		if _, err := io.ReadFull(br, size[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return place(name, fmt.Sprintf("byte %d", offset), fmt.Errorf("frame %d: truncated length: %w", frame, err))
		}
		n := binary.BigEndian.Uint32(size[:])
		if n > maxLine {
			return place(name, fmt.Sprintf("byte %d", offset), fmt.Errorf("frame %d: length %d is over the limit of %d: not a file exporter's protobuf frame", frame, n, maxLine))
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if got, err := io.ReadFull(br, buf); err != nil {
			return place(name, fmt.Sprintf("byte %d", offset), fmt.Errorf("frame %d: truncated: %d bytes of %d", frame, got, n))
		}
		if err := otlpProto(name, fmt.Sprintf("byte %d", offset), buf, fn); err != nil {
			return err
		}
		offset += 4 + int64(n)
	}
}

func otlpProto(name, where string, b []byte, fn Batch) error {
	var u ptrace.ProtoUnmarshaler
	td, err := u.UnmarshalTraces(b)
	if err != nil {
		return place(name, where, fmt.Errorf("not an OTLP protobuf trace message: %w", err))
	}
	return fn(td)
}
