package intent

import "bytes"

// Watcher re-reads a file (an intent model, a baseline) on demand and tells what is new: the parsed
// content when it changed and parses, an error when it cannot be read or parsed (each distinct error
// once, until the file is good again: a failure after a recovery is reported again, however alike),
// or nothing. The path is opened anew each time, so a Kubernetes ConfigMap update (a symlink
// swap) is seen; unchanged content is not parsed again. It is not safe for concurrent use.
type Watcher[T any] struct {
	path     string
	parse    func(file string, data []byte) (T, error)
	last     []byte // the content of the last attempt to parse, good or bad
	lastGood bool   // whether last parsed
	lastErr  string // the last error reported, until the file is good again
}

// NewWatcher watches path, whose content loaded was parsed already, with parse.
func NewWatcher[T any](path string, loaded []byte, parse func(file string, data []byte) (T, error)) *Watcher[T] {
	return &Watcher[T]{path: path, parse: parse, last: loaded, lastGood: true}
}

// Check re-reads the file: changed is true when it holds new content that parses. A broken file
// gives its error once; the caller keeps what it had.
func (w *Watcher[T]) Check() (v T, changed bool, err error) {
	data, err := ReadFile(w.path)
	if err != nil {
		return v, false, w.report(err)
	}
	if bytes.Equal(data, w.last) {
		if w.lastGood { // the good content is back (after a read error): a new failure is news
			w.lastErr = ""
		}
		return v, false, nil // unchanged: parsed already, or reported already
	}
	w.last = data
	if v, err = w.parse(w.path, data); err != nil {
		w.lastGood = false
		return v, false, w.report(err)
	}
	w.lastGood, w.lastErr = true, ""
	return v, true, nil
}

func (w *Watcher[T]) report(err error) error {
	if err.Error() == w.lastErr {
		return nil
	}
	w.lastErr = err.Error()
	return err
}
