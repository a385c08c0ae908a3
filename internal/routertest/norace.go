//go:build !race

package routertest

const raceEnabled = false
