package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// runValidate implements `perfobs validate --spec FILE [--prometheus URL]`: exit 0 and a summary
// when the spec is valid, exit 1 and one line-numbered line per problem when it is not. With
// --prometheus it then checks the live server (validate_live.go): exit 1 naming each finding, 3
// when the generated rules have not been evaluated yet.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("perfobs validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("spec", "", "SLO spec `file` to check (required)")
	promURL := fs.String("prometheus", "", "base `URL` of a Prometheus to check live: retention, selectors, buckets, loaded rules")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: perfobs validate --spec FILE [--prometheus URL]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *spec == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "perfobs validate: --spec FILE is required, and nothing but --prometheus URL")
		fs.Usage()
		return exitUsage
	}
	m, _, code := loadSpec(*spec, stderr, "validate")
	if code != exitOK {
		return code
	}
	names := make([]string, len(m.SLOs))
	for i, s := range m.SLOs {
		names[i] = s.Name
	}
	service := m.Service
	if service == "" {
		service = "every " + m.ServiceLabel
	}
	runtime := "on"
	if m.Runtime == nil {
		runtime = "off"
	}
	fmt.Fprintf(stdout, "%s: ok: service %s, window %s, %d SLOs (%s), runtime alerts %s\n",
		*spec, service, fmt.Sprintf("%dd", int(m.Period.Hours()/24)), len(m.SLOs), strings.Join(names, ", "), runtime)
	if *promURL == "" {
		return exitOK
	}
	report, err := validateLive(context.Background(), *promURL, m)
	if err != nil {
		fmt.Fprintf(stderr, "perfobs validate: %v\n", err)
		return exitUsage
	}
	return report.print(stdout, *promURL)
}
