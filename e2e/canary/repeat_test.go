package canary_test

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/tools/canary"
)

var flagAARounds = flag.Int("canary.aa-rounds", 0, "rounds of TestRepeatedAA (4 A/A pairs each, about 35 s a round); 0 skips it")

// TestRepeatedAA measures the false-positive rate against a real Prometheus: rounds of four pairs
// of identical versions under the same load, each pair judged once with the defaults (and the
// e2e step). It is a measurement, off by default:
//
//	go test -run TestRepeatedAA -v ./canary -canary.aa-rounds 5     # 20 A/A judgements
//
// Without -race: its eight instances at full rate (about 2,900 requests/s) are more than a
// 2-core runner serves under -race, and the load then times out instead of measuring anything.
func TestRepeatedAA(t *testing.T) {
	if *flagAARounds == 0 {
		t.Skip("a measurement: run with -canary.aa-rounds N")
	}
	total, notPass := 0, 0
	for round := range *flagAARounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			var pairs []*pair
			for i := range 4 {
				pairs = append(pairs, &pair{name: fmt.Sprintf("aa%d", i), base: version{Version: "1.0.0"}, can: version{Version: "1.0.0"}})
			}
			prom, start, end := runPairs(t, pairs)
			c := &canary.Client{URL: prom.URL}
			for _, p := range pairs {
				bs, _ := canary.ParseSelector(fmt.Sprintf(`job="%s-baseline"`, p.name))
				cs, _ := canary.ParseSelector(fmt.Sprintf(`job="%s-canary"`, p.name))
				rep, err := canary.Judge(context.Background(), c, canary.Request{Baseline: bs, Canary: cs, Start: start, End: end,
					Config: canary.Config{Step: time.Second, MinPoints: 15}})
				if err != nil {
					t.Fatal(err)
				}
				total++
				if rep.Verdict != canary.Pass {
					notPass++
					var sb strings.Builder
					rep.Write(&sb, canary.FormatText)
					t.Logf("A/A %s not pass:\n%s", p.name, sb.String())
				}
			}
		})
	}
	t.Logf("real-Prometheus A/A: %d of %d judgements not pass (%.1f%%)", notPass, total, 100*float64(notPass)/float64(total))
	if float64(notPass) > 0.05*float64(total) {
		t.Errorf("A/A: %d of %d did not pass; want at most 5%%", notPass, total)
	}
}
