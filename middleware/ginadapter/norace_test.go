//go:build !race

package ginadapter_test

const raceEnabled = false
