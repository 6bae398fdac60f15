package intent

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Baseline is accepted drift: calls it matches are known, not new drift.
type Baseline struct {
	File    string
	Entries []Accepted
}

// Accepted is one entry of a baseline.
type Accepted struct {
	Caller, Callee string
	Kind           string    // "" accepts every kind
	Until          time.Time // zero: no end; the entry no longer applies from this day on
	Reason         string
	Line           int
}

// Applies reports whether the entry accepts a call of kind on its edge at now.
func (a *Accepted) Applies(caller, callee, kind string, now time.Time) bool {
	return a.Caller == caller && a.Callee == callee && (a.Kind == "" || a.Kind == kind) && !a.Expired(now)
}

// Expired reports whether the entry's date has passed.
func (a *Accepted) Expired(now time.Time) bool { return !a.Until.IsZero() && !now.Before(a.Until) }

// Match returns the index of the first entry that accepts the call, or -1.
func (b *Baseline) Match(caller, callee, kind string, now time.Time) int {
	for i := range b.Entries {
		if b.Entries[i].Applies(caller, callee, kind, now) {
			return i
		}
	}
	return -1
}

// LoadBaseline reads a baseline file; errors name the file, the line and the key.
func LoadBaseline(path string) (*Baseline, []byte, error) { return readAndParse(path, ParseBaseline) }

// ParseBaseline reads a baseline from data.
func ParseBaseline(file string, data []byte) (*Baseline, error) {
	d := &decoder{file: file}
	root, err := d.document(data, "baseline")
	if err != nil {
		return nil, err
	}
	b := &Baseline{File: file}
	fs, _ := d.fields(root, "", "version", "accepted")
	hasVersion := false
	for _, f := range fs {
		switch f.key {
		case "version":
			hasVersion = true
			if v, ok := d.integer(f.val, f.key); ok && v != 1 {
				d.errorf(f.line, f.key, "unsupported version %d (this processor reads version 1)", v)
			}
		case "accepted":
			items, _ := d.items(f.val, f.key)
			for i, it := range items {
				if a, ok := d.accepted(it, index(f.key, i)); ok {
					b.Entries = append(b.Entries, a)
				}
			}
		}
	}
	if !hasVersion {
		d.errorf(1, "version", "missing: the file must start with `version: 1`")
	}
	return b, d.err()
}

func (d *decoder) accepted(n *yaml.Node, path string) (Accepted, bool) {
	a := Accepted{Line: d.resolve(n).Line}
	fs, ok := d.fields(n, path, "caller", "callee", "kind", "until", "reason")
	if !ok {
		return a, false
	}
	for _, f := range fs {
		fp := join(path, f.key)
		switch f.key {
		case "caller":
			a.Caller, _ = d.nonEmptyStr(f.val, fp)
		case "callee":
			a.Callee, _ = d.nonEmptyStr(f.val, fp)
		case "kind":
			a.Kind, _ = d.nonEmptyStr(f.val, fp)
		case "reason":
			a.Reason, _ = d.str(f.val, fp)
		case "until":
			if s, ok := d.str(f.val, fp); ok {
				t, err := time.Parse(time.DateOnly, s)
				if err != nil {
					d.errorf(d.resolve(f.val).Line, fp, "%q is not a date such as 2026-12-31", s)
				}
				a.Until = t
			}
		}
	}
	if a.Caller == "" || a.Callee == "" {
		d.errorf(a.Line, path, "an entry needs a caller and a callee")
		return a, false
	}
	return a, true
}
