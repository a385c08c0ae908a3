package perfgate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
)

// Configuration keys of a history file. go test prints goos, goarch, pkg and cpu itself; Record
// adds the others.
const (
	KeyCommit     = "commit"
	KeyCommitTime = "commit-time"
	KeyBranch     = "branch"
)

// RunInfo says which commit a run measured and where.
type RunInfo struct {
	Commit     string    // full hash; required
	CommitTime time.Time // the commit's committer date; required, orders the history
	Branch     string    // optional
	// GOOS, GOARCH and CPU name the machine. Empty fields are taken from the benchmark output
	// (go test prints them), else from this process (GOOS, GOARCH) and /proc/cpuinfo.
	GOOS, GOARCH, CPU string
}

// Record writes the benchmark results read from r (go test -bench output, or the output of
// an instruction run) as one history file: configuration lines naming the commit, its time,
// the branch and the machine, then the result lines. It refuses input without results. The
// file is self-describing Go benchmark format, readable by benchstat as well as ReadHistory.
func Record(w io.Writer, r io.Reader, fileName string, info RunInfo) error {
	if info.Commit == "" {
		return errors.New("record: commit: required")
	}
	if strings.ContainsAny(info.Commit, " \t\n") {
		return fmt.Errorf("record: commit %q: must be one word", info.Commit)
	}
	if info.CommitTime.IsZero() {
		return errors.New("record: commit-time: required")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	// Read once to validate and find the machine go test printed.
	var results []*benchfmt.Result
	br := benchfmt.NewReader(bytes.NewReader(data), fileName)
	var errs []error
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			errs = append(errs, rec)
		case *benchfmt.Result:
			if err := checkFinite(rec); err != nil {
				errs = append(errs, err)
				continue
			}
			results = append(results, rec.Clone())
		}
	}
	if err := br.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("record: %w", errors.Join(errs...))
	}
	if len(results) == 0 {
		return fmt.Errorf("record: %s: no benchmark results", fileName)
	}
	for _, res := range results {
		for _, k := range []string{KeyCommit, KeyCommitTime, KeyBranch} {
			if v := res.GetConfig(k); v != "" {
				file, line := res.Pos()
				return fmt.Errorf("record: %s:%d: the input already has a %s: line (%q): record raw go test output", file, line, k, v)
			}
		}
	}
	first := results[0]
	pick := func(set, key, fallback string) string {
		if set != "" {
			return set
		}
		if v := first.GetConfig(key); v != "" {
			return v
		}
		return fallback
	}
	info.GOOS = pick(info.GOOS, "goos", runtime.GOOS)
	info.GOARCH = pick(info.GOARCH, "goarch", runtime.GOARCH)
	info.CPU = pick(info.CPU, "cpu", cpuModel())

	head := []benchfmt.Config{
		{Key: KeyCommit, Value: []byte(info.Commit), File: true},
		{Key: KeyCommitTime, Value: []byte(info.CommitTime.UTC().Format(time.RFC3339)), File: true},
	}
	if info.Branch != "" {
		head = append(head, benchfmt.Config{Key: KeyBranch, Value: []byte(info.Branch), File: true})
	}
	head = append(head,
		benchfmt.Config{Key: "goos", Value: []byte(info.GOOS), File: true},
		benchfmt.Config{Key: "goarch", Value: []byte(info.GOARCH), File: true},
		benchfmt.Config{Key: "cpu", Value: []byte(info.CPU), File: true})
	bw := benchfmt.NewWriter(w)
	for _, res := range results {
		// The run's own lines (pkg, custom keys) follow ours; its machine lines are replaced.
		cfg := slices.Clone(head)
		for _, c := range res.Config {
			switch c.Key {
			case "goos", "goarch", "cpu":
				continue
			}
			cfg = append(cfg, c)
		}
		res.Config = cfg
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// HistoryFileName is the name Record's output gets in a history directory: sortable by commit
// time, unique per commit and run, so that concurrent CI jobs never edit the same file.
func HistoryFileName(info RunInfo, run string) string {
	short := info.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	name := info.CommitTime.UTC().Format("20060102T150405Z") + "-" + short
	if run != "" {
		name += "-" + run
	}
	return name + ".txt"
}

// Commit is one commit of a history.
type Commit struct {
	Hash   string    `json:"commit"`
	Time   time.Time `json:"time"`
	Branch string    `json:"branch,omitempty"`
}

// Point is the samples of one benchmark and unit at one commit.
type Point struct {
	Commit int       `json:"commit"` // index into History.Commits
	Values []float64 `json:"values"`
}

// Series is one benchmark in one unit on one machine, over commits.
type Series struct {
	Machine   string  `json:"machine"`
	Benchmark string  `json:"benchmark"`
	Unit      string  `json:"unit"`
	Points    []Point `json:"points"` // in commit order
}

// History is benchmark results over commits, read by ReadHistory.
type History struct {
	Commits []Commit  `json:"commits"` // in commit-time order
	Series  []*Series `json:"series"`
	// Notes are remarks about the input that change what can be concluded: several machines,
	// a benchmark that disappears while another appears.
	Notes []string `json:"notes,omitempty"`
}

// ReadHistory reads history files (Record's output) and directories of them (every *.txt
// inside, not recursive) and orders the results by commit time. Every result must carry
// commit: and commit-time: configuration lines; a commit seen with two different times is an
// error. Results of different machines (goos, goarch, cpu) are never mixed: each machine has
// its own series, and a note says so.
func ReadHistory(paths ...string) (*History, error) {
	if len(paths) == 0 {
		return nil, errors.New("history: no file or directory given")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.txt"))
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("history: %s: no *.txt history files", p)
		}
		slices.Sort(matches)
		files = append(files, matches...)
	}
	hb := newHistoryBuilder()
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		err = hb.read(fh, f)
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return hb.build()
}

// ParseHistory is ReadHistory on one reader; fileName is used in errors.
func ParseHistory(r io.Reader, fileName string) (*History, error) {
	hb := newHistoryBuilder()
	if err := hb.read(r, fileName); err != nil {
		return nil, err
	}
	return hb.build()
}

type seriesKey struct{ machine, bench, unit string }

type historyBuilder struct {
	commits  map[string]*commitInfo
	series   map[seriesKey]map[string][]float64 // commit hash -> values
	order    []seriesKey
	machines []string
	results  int
}

type commitInfo struct {
	Commit
	pos string // file:line where first seen
}

func newHistoryBuilder() *historyBuilder {
	return &historyBuilder{commits: map[string]*commitInfo{}, series: map[seriesKey]map[string][]float64{}}
}

func (hb *historyBuilder) read(r io.Reader, fileName string) error {
	br := benchfmt.NewReader(r, fileName)
	var errs []error
	add := func(err error) {
		if len(errs) < maxSyntaxErrors {
			errs = append(errs, err)
		}
	}
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			add(rec)
		case *benchfmt.Result:
			if err := checkFinite(rec); err != nil {
				add(err)
				continue
			}
			if err := hb.add(rec); err != nil {
				add(err)
			}
		}
	}
	if err := br.Err(); err != nil {
		add(err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("history: %w", errors.Join(errs...))
	}
	return nil
}

func (hb *historyBuilder) add(rec *benchfmt.Result) error {
	file, line := rec.Pos()
	name := "Benchmark" + rec.Name.String()
	hash := rec.GetConfig(KeyCommit)
	if hash == "" {
		return fmt.Errorf("%s:%d: %s: no %q configuration line before it: a history file must say which commit it measured (write it with perfobs gate record)", file, line, name, KeyCommit+":")
	}
	ts := rec.GetConfig(KeyCommitTime)
	if ts == "" {
		return fmt.Errorf("%s:%d: %s: commit %s has no %q configuration line: the history is ordered by commit time", file, line, name, hash, KeyCommitTime+":")
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return fmt.Errorf("%s:%d: %s %q: not an RFC 3339 time such as 2026-01-02T15:04:05Z", file, line, KeyCommitTime, ts)
	}
	c := hb.commits[hash]
	if c == nil {
		c = &commitInfo{Commit: Commit{Hash: hash, Time: t, Branch: rec.GetConfig(KeyBranch)}, pos: fmt.Sprintf("%s:%d", file, line)}
		hb.commits[hash] = c
	} else if !c.Time.Equal(t) {
		return fmt.Errorf("%s:%d: commit %s has %s %s here but %s at %s", file, line, hash, KeyCommitTime, ts, c.Time.UTC().Format(time.RFC3339), c.pos)
	}
	machine := machineName(rec)
	if !slices.Contains(hb.machines, machine) {
		hb.machines = append(hb.machines, machine)
	}
	for _, v := range rec.Values {
		k := seriesKey{machine, name, v.Unit}
		m := hb.series[k]
		if m == nil {
			m = map[string][]float64{}
			hb.series[k] = m
			hb.order = append(hb.order, k)
		}
		m[hash] = append(m[hash], v.Value)
	}
	hb.results++
	return nil
}

func machineName(rec *benchfmt.Result) string {
	get := func(k string) string {
		if v := rec.GetConfig(k); v != "" {
			return v
		}
		return "?"
	}
	return get("goos") + "/" + get("goarch") + " " + get("cpu")
}

func (hb *historyBuilder) build() (*History, error) {
	if hb.results == 0 {
		return nil, errors.New("history: no benchmark results")
	}
	h := &History{}
	for _, c := range hb.commits {
		h.Commits = append(h.Commits, c.Commit)
	}
	slices.SortStableFunc(h.Commits, func(a, b Commit) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
	index := map[string]int{}
	for i, c := range h.Commits {
		index[c.Hash] = i
	}
	for _, k := range hb.order {
		s := &Series{Machine: k.machine, Benchmark: k.bench, Unit: k.unit}
		for hash, vals := range hb.series[k] {
			s.Points = append(s.Points, Point{Commit: index[hash], Values: vals})
		}
		slices.SortFunc(s.Points, func(a, b Point) int { return a.Commit - b.Commit })
		h.Series = append(h.Series, s)
	}
	if len(hb.machines) > 1 {
		h.Notes = append(h.Notes, fmt.Sprintf("the history mixes %d machines (%s): each machine's results form their own series, never compared with another's",
			len(hb.machines), strings.Join(hb.machines, "; ")))
	}
	h.Notes = append(h.Notes, renameNotes(h)...)
	return h, nil
}

// renameNotes names benchmarks that stop at one commit while another starts at the next on the
// same machine: probably a rename, whose history restarts with no change point across it.
func renameNotes(h *History) []string {
	type span struct {
		name        string
		first, last int
		machine     string
	}
	spans := map[string]*span{}
	var keys []string
	for _, s := range h.Series {
		key := s.Machine + "\x00" + s.Benchmark
		sp := spans[key]
		if sp == nil {
			sp = &span{name: s.Benchmark, first: s.Points[0].Commit, last: s.Points[len(s.Points)-1].Commit, machine: s.Machine}
			spans[key] = sp
			keys = append(keys, key)
		}
		sp.first = min(sp.first, s.Points[0].Commit)
		sp.last = max(sp.last, s.Points[len(s.Points)-1].Commit)
	}
	lastCommit := len(h.Commits) - 1
	var notes []string
	for _, ka := range keys {
		a := spans[ka]
		if a.last == lastCommit {
			continue
		}
		for _, kb := range keys {
			b := spans[kb]
			if b.machine == a.machine && b.first > a.last && b.first > 0 && b.first <= a.last+1 {
				notes = append(notes, fmt.Sprintf("%s stops at commit %.12s and %s starts at commit %.12s: renamed? Their histories are tracked separately, with no change point across the rename",
					a.name, h.Commits[a.last].Hash, b.name, h.Commits[b.first].Hash))
			}
		}
	}
	return notes
}
