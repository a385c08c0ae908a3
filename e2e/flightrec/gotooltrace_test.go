package flightrec_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/perfobs"
)

// TestGoToolTraceOpensSnapshots: the file DebugHandler serves is one `go tool trace` reads: its
// synchronization-blocking profile of a request slow on a held mutex is not empty.
func TestGoToolTraceOpensSnapshots(t *testing.T) {
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET /locked", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		mu.Unlock() //lint:ignore SA2001 waiting for the lock is the point
	})
	s := start(t, perfobs.FlightRecorderConfig{Budget: 20 * time.Millisecond}, mux)
	mu.Lock()
	go func() { time.Sleep(60 * time.Millisecond); mu.Unlock() }()
	const id = "5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed"
	s.get(t, "/locked", id)
	e := s.waitEntry(t, id)
	f := s.file(t, e)
	var snap bytes.Buffer
	snap.ReadFrom(f)
	f.Close()
	file := filepath.Join(t.TempDir(), e.ID+".trace")
	if err := os.WriteFile(file, snap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to run go tool trace: %v", err)
	}
	cmd := exec.Command(gobin, "tool", "trace", "-pprof=sync", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool trace -pprof=sync %s: %v\n%s", file, err, stderr.String())
	}
	if stdout.Len() == 0 {
		t.Error("go tool trace gave an empty sync profile for a request that waited on a mutex")
	}
}
