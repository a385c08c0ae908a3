package leaktest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (regenerate with: cd leaktest/testdata/gen && go run . ..)", err)
	}
	return b
}

func byID(gs []goroutine) map[int]goroutine {
	m := map[int]goroutine{}
	for _, g := range gs {
		m[g.id] = g
	}
	return m
}

func TestParseGoroutinesFixtures(t *testing.T) {
	for _, name := range []string{"daemons.txt", "ancestors.txt"} {
		t.Run(name, func(t *testing.T) {
			gs, err := parseGoroutines(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var labelled, workers, withAncestors int
			for _, g := range gs {
				if g.id <= 0 || g.state == "" || len(g.frames) == 0 {
					t.Errorf("goroutine %+v: missing id, state or frames", g)
				}
				for _, f := range append(g.frames, g.createdBy) {
					if strings.ContainsAny(f.fn, "\t\n") || strings.Contains(f.fn, "(0x") || strings.HasSuffix(f.fn, "(...)") {
						t.Errorf("goroutine %d: odd function name %q", g.id, f.fn)
					}
				}
				if g.topFunction() == "net/http.(*persistConn).readLoop" && g.createdBy.fn != "net/http.(*Transport).dialConn" {
					t.Errorf("readLoop goroutine %d created by %q, want net/http.(*Transport).dialConn", g.id, g.createdBy.fn)
				}
				if g.topFunction() != "main.worker" {
					continue
				}
				workers++
				if g.state != "select" || g.createdBy.fn != "main.startWorkers" || g.creator != 1 {
					t.Errorf("worker goroutine %d: state %q, created by %q in %d", g.id, g.state, g.createdBy.fn, g.creator)
				}
				if g.labels[LabelKey] == "TestLabelled" {
					labelled++
					if want := map[string]string{LabelKey: "TestLabelled", `quote"d`: "a\tb"}; !reflect.DeepEqual(g.labels, want) {
						t.Errorf("labels %q, want %q", g.labels, want)
					}
				}
				if len(g.ancestors) > 0 {
					withAncestors++
					if a := g.ancestors[0]; a.id != 1 || len(a.frames) == 0 || a.frames[0].fn != "main.startWorkers" {
						t.Errorf("worker %d: first ancestor %+v, want goroutine 1 in main.startWorkers", g.id, a)
					}
				}
			}
			if workers != 5 || labelled != 3 {
				t.Errorf("%d workers, %d labelled; want 5 and 3", workers, labelled)
			}
			if wantAnc := map[string]int{"daemons.txt": 0, "ancestors.txt": 5}[name]; withAncestors != wantAnc {
				t.Errorf("%d workers with ancestors, want %d", withAncestors, wantAnc)
			}
			// Five workers from one go statement make one group, labels and ids notwithstanding.
			var ws []goroutine
			for _, g := range gs {
				if g.topFunction() == "main.worker" {
					ws = append(ws, g)
				}
			}
			if n := len(group(ws)); n != 1 {
				t.Errorf("workers fall into %d groups, want 1", n)
			}
		})
	}
}

func TestParseGoroutinesCases(t *testing.T) {
	tests := []struct {
		name    string
		dump    string
		want    []goroutine
		wantErr string
	}{
		{
			name: "state details and system traceback fields",
			dump: "goroutine 7 gp=0xc000 m=nil [chan receive, 3 minutes, locked to thread]:\n" +
				"main.f(0x1, {0x2, 0x3})\n\t/src/main.go:10 +0x1d fp=0xc1 sp=0xc2 pc=0x4\n" +
				"...additional frames elided...\n" +
				"created by main.g in goroutine 1\n\t/src/main.go:20 +0x5\n",
			want: []goroutine{{id: 7, state: "chan receive",
				frames:    []frame{{fn: "main.f", file: "/src/main.go", line: 10}},
				createdBy: frame{fn: "main.g", file: "/src/main.go", line: 20}, creator: 1}},
		},
		{
			name: "methods, generics, panics and old created-by lines",
			dump: "panic: boom\n\ngoroutine 1 [running]:\n" +
				"panic({0x1, 0x2})\n\t/go/src/runtime/panic.go:1 +0x1\n" +
				"pkg.(*T[...]).M(...)\n\tC:/src/t.go:5\n" +
				"created by pkg.F\n\t/src/f.go:3 +0x2\n",
			want: []goroutine{{id: 1, state: "running",
				frames:    []frame{{fn: "panic", file: "/go/src/runtime/panic.go", line: 1}, {fn: "pkg.(*T[...]).M", file: "C:/src/t.go", line: 5}},
				createdBy: frame{fn: "pkg.F", file: "/src/f.go", line: 3}}},
		},
		{
			name:    "bad header",
			dump:    "goroutine x [running]:\nmain.main()\n\t/m.go:1\n",
			wantErr: "line 1: goroutine header",
		},
		{
			name:    "bad label",
			dump:    "goroutine 3 [select labels:{\"k\" \"v\"}]:\n",
			wantErr: `label "k": no value`,
		},
		{
			name:    "bad line number",
			dump:    "goroutine 3 [select]:\nmain.f()\n\t/m.go:x +0x1\n",
			wantErr: "line 3: location",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGoroutines([]byte(tt.dump))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAllGoroutinesSeesLabels(t *testing.T) {
	// VerifyTestMain turned tracebacklabels on, and Check labels the test's goroutine.
	Check(t)
	me := byID(mustAll(t))
	found := false
	for _, g := range me {
		if g.labels[LabelKey] == t.Name() && g.hasFunction("github.com/perfobs/perfobs-go/leaktest.TestAllGoroutinesSeesLabels") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no goroutine labelled %q runs this test", t.Name())
	}
}

func mustAll(t *testing.T) []goroutine {
	t.Helper()
	gs, err := allGoroutines()
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func FuzzParseGoroutines(f *testing.F) {
	for _, name := range []string{"daemons.txt", "ancestors.txt"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, dump []byte) {
		gs, err := parseGoroutines(dump)
		for _, g := range gs {
			if strings.Contains(g.state, " labels:{") {
				t.Errorf("labels left in state %q", g.state)
			}
			for _, fr := range g.frames {
				if fr.fn == "" {
					t.Errorf("goroutine %d: empty function name", g.id)
				}
			}
		}
		again, err2 := parseGoroutines(dump)
		if !reflect.DeepEqual(gs, again) || (err == nil) != (err2 == nil) {
			t.Errorf("parsing the same dump twice differs")
		}
		// Whatever parsed must group and render without panicking.
		_ = (&LeakError{Test: "TestFuzz", goroutines: gs}).Error()
	})
}
