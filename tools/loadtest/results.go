package loadtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Results merges raw results written by WithOutput (or by vegeta itself: its binary, JSON or
// CSV encodings) from one or more machines into one distribution, as `vegeta report` does.
type Results struct {
	recs  []record
	ts    []time.Time
	errs  []string
	seen  map[string]bool
	count uint64
}

// Read adds every result in r. name is used in errors.
func (res *Results) Read(r io.Reader, name string) error {
	dec := vegeta.DecoderFor(r)
	if dec == nil {
		return fmt.Errorf("%s: not vegeta results (binary, JSON or CSV) or empty", name)
	}
	for n := 1; ; n++ {
		var vr vegeta.Result
		if err := dec.Decode(&vr); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: result %d: %w", name, n, err)
		}
		res.ts = append(res.ts, vr.Timestamp)
		res.recs = append(res.recs, record{lat: vr.Latency, code: vr.Code, target: -1,
			failed: vr.Error != "" || vr.Code < 200 || vr.Code >= 400})
		if vr.Error != "" && len(res.seen) < 100 && !res.seen[vr.Error] {
			if res.seen == nil {
				res.seen = map[string]bool{}
			}
			res.seen[vr.Error] = true
			res.errs = append(res.errs, vr.Error)
		}
		res.count++
	}
}

// ReadFile adds every result in the named file.
func (res *Results) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return res.Read(f, path)
}

// Len is the number of results read.
func (res *Results) Len() uint64 { return res.count }

// Report summarizes the merged results. Its Rate is the rate achieved, since the offered
// rates of the sources are not recorded.
func (res *Results) Report() *Report {
	recs := slices.Clone(res.recs)
	if len(recs) > 0 {
		first := slices.MinFunc(res.ts, func(a, b time.Time) int { return a.Compare(b) })
		for i := range recs {
			recs[i].at = res.ts[i].Sub(first)
		}
	}
	slices.SortFunc(recs, func(a, b record) int { return cmpDur(a.at, b.at) })
	r := newReport(recs, 0, res.errs)
	r.Rate = r.Sent
	r.buildTimeline()
	return r
}
