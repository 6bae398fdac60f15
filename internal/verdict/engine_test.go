package verdict

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/driftprocessor/driftprocessor/internal/absence"
	"github.com/driftprocessor/driftprocessor/internal/behaviour"
	"github.com/driftprocessor/driftprocessor/internal/capturetest"
	"github.com/driftprocessor/driftprocessor/internal/judge"
	"github.com/driftprocessor/driftprocessor/internal/pairing"
)

// collected is an Output that keeps what the engine handed over.
type collected struct {
	byStatus   map[judge.Status]int
	onSpan     int
	unresolved int
	malformed  map[string]int
}

func newCollected() *collected {
	return &collected{byStatus: map[judge.Status]int{}, malformed: map[string]int{}}
}

func (c *collected) Judged(j *Judged) {
	c.byStatus[j.Verdict.Status()]++
	if j.OnSpan {
		c.onSpan++
	}
}
func (c *collected) Unresolved(string, string) { c.unresolved++ }
func (c *collected) Malformed(reason string)   { c.malformed[reason]++ }

func settings(t *testing.T, intentFile string, now func() time.Time) Settings {
	t.Helper()
	return Settings{IntentFile: intentFile, Pairing: pairing.DefaultConfig(), Behavior: behaviour.DefaultConfig(),
		Absence: absence.DefaultConfig(), BaselineStaleAfter: 24 * time.Hour, Now: now}
}

// TestOfflineOverARecordedMinute: with no collector around it, the engine judges a recorded minute
// on the clock it is given; every call of the minute is judged once, and Tick judges what waits
// once that clock passes the TTL.
func TestOfflineOverARecordedMinute(t *testing.T) {
	at := time.Date(2022, 8, 23, 17, 0, 0, 0, time.UTC)
	e, err := New(settings(t, capturetest.BoutiqueIntent(), func() time.Time { return at }))
	require.NoError(t, err)
	td, err := capturetest.Boutique()
	require.NoError(t, err)
	out := newCollected()
	e.Batch(td, out)
	at = at.Add(time.Hour)
	e.Tick(out)
	assert.Equal(t, 0, e.Pending())
	assert.Equal(t, map[judge.Status]int{judge.Conforming: capturetest.BoutiqueCalls}, out.byStatus)
	assert.Equal(t, capturetest.BoutiqueCalls, out.onSpan, "a whole minute in one batch: every call on its span")
	assert.Zero(t, out.unresolved)
	assert.Empty(t, out.malformed)
}

// TestBrokenFilesAtStartAndReload: the engine refuses a broken intent or baseline with file, line
// and key; a broken file at reload keeps the last good one and is reported once.
func TestBrokenFilesAtStartAndReload(t *testing.T) {
	dir := t.TempDir()
	intentFile := filepath.Join(dir, "intent.yaml")
	write := func(path, text string) { require.NoError(t, os.WriteFile(path, []byte(text), 0o600)) }
	write(intentFile, "version: 1\nservices:\n  a: {depends_on: [b]}\n  b: {}\n")
	baselineFile := filepath.Join(dir, "baseline.yaml")
	write(baselineFile, "version: 1\naccepted:\n  - {caller: a, callee: c, kind: undeclared_dependnecy}\n")

	set := settings(t, intentFile, nil)
	set.BaselineFile = baselineFile
	_, err := New(set)
	require.ErrorContains(t, err, baselineFile+":3: accepted[0].kind: \"undeclared_dependnecy\" is not a drift kind")

	write(baselineFile, "version: 1\naccepted:\n  - {caller: a, callee: c, kind: undeclared_dependency}\n")
	e, err := New(set)
	require.NoError(t, err)
	assert.Equal(t, Unchanged, e.Reload(context.Background()))
	write(intentFile, "version: 1\nservices:\n  a: {depends_on: [nowhere]}\n")
	assert.Equal(t, Failed, e.Reload(context.Background()))
	assert.Equal(t, 2, e.Model().NumNodes(), "the last good model judges")
	write(intentFile, "version: 1\nservices:\n  a: {}\n")
	assert.Equal(t, Reloaded, e.Reload(context.Background()))
	assert.Equal(t, 1, e.Model().NumNodes())
}
