package loadtest

import (
	"bufio"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseBudget(t *testing.T) {
	b, err := ParseBudget("p99<200ms, errors<1%,p99.9<=1s,max<5s,success>=99%,throughput>=90/s")
	if err != nil {
		t.Fatal(err)
	}
	want := []Limit{
		{Metric: "p99", Op: "<", Latency: 200 * time.Millisecond},
		{Metric: "errors", Op: "<", Value: 0.01},
		{Metric: "p99.9", Op: "<=", Latency: time.Second},
		{Metric: "max", Op: "<", Latency: 5 * time.Second},
		{Metric: "success", Op: ">=", Value: 0.99},
		{Metric: "throughput", Op: ">=", Value: 90},
	}
	if len(b) != len(want) {
		t.Fatalf("got %d limits, want %d", len(b), len(want))
	}
	for i, w := range want {
		g := b[i]
		if g.Metric != w.Metric || g.Op != w.Op || g.Latency != w.Latency || g.Value != w.Value {
			t.Errorf("limit %d = %+v, want %+v", i, g, w)
		}
	}
	if b[2].quantile != 0.999 {
		t.Errorf("p99.9 quantile = %v", b[2].quantile)
	}
	if got := b.String(); got != "p99<200ms,errors<1%,p99.9<=1s,max<5s,success>=99%,throughput>=90/s" {
		t.Errorf("String() = %q", got)
	}

	bad := []struct{ in, want string }{
		{"", "budget: empty"},
		{"p99<200", `clause 1 "p99<200": p99 bound "200": want a positive duration`},
		{"p99<200ms,errors<1", `clause 2 "errors<1": errors bound "1": write a percentage such as 1%`},
		{"latency<1s", `unknown metric "latency"`},
		{"p99>200ms", "p99 is an upper bound: use < or <="},
		{"errors>1%", "errors is an upper bound"},
		{"throughput<100", "throughput is a lower bound"},
		{"p99<200ms,", `clause 2 "": empty clause`},
		{"p99", "no comparison"},
		{"p99<", "p99<: missing bound"},
		{"p100<1s", `quantile "p100"`},
		{"errors<150%", "not a percentage between 0% and 100%"},
		{"throughput>=fast", `throughput bound "fast"`},
	}
	for _, tt := range bad {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseBudget(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestBudgetCheck(t *testing.T) {
	rep := &Report{
		Requests: 1000, Answered: 1000, Throughput: 95, ErrorRate: 0.02,
		Latency: Latency{P50: 5 * time.Millisecond, P90: 20 * time.Millisecond, P99: 150 * time.Millisecond,
			P999: 400 * time.Millisecond, Max: 2 * time.Second, Mean: 10 * time.Millisecond},
	}
	tests := []struct {
		budget string
		broken []string
	}{
		{"p99<200ms,p99.9<500ms,max<=2s,mean<11ms", nil},
		{"p99<100ms", []string{"p99<100ms broken: p99 150ms"}},
		{"errors<1%,p50<1ms", []string{"errors<1% broken: 2.00%", "p50<1ms broken: p50 5ms"}},
		{"success>=99%", []string{"success>=99% broken: 98.00%"}},
		{"throughput>=100", []string{"throughput>=100 broken: 95.0 req/s"}},
		{"max<2s", []string{"max<2s broken: max 2s"}},
		{"p99<1h", nil},
	}
	for _, tt := range tests {
		t.Run(tt.budget, func(t *testing.T) {
			b, err := ParseBudget(tt.budget)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range b.Check(rep) {
				got = append(got, v.String())
			}
			if strings.Join(got, "|") != strings.Join(tt.broken, "|") {
				t.Errorf("violations %q, want %q", got, tt.broken)
			}
		})
	}
	t.Run("no requests breaks every limit", func(t *testing.T) {
		b, _ := ParseBudget("p99<1s,errors<1%")
		if v := b.Check(&Report{}); len(v) != 2 || v[0].Got != "no request completed" {
			t.Errorf("violations %v", v)
		}
	})
}

func TestParseRamp(t *testing.T) {
	r, err := ParseRamp("50:500:50/10s")
	if err != nil {
		t.Fatal(err)
	}
	if r != (Ramp{From: 50, To: 500, Step: 50, Interval: 10 * time.Second}) || r.steps() != 10 || r.rate(9) != 500 {
		t.Errorf("ramp %+v, %d steps", r, r.steps())
	}
	if r, _ := ParseRamp("0.5:2.5:0.5/500ms"); r.steps() != 5 {
		t.Errorf("fractional ramp: %d steps, want 5", r.steps())
	}
	if r, _ := ParseRamp("10:25:10/1s"); r.steps() != 2 || r.rate(1) != 20 {
		t.Errorf("ramp not ending on TO: %d steps", r.steps())
	}
	bad := []struct{ in, want string }{
		{"1:2:3", "no /INTERVAL"},
		{"1:2/1s", "want three rates"},
		{"a:2:1/1s", `FROM "a"`},
		{"1:2:0/1s", `STEP "0"`},
		{"1:2:1/soon", `INTERVAL "soon"`},
		{"100:50:10/1s", "TO 50 is below FROM 100"},
		{"1:1000000:1/1s", "at most 1000"},
	}
	for _, tt := range bad {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseRamp(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "FROM:TO:STEP/INTERVAL") {
				t.Errorf("error %v, want it to contain %q and the syntax", err, tt.want)
			}
		})
	}
}

func seeds(f *testing.F, path string) {
	file, err := os.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	s := bufio.NewScanner(file)
	for s.Scan() {
		f.Add(s.Text())
	}
}

// FuzzParseBudget checks that no input panics, and that an accepted budget prints back to a
// budget that parses to the same limits. Seeds: testdata/budgets.txt.
func FuzzParseBudget(f *testing.F) {
	seeds(f, "testdata/budgets.txt")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBudget(s)
		if err != nil {
			return
		}
		again, err := ParseBudget(b.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, b.String(), err)
		}
		if again.String() != b.String() || len(again) != len(b) {
			t.Errorf("%q: round trip %q -> %q", s, b.String(), again.String())
		}
		for i := range b {
			if b[i].Latency != again[i].Latency || b[i].Value != again[i].Value || b[i].Op != again[i].Op {
				t.Errorf("%q: limit %d changed: %+v -> %+v", s, i, b[i], again[i])
			}
		}
		_ = b.Check(&Report{Requests: 1})
	})
}

// FuzzParseRamp checks that no input panics and that accepted ramps are bounded. Seeds:
// testdata/ramps.txt.
func FuzzParseRamp(f *testing.F) {
	seeds(f, "testdata/ramps.txt")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRamp(s)
		if err != nil {
			return
		}
		if n := r.steps(); n < 1 || n > 1000 || r.rate(n-1) > r.To+r.Step {
			t.Errorf("%q: %d steps, last rate %g", s, n, r.rate(n-1))
		}
	})
}

func TestFmtDur(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{999999 * time.Microsecond, "1000ms"},
		{time.Second, "1s"},
		{6500 * time.Microsecond, "6.5ms"},
		{884 * time.Millisecond, "884ms"},
		{6560 * time.Microsecond, "6.56ms"},
		{23200 * time.Microsecond, "23.2ms"},
		{367 * time.Microsecond, "367µs"},
		{42 * time.Nanosecond, "42ns"},
		{125 * time.Second, "125s"},
	} {
		if got := fmtDur(tt.d); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestParseBudgetWindowsAndGrowth(t *testing.T) {
	b, err := ParseBudget("p99<200ms over 30s,goroutines<100/h,heap<50MB/h,rss<1GiB/min,fds<=10/h,p99-drift<10ms/h,recovery<5s")
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Window != 30*time.Second || b[0].Latency != 200*time.Millisecond || b[0].String() != "p99<200ms over 30s" {
		t.Errorf("window limit %+v", b[0])
	}
	for i, want := range []float64{100, 50e6, 60 * (1 << 30), 10, 0.01} {
		if got := b[i+1].Value; math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: %v per hour, want %v", b[i+1], got, want)
		}
	}
	if b[6].Latency != 5*time.Second {
		t.Errorf("recovery %+v", b[6])
	}
	for _, tt := range []struct{ in, want string }{
		{"p99<1s over soon", `window "soon"`},
		{"goroutines<100", `goroutines bound "100": no /h`},
		{"heap<50/h", "no unit"},
		{"heap<50MB/day", "per day"},
		{"goroutines>1/h", "upper bound"},
		{"goroutines<1/h over 1m", "has no window"},
		{"recovery<fast", `recovery bound "fast"`},
	} {
		if _, err := ParseBudget(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
	d := Budget{}.WithDefaults(true)
	if d.String() != "errors<1%,goroutines growth not significant,heap growth not significant" || !d[0].Default {
		t.Errorf("defaults %q", d)
	}
	if got := b.WithDefaults(true).String(); !strings.HasSuffix(got, ",errors<1%") {
		t.Errorf("a budget bounding goroutines and heap gets only the error default: %q", got)
	}
}
