package driftprocessor

import (
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// writeLearned writes the observed system, merged with the current intent, to the learn output: to a
// temporary file beside it, then renamed over it, so a reader never sees half a file.
func (p *driftProcessor) writeLearned() {
	if p.cfg.Learn.Output == "" {
		return
	}
	data, err := p.engine.Learned()
	if err == nil {
		err = writeAtomically(p.cfg.Learn.Output, data)
	}
	if err != nil {
		p.logger.Warn("Learned intent could not be written", zap.String("output", p.cfg.Learn.Output), zap.Error(err))
	}
}

func writeAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
