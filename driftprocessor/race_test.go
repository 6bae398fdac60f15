//go:build race

package driftprocessor

const raceEnabled = true
