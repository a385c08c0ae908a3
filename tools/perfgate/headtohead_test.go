package perfgate

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newBenchRepo makes a git repository holding testdata/benchprog at its base version, one commit.
func newBenchRepo(t *testing.T) string {
	t.Helper()
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "params.go", "bench_test.go"} {
		data, err := os.ReadFile(filepath.Join("testdata/benchprog", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, dir, "init", "-q")
	gitRun(t, dir, "add", ".")
	gitRun(t, dir, "-c", "user.name=perfgate", "-c", "user.email=perfgate@example.com", "commit", "-q", "-m", "base")
	return dir
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func setParams(t *testing.T, dir string, work, allocs string) {
	t.Helper()
	p := filepath.Join(dir, "params.go")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "Work   = 1000", "Work   = "+work, 1)
	s = strings.Replace(s, "Allocs = 1", "Allocs = "+allocs, 1)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunHeadToHead builds the tiny benchmark program at HEAD (in a git worktree) and in the
// working tree, runs them interleaved and gates the result. Time on a shared runner is too noisy
// to assert here (testdata's committed outputs prove the time direction); allocations are exact.
func TestRunHeadToHead(t *testing.T) {
	dir := newBenchRepo(t)
	ctx := t.Context()
	h := HeadToHead{Dir: dir, BaseRev: "HEAD", Count: 4, BenchTime: "2000x"}

	t.Run("the same code twice passes the exact gate", func(t *testing.T) {
		var log strings.Builder
		h := h
		h.Log = &log
		h.SaveDir = t.TempDir()
		pair, err := RunHeadToHead(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pair.Base.Values(fullName(pair.Base, "BenchmarkWork"), "sec/op")); n != 4 {
			t.Errorf("%d base samples, want 4 (one per round)", n)
		}
		rep, err := Compare(pair.Base, pair.New, Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Rows {
			if r.Exact && r.Verdict != Pass {
				t.Errorf("%s %s: %s %s", r.Benchmark, r.Unit, r.Verdict, r.Note)
			}
		}
		if !strings.Contains(log.String(), "round 4/4") {
			t.Errorf("log lacks the last round:\n%s", log.String())
		}
		if data, err := os.ReadFile(filepath.Join(h.SaveDir, "new.txt")); err != nil || strings.Count(string(data), "BenchmarkAlloc") != 4 {
			t.Errorf("saved new.txt: %v\n%s", err, data)
		}
	})

	t.Run("one extra allocation in the working tree fails", func(t *testing.T) {
		setParams(t, dir, "1000", "2")
		defer setParams(t, dir, "1000", "1") // no-op text for the next subtests: they do not build
		pair, err := RunHeadToHead(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Compare(pair.Base, pair.New, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if r := row(t, rep, "BenchmarkAlloc", "allocs/op"); r.Verdict != Fail || r.Old.Center != 1 || r.New.Center != 2 {
			t.Errorf("allocs/op: %s %v -> %v", r.Verdict, r.Old.Center, r.New.Center)
		}
		if !rep.Failed() {
			t.Error("report did not fail")
		}
	})

	t.Run("a missing revision is ErrNoBase", func(t *testing.T) {
		h := h
		h.BaseRev = "no-such-branch"
		_, err := RunHeadToHead(ctx, h)
		if !errors.Is(err, ErrNoBase) || !strings.Contains(err.Error(), `"no-such-branch"`) {
			t.Errorf("error %v, want ErrNoBase naming the revision", err)
		}
	})

	t.Run("a package absent at the base is ErrNoBase", func(t *testing.T) {
		sub := filepath.Join(dir, "newpkg")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		h := h
		h.Packages = []string{"./newpkg"}
		_, err := RunHeadToHead(ctx, h)
		if !errors.Is(err, ErrNoBase) || !strings.Contains(err.Error(), "./newpkg") {
			t.Errorf("error %v, want ErrNoBase naming the package", err)
		}
	})

	t.Run("a package pattern is refused", func(t *testing.T) {
		h := h
		h.Packages = []string{"./..."}
		_, err := RunHeadToHead(ctx, h)
		if err == nil || !strings.Contains(err.Error(), "patterns are not supported") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("a pattern matching nothing is ErrNoBenchmarks", func(t *testing.T) {
		h := h
		h.Bench = "NoSuchBenchmark"
		h.Count = 1
		_, err := RunHeadToHead(ctx, h)
		if !errors.Is(err, ErrNoBenchmarks) {
			t.Errorf("error %v, want ErrNoBenchmarks", err)
		}
	})

	t.Run("the worktree is removed", func(t *testing.T) {
		cmd := exec.Command("git", "worktree", "list")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.TrimSpace(string(out)), "\n"); n != 0 {
			t.Errorf("worktrees left:\n%s", out)
		}
	})
}
