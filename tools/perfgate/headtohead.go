package perfgate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoBase is wrapped by RunHeadToHead's error when the base cannot be measured: the revision
// does not exist, the package is absent at it, or it does not build.
var ErrNoBase = errors.New("no base to compare with")

// ErrNoBenchmarks is wrapped by RunHeadToHead's error when no benchmark of the working tree
// matches the pattern.
var ErrNoBenchmarks = errors.New("no benchmark matches")

// HeadToHead configures RunHeadToHead. With only BaseRev set, it compares every benchmark of
// the package in the current directory with the same package at BaseRev.
type HeadToHead struct {
	// Dir is a directory inside the git working tree; empty means the current directory.
	// Packages are resolved relative to it.
	Dir string
	// BaseRev is the git revision to compare with ("HEAD~1", "main", a commit). Required.
	BaseRev string
	// Packages are the package directories to benchmark ("./middleware"); empty means ".".
	Packages []string
	// Bench is the -test.bench pattern; empty means ".".
	Bench string
	// Count is how many rounds to run; each round runs the base binary, then the new one,
	// once (A B A B ...). Zero means 6, enough for the U test at alpha 0.05.
	Count int
	// BenchTime is passed as -test.benchtime ("200ms", "1000x"); empty keeps Go's default (1s).
	BenchTime string
	// Go is the go command; empty means "go" from PATH.
	Go string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// SaveDir, when set, receives the raw outputs as base.txt and new.txt.
	SaveDir string
	// Instructions, when set, counts instructions per operation under callgrind instead of
	// timing the runs; each round then gives one instructions/op sample per benchmark.
	Instructions *Instructions
}

// Pair holds the two sides of a head-to-head run.
type Pair struct {
	Base, New *Results
	// BaseCommit is the commit BaseRev resolved to.
	BaseCommit string
}

// RunHeadToHead builds the test binaries of each package at BaseRev (checked out with
// `git worktree add` under a temporary directory, removed afterwards) and in the working tree,
// then runs them interleaved, A B A B, on the same machine, so that drift in machine load hits
// both sides alike. Allocations are always measured (-test.benchmem).
func RunHeadToHead(ctx context.Context, h HeadToHead) (*Pair, error) {
	if h.BaseRev == "" {
		return nil, errors.New("head-to-head: base revision: required")
	}
	if h.Dir == "" {
		h.Dir = "."
	}
	if len(h.Packages) == 0 {
		h.Packages = []string{"."}
	}
	if h.Bench == "" {
		h.Bench = "."
	}
	if h.Count <= 0 {
		h.Count = 6
	}
	if h.Go == "" {
		h.Go = "go"
	}
	if h.Log == nil {
		h.Log = io.Discard
	}
	dir, err := filepath.Abs(h.Dir)
	if err != nil {
		return nil, err
	}
	root, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("head-to-head: %s is not in a git working tree: %w", dir, err)
	}
	commit, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", h.BaseRev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("head-to-head: revision %q: %w: %w", h.BaseRev, ErrNoBase, err)
	}

	tmp, err := os.MkdirTemp("", "perfgate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	wt := filepath.Join(tmp, "base")
	fmt.Fprintf(h.Log, "checking out %s (%s) in a worktree\n", h.BaseRev, shortHash(commit))
	if _, err := git(ctx, root, "worktree", "add", "--detach", "--quiet", wt, commit); err != nil {
		return nil, fmt.Errorf("head-to-head: git worktree add %s: %w", h.BaseRev, err)
	}
	defer func() {
		// Remove the worktree even when ctx is done.
		_, _ = git(context.WithoutCancel(ctx), root, "worktree", "remove", "--force", wt)
	}()

	type side struct {
		bin, dir string
	}
	var bases, news []side
	for i, pkg := range h.Packages {
		if strings.Contains(pkg, "...") {
			return nil, fmt.Errorf("head-to-head: package %s: patterns are not supported, name each package directory", pkg)
		}
		abs := pkg
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, pkg)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("head-to-head: package %s is outside the repository %s", pkg, root)
		}
		baseDir := filepath.Join(wt, rel)
		if st, err := os.Stat(baseDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("head-to-head: package %s at %s: %w: the directory does not exist there", pkg, h.BaseRev, ErrNoBase)
		}
		newBin := filepath.Join(tmp, fmt.Sprintf("new%d.test", i))
		baseBin := filepath.Join(tmp, fmt.Sprintf("base%d.test", i))
		fmt.Fprintf(h.Log, "building %s at %s\n", pkg, h.BaseRev)
		if err := goTestC(ctx, h.Go, baseDir, baseBin, baseGoWork(wt)); err != nil {
			return nil, fmt.Errorf("head-to-head: package %s at %s: %w: %w", pkg, h.BaseRev, ErrNoBase, err)
		}
		fmt.Fprintf(h.Log, "building %s in the working tree\n", pkg)
		if err := goTestC(ctx, h.Go, abs, newBin, ""); err != nil {
			return nil, fmt.Errorf("head-to-head: package %s in the working tree: %w", pkg, err)
		}
		bases = append(bases, side{baseBin, baseDir})
		news = append(news, side{newBin, abs})
	}

	pair := &Pair{Base: NewResults(), New: NewResults(), BaseCommit: commit}
	var rawBase, rawNew bytes.Buffer
	for round := 1; round <= h.Count; round++ {
		fmt.Fprintf(h.Log, "round %d/%d\n", round, h.Count)
		for i := range h.Packages {
			for _, s := range []struct {
				side side
				res  *Results
				raw  *bytes.Buffer
				name string
			}{
				{bases[i], pair.Base, &rawBase, "base"},
				{news[i], pair.New, &rawNew, "new"},
			} {
				var out []byte
				var err error
				if h.Instructions != nil {
					out, err = h.Instructions.MeasureInstructions(ctx, s.side.bin, s.side.dir, h.Bench)
				} else {
					out, err = runBench(ctx, s.side.bin, s.side.dir, h.Bench, h.BenchTime)
				}
				if err != nil {
					return nil, fmt.Errorf("head-to-head: %s benchmarks of %s, round %d: %w", s.name, h.Packages[i], round, err)
				}
				s.raw.Write(out)
				src := fmt.Sprintf("%s %s round %d", s.name, h.Packages[i], round)
				if err := s.res.Read(bytes.NewReader(out), src); err != nil {
					return nil, fmt.Errorf("head-to-head: %w", err)
				}
			}
		}
	}
	if h.SaveDir != "" {
		if err := os.MkdirAll(h.SaveDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(h.SaveDir, "base.txt"), rawBase.Bytes(), 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(h.SaveDir, "new.txt"), rawNew.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	if pair.New.Len() == 0 {
		return nil, fmt.Errorf("head-to-head: %w %q in %s", ErrNoBenchmarks, h.Bench, strings.Join(h.Packages, " "))
	}
	return pair, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", args[0], err, msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}

// baseGoWork returns the GOWORK value that builds the base worktree with its own layout:
// its go.work when it has one, else off (an older single-module layout). An inherited GOWORK
// naming the working tree's go.work would otherwise build the new code as the base.
func baseGoWork(wt string) string {
	if st, err := os.Stat(filepath.Join(wt, "go.work")); err == nil && !st.IsDir() {
		return filepath.Join(wt, "go.work")
	}
	return "off"
}

func goTestC(ctx context.Context, goCmd, dir, bin, gowork string, flags ...string) error {
	args := append([]string{"test", "-c", "-o", bin}, flags...)
	cmd := exec.CommandContext(ctx, goCmd, append(args, ".")...)
	cmd.Dir = dir
	if gowork != "" {
		cmd.Env = append(os.Environ(), "GOWORK="+gowork)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -c: %w\n%s", err, tail(out, 2000))
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("go test -c: no test binary (the package has no test files?)")
	}
	return nil
}

func runBench(ctx context.Context, bin, dir, bench, benchTime string) ([]byte, error) {
	args := []string{"-test.run=^$", "-test.bench=" + bench, "-test.benchmem", "-test.count=1"}
	if benchTime != "" {
		args = append(args, "-test.benchtime="+benchTime)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, tail(out, 2000))
	}
	return out, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// BuildTest compiles the test binary of the package in dir to bin (go test -c), passing
// flags to go test (for example "-ldflags=-X=pkg.Var=value"). An empty goCmd means "go".
func BuildTest(ctx context.Context, goCmd, dir, bin string, flags ...string) error {
	if goCmd == "" {
		goCmd = "go"
	}
	return goTestC(ctx, goCmd, dir, bin, "", flags...)
}

// Binaries configures RunBinaries: two test binaries already built.
type Binaries struct {
	// Base and New are the test binaries; Dir is the directory they run in (their package's,
	// for testdata); empty means the current directory.
	Base, New, Dir string
	// Bench, Count, BenchTime and Instructions are as in HeadToHead.
	Bench        string
	Count        int
	BenchTime    string
	Instructions *Instructions
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// RunBinaries runs two test binaries interleaved, A B A B, Count rounds, and returns their
// results. With the same binary on both sides it is an A/A run: pure noise.
func RunBinaries(ctx context.Context, b Binaries) (*Pair, error) {
	if b.Bench == "" {
		b.Bench = "."
	}
	if b.Count <= 0 {
		b.Count = 6
	}
	if b.Log == nil {
		b.Log = io.Discard
	}
	pair := &Pair{Base: NewResults(), New: NewResults()}
	for round := 1; round <= b.Count; round++ {
		fmt.Fprintf(b.Log, "round %d/%d\n", round, b.Count)
		for _, s := range []struct {
			bin  string
			res  *Results
			name string
		}{{b.Base, pair.Base, "base"}, {b.New, pair.New, "new"}} {
			var out []byte
			var err error
			if b.Instructions != nil {
				out, err = b.Instructions.MeasureInstructions(ctx, s.bin, b.Dir, b.Bench)
			} else {
				out, err = runBench(ctx, s.bin, b.Dir, b.Bench, b.BenchTime)
			}
			if err != nil {
				return nil, fmt.Errorf("%s benchmarks, round %d: %w", s.name, round, err)
			}
			if err := s.res.Read(bytes.NewReader(out), fmt.Sprintf("%s round %d", s.name, round)); err != nil {
				return nil, err
			}
		}
	}
	if pair.New.Len() == 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrNoBenchmarks, b.Bench, b.New)
	}
	return pair, nil
}
