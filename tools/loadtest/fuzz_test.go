package loadtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseScenario checks that no scenario panics the parser, and that an accepted one is
// a valid, bounded profile with targets. Seeds: testdata/scenarios.
func FuzzParseScenario(f *testing.F) {
	files, _ := filepath.Glob("testdata/scenarios/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/}]\n")
	f.Add("stages: [{duration: 1s}]\n")
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScenario([]byte(s), "fuzz.yaml", "")
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Error("empty error")
			}
			return
		}
		if err := sc.Profile.Validate(); err != nil {
			t.Errorf("accepted scenario has an invalid profile: %v", err)
		}
		if len(sc.Targets) == 0 {
			t.Error("accepted scenario without targets")
		}
		next := sc.Profile.arrivals()
		for range 100 {
			if _, ok := next(); !ok {
				break
			}
		}
	})
}

// FuzzParseAccessLog checks that no log panics the parser and that entries are in time
// order. Seeds: testdata/access.log.
func FuzzParseAccessLog(f *testing.F) {
	data, err := os.ReadFile("testdata/access.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	for _, line := range strings.Split(string(data), "\n") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s string) {
		log, err := ParseAccessLog(strings.NewReader(s), "fuzz.log", "http://127.0.0.1:1")
		if err != nil {
			return
		}
		for i := 1; i < len(log.Entries); i++ {
			if log.Entries[i].At < log.Entries[i-1].At {
				t.Fatalf("entry %d at %v before %v", i, log.Entries[i].At, log.Entries[i-1].At)
			}
		}
		_ = IsAccessLog([]byte(s))
	})
}

// FuzzParseVegetaTargets checks that no targets file panics the parser.
func FuzzParseVegetaTargets(f *testing.F) {
	f.Add("GET http://127.0.0.1:1/a\nX-A: 1\n\nPOST http://127.0.0.1:1/b\n")
	f.Add("FETCH\n")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "@") {
			return // bodies from files: not the parser's input
		}
		ts, err := ParseVegetaTargets(strings.NewReader(s), "fuzz.txt")
		if err == nil && len(ts) == 0 {
			t.Error("no error and no target")
		}
	})
}

func TestScenarioFiles(t *testing.T) {
	for _, name := range []string{"spike", "diurnal"} {
		sc, err := ReadScenario(filepath.Join("testdata/scenarios", name+".yaml"), "")
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != name || len(sc.Targets) == 0 {
			t.Errorf("%s: %+v", name, sc)
		}
	}
	sc, _ := ReadScenario("testdata/scenarios/diurnal.yaml", "http://10.0.0.1:9")
	if sc.Targets[1].URL != "http://10.0.0.1:9/checkout" || sc.Targets[1].Weight != 1 || sc.Targets[0].Weight != 8 ||
		sc.Targets[0].Header.Get("Accept") != "application/json" || sc.Profile.Process != "poisson" || sc.Profile.Duration().Minutes() != 10 {
		t.Errorf("diurnal: %+v %+v", sc.Targets, sc.Profile)
	}
	if n := sc.Profile.expected(); n < 57000 || n > 60000 { // 3000 on the ramp, 54000 held, the sine adds about 3400 past its trough
		t.Errorf("diurnal: %v requests planned", n)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "x.yaml: empty scenario"},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/}]\nrate: 5\n", "line 3: field rate not found"},
		{"targets: [{url: http://x/}]\n", "stages: none"},
		{"stages: [{duration: 1s}]\ntargets: [{url: http://x/}]\n", "stages[0]: no rate"},
		{"stages: [{duration: 10, rate: 1}]\ntargets: [{url: http://x/}]\n", `stages[0].duration "10": want a positive duration`},
		{"stages: [{duration: 1s, rate: 1, target: 2}]\ntargets: [{url: http://x/}]\n", "stages[0]: both rate (hold) and target (ramp)"},
		{"stages: [{duration: 1s, rate: -1}]\ntargets: [{url: http://x/}]\n", "stages[0]: rate -1"},
		{"arrival: uniform\nstages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/}]\n", `arrival "uniform"`},
		{"stages: [{duration: 1s, rate: 1}]\nsine: {period: 1m, amplitude: 2}\ntargets: [{url: http://x/}]\n", "sine.amplitude 2"},
		{"stages: [{duration: 1s, rate: 1}]\nbursts: [{at: 5s, duration: 1s, rate: 9}]\ntargets: [{url: http://x/}]\n", "bursts[0].at 5s: after the stages end"},
		{"stages: [{duration: 1s, rate: 1}]\n", "targets: none"},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: /x}]\n", `targets[0].url "/x": a path needs base`},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/, weight: 0}]\n", "targets[0].weight 0"},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/, budget: 'p99<1'}]\n", `targets[0].budget: budget "p99<1"`},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/, budget: 'goroutines<1/h'}]\n", "not of one target"},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/, name: a}, {url: http://y/, name: a}]\n", `targets[1].name "a": used twice`},
		{"stages: [{duration: 1s, rate: 1}]\ntargets: [{url: http://x/}, {url: http://x/, name: b, budget: 'p99<1s'}]\n", "targets with a budget need a method and URL of their own"},
		{"stages: [{duration: 1s, rate: 1}]\nbudget: 'p99'\ntargets: [{url: http://x/}]\n", "budget: budget \"p99\""},
	} {
		_, err := ParseScenario([]byte(tt.in), "x.yaml", "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}
