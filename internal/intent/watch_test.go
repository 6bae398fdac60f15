package intent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWatcherTellsWhatIsNew(t *testing.T) {
	file := filepath.Join(t.TempDir(), "intent.yaml")
	good := []byte("version: 1\nservices:\n  cart: {}\n")
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(file, good, LoadBytes)
	step := func(name string, write []byte, remove bool, wantModel, wantErr bool) {
		t.Helper()
		switch {
		case remove:
			_ = os.Remove(file)
		case write != nil:
			if err := os.WriteFile(file, write, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		m, changed, err := w.Check()
		if changed != wantModel || (m != nil) != wantModel || (err != nil) != wantErr {
			t.Fatalf("%s: model %v, changed %v, error %v", name, m != nil, changed, err)
		}
	}
	step("unchanged", nil, false, false, false)
	step("changed", []byte("version: 1\nservices:\n  cart: {}\n  shop: {}\n"), false, true, false)
	step("broken", []byte("version: 1\nservices:\n  cart: {depends_on: [x]}\n"), false, false, true)
	step("still broken", nil, false, false, false)
	step("gone", nil, true, false, true)
	step("still gone", nil, false, false, false)
	step("back", good, false, true, false)
}

// A failure after a recovery is news, however alike: the file deleted, restored unchanged, deleted
// again is reported both times.
func TestWatcherReportsAFailureAfterARecovery(t *testing.T) {
	file := filepath.Join(t.TempDir(), "intent.yaml")
	good := []byte("version: 1\nservices:\n  cart: {}\n")
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(file, good, LoadBytes)
	for round := 1; round <= 2; round++ {
		_ = os.Remove(file)
		if _, _, err := w.Check(); err == nil {
			t.Fatalf("round %d: the deleted file is not reported", round)
		}
		if _, _, err := w.Check(); err != nil {
			t.Fatalf("round %d: the same failure reported twice in a row: %v", round, err)
		}
		if err := os.WriteFile(file, good, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, changed, err := w.Check(); changed || err != nil {
			t.Fatalf("round %d: the restored file, unchanged, gives changed %v, error %v", round, changed, err)
		}
	}
}
