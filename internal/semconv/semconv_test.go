package semconv

import "testing"

func TestEquivalents(t *testing.T) {
	if got := Equivalents("db.system"); len(got) != 2 || got[1] != "db.system.name" {
		t.Errorf("db.system: %v", got)
	}
	if got := Equivalents("custom.key"); len(got) != 1 {
		t.Errorf("custom.key: %v", got)
	}
}
