//go:build race

package ginadapter_test

const raceEnabled = true
