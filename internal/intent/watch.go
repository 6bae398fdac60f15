package intent

import "bytes"

// Watcher re-reads an intent file on demand and tells what is new: a model when the content changed
// and loads, an error when it cannot be read or loaded (each distinct error once), or nothing. The
// path is opened anew each time, so a Kubernetes ConfigMap update (a symlink swap) is seen. It is not
// safe for concurrent use.
type Watcher struct {
	path    string
	last    []byte // the content of the last attempt to load, good or bad
	lastErr string // the last error reported
}

// NewWatcher watches path, whose content loaded was loaded already.
func NewWatcher(path string, loaded []byte) *Watcher { return &Watcher{path: path, last: loaded} }

// Check re-reads the file. A broken file gives its error once; the caller keeps its last good model.
func (w *Watcher) Check() (*Compiled, error) {
	data, err := ReadFile(w.path)
	if err != nil {
		return nil, w.report(err)
	}
	if bytes.Equal(data, w.last) {
		return nil, nil // unchanged: loaded already, or reported already
	}
	w.last = data
	m, err := LoadBytes(w.path, data)
	if err != nil {
		return nil, w.report(err)
	}
	w.lastErr = ""
	return m, nil
}

func (w *Watcher) report(err error) error {
	if err.Error() == w.lastErr {
		return nil
	}
	w.lastErr = err.Error()
	return err
}
