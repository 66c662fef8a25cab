//go:build race

package file

// raceEnabled shrinks the big-file test: the race detector makes it 20x slower.
const raceEnabled = true
