//go:build !race

package driftprocessor

const raceEnabled = false
