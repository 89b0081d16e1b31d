//go:build race

package webhook

// raceEnabled: the race detector slows byte-at-a-time scanning tenfold,
// so tests that only need a large body, not a particular size, use less.
const raceEnabled = true
