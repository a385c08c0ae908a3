package leaktest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestReportGolden renders reports of the fixtures' goroutines (five workers from one go statement, three of
// them labelled by a test, and the connection of an unclosed response body) and compares them with goldens.
func TestReportGolden(t *testing.T) {
	tests := []struct {
		fixture, test, golden string
	}{
		{fixture: "daemons.txt", test: "TestGolden", golden: "report_test.golden"},
		{fixture: "daemons.txt", test: "", golden: "report_main.golden"},
		{fixture: "ancestors.txt", test: "TestGolden", golden: "report_ancestors.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			gs, err := parseGoroutines(readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var leaked []goroutine
			for _, g := range gs {
				switch g.topFunction() {
				case "main.worker", "net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop":
					leaked = append(leaked, g)
				}
			}
			got := (&LeakError{Test: tt.test, goroutines: leaked}).Error()
			got = strings.ReplaceAll(got, filepath.Base(os.Args[0]), "BINARY")
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (create it with: go test ./leaktest -run TestReportGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (if the change is intended: go test ./leaktest -run TestReportGolden -update, "+
					"and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}
