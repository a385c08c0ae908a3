package profiling

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
)

// profileNames are the application names uploads carry: pyroscope's "service{tag=value,...}".
type profileNames struct {
	service     string // the application name
	sdk         string // goroutine profiles
	godeltaprof string // heap, mutex and block profiles
}

// newProfileNames validates the tags and returns the upload names and the tag map for
// pyroscope-go's session. Pyroscope allows fewer characters than Prometheus labels: other
// characters in the service name (such as the ':' of OpenTelemetry's "unknown_service:name") and
// the separators '{', '}', ',' and '=' in the version and environment become '_'. Tags, which the
// user writes for Pyroscope alone, are checked instead: a bad one is an error naming it.
func newProfileNames(app App, extra map[string]string) (profileNames, map[string]string, error) {
	service := strings.Map(func(r rune) rune {
		if isTagNameRune(r) || r == '-' || r == '/' {
			return r
		}
		return '_'
	}, app.Service)
	if service == "" {
		return profileNames{}, nil, errors.New("service name is empty")
	}
	clean := func(v string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune("{},=", r) {
				return '_'
			}
			return r
		}, v)
	}
	tags := map[string]string{}
	if app.Version != "" {
		tags["version"] = clean(app.Version)
	}
	if app.Environment != "" {
		tags["environment"] = clean(app.Environment)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		v := extra[k]
		if k == "" {
			//lint:ignore ST1005 a configuration error starts with the field it names
			return profileNames{}, nil, errors.New("Tags: a tag name is empty")
		}
		for _, r := range k {
			if !isTagNameRune(r) {
				//lint:ignore ST1005 a configuration error starts with the field it names
				return profileNames{}, nil, fmt.Errorf("Tags[%q]: character %q is not allowed in a tag name (want letters, digits, '_', '.')", k, r)
			}
		}
		if strings.ContainsAny(v, "{},=") {
			//lint:ignore ST1005 a configuration error starts with the field it names
			return profileNames{}, nil, fmt.Errorf("Tags[%q] = %q: the value may not hold '{', '}', ',' or '='", k, v)
		}
		tags[k] = v
	}
	base := maps.Clone(tags)
	base["process.runtime.name"] = "go"
	base["process.runtime.version"] = runtime.Version()
	name := func(scope string) string {
		m := maps.Clone(base)
		m["otel.scope.name"] = scope
		keys := slices.Sorted(maps.Keys(m))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + m[k]
		}
		return service + "{" + strings.Join(parts, ",") + "}"
	}
	return profileNames{
		service:     service,
		sdk:         name("com.grafana.pyroscope/go"),
		godeltaprof: name("com.grafana.pyroscope/godeltaprof"),
	}, tags, nil
}

func isTagNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.'
}
