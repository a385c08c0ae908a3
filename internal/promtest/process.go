package promtest

import (
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// installHint ends every message about a missing binary.
const installHint = "run ./scripts/install-tools to install the real servers the tests start"

// ToolsDir is where scripts/install-tools puts the binaries it builds: $PERFOBS_TOOLS, else
// ~/.cache/perfobs-go/tools.
func ToolsDir() string {
	if d := os.Getenv("PERFOBS_TOOLS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "perfobs-go", "tools")
	}
	return filepath.Join(home, ".cache", "perfobs-go", "tools")
}

// executable returns path when it names an executable file, else an error that says how to
// install it.
func executable(what, path string) (string, error) {
	st, err := os.Stat(path)
	if err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return path, nil
	}
	if err == nil {
		err = fmt.Errorf("not an executable file")
	}
	return "", fmt.Errorf("%s binary %s: %v (%s)", what, path, err, installHint)
}

// runProcess starts bin with args, waits until ready reports true, and stops the process in
// t.Cleanup, printing its log when the test failed. It fails the test when the process exits
// or is not ready within timeout.
func runProcess(t TB, name, bin string, args []string, ready func() bool, timeout time.Duration) {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("promtest: start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("promtest: %s log:\n%s", name, logs.String())
		}
	})
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-done:
			done <- err // let the cleanup's receive finish
			t.Fatalf("promtest: %s exited before it was ready: %v\n%s", name, err, logs.String())
		default:
		}
		if ready() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("promtest: %s not ready after %v\n%s", name, timeout, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpOK reports whether GET url answers 200.
func httpOK(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// promDuration writes d as Prometheus reads durations (whole seconds at least).
func promDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return fmt.Sprintf("%ds", max(1, d/time.Second))
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func dialOK(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
