// Package hotpath is a test fixture: the middleware's hot path (one request through
// middleware.HTTP) with a slowdown that the tests plant at build time, so that the instruction
// gate can be shown to fail a 3% regression of that path and to pass pure noise.
//
// ExtraPerThousand is set with -ldflags=-X=...hotpath.ExtraPerThousand=K: the benchmark then
// serves K extra requests for every thousand operations: K/10 percent more requests through the hot path.
package hotpath

// ExtraPerThousand is a string so that the linker's -X can set it.
var ExtraPerThousand = "0"
