//go:build race

package muxadapter_test

const raceEnabled = true
