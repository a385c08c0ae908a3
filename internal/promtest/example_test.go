package promtest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/perfobs/perfobs-go/internal/promtest"
)

// exampleTB stands in for the *testing.T a real test passes to Start.
type exampleTB struct {
	dirs     []string
	cleanups []func()
}

func (*exampleTB) Helper()                   {}
func (*exampleTB) Failed() bool              { return false }
func (*exampleTB) Logf(string, ...any)       {}
func (*exampleTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (e *exampleTB) Cleanup(f func())        { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) TempDir() string {
	d, err := os.MkdirTemp("", "promtest")
	if err != nil {
		panic(err)
	}
	e.dirs = append(e.dirs, d)
	return d
}
func (e *exampleTB) done() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	for _, d := range e.dirs {
		os.RemoveAll(d)
	}
}

func Example() {
	t := &exampleTB{} // in a test: t is the *testing.T
	defer t.done()

	srv := promtest.Start(t) // add promtest.WithTarget("app", addr) to scrape a server
	got, err := srv.Query(context.Background(), `vector(1) + 1`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got[0].Value)
	// Output: 2
}
