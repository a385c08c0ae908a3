package loadtest

import (
	"errors"
	"fmt"
	"io"
	"os"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Results merges raw results written by WithOutput (or by vegeta itself: its binary, JSON or
// CSV encodings) from one or more machines into one distribution, as `vegeta report` does.
type Results struct {
	m     vegeta.Metrics
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
		res.m.Add(&vr)
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
	m := res.m
	m.Close()
	return newReport(&m, m.Rate)
}
