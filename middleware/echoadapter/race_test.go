//go:build race

package echoadapter_test

const raceEnabled = true
