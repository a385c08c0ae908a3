//go:build !race

package chiadapter_test

const raceEnabled = false
