package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/flightrecorder"
)

// writeTrace records a request that waits on a channel and returns the trace file.
func writeTrace(t *testing.T, traceID string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	_, task := flightrecorder.StartTask(context.Background(), "/orders/{id}", traceID)
	ch := make(chan struct{})
	go func() { time.Sleep(30 * time.Millisecond); close(ch) }()
	<-ch
	task.End()
	trace.Stop()
	file := filepath.Join(t.TempDir(), "snap.trace")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestTraceSummarize(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	file := writeTrace(t, id)
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, []byte("not a trace"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string // in stdout
		err  string   // in stderr
	}{
		{"by trace id", []string{"summarize", file, "--trace-id", id}, exitOK,
			[]string{`task "/orders/{id}" trace_id ` + id, "blocked channel", "mostly: channel"}, ""},
		{"flags first", []string{"summarize", "--trace-id", id, file}, exitOK, []string{"mostly: channel"}, ""},
		{"longest by default", []string{"summarize", file}, exitOK, []string{"trace_id " + id}, ""},
		{"json", []string{"summarize", file, "--json"}, exitOK, []string{`"task": "/orders/{id}"`, `"channel_ns": `}, ""},
		{"unknown trace id", []string{"summarize", file, "--trace-id", "feed"}, exitFail, nil, "trace ids logged: " + id},
		{"missing file", []string{"summarize", filepath.Join(t.TempDir(), "absent")}, exitUsage, nil, "no such file"},
		{"not a trace", []string{"summarize", garbage}, exitUsage, nil, "not a Go execution trace"},
		{"no file", []string{"summarize"}, exitUsage, nil, "FILE is required"},
		{"no subcommand", nil, exitUsage, nil, "usage: perfobs trace summarize"},
		{"unknown subcommand", []string{"show"}, exitUsage, nil, "usage: perfobs trace summarize"},
		{"two files", []string{"summarize", file, file}, exitUsage, nil, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"trace"}, tc.args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, want := range tc.out {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if tc.err != "" && !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, stderr.String())
			}
		})
	}
}
