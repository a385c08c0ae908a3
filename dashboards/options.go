package dashboards

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DefaultProfilesURL is the profile link of the RED dashboard's latency panels unless
// WithProfilesURL sets another: the CPU profile of the service in a Pyroscope server on
// localhost:4040, over the time range of the dashboard. ${job} is the service's job label, which
// is also its Pyroscope application name when the job is named after the service.
const DefaultProfilesURL = "http://localhost:4040/explore?query=process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananoseconds%7Bservice_name%3D%22${job}%22%7D&from=${__from}&until=${__to}"

// Option configures the dashboards. Only this package makes options.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	profilesURL string
	native      bool
	classic     bool // WithClassicNames
}

// WithNativeHistograms makes the RED dashboard read the native series of the HTTP and gRPC
// duration histograms (histogram_count, histogram_quantile), for services instrumented with
// middleware.WithNativeHistograms and scraped by a Prometheus with native histograms on, which
// keeps only those series. Build turns it on by itself for a spec with histograms: native. The
// Go runtime's scheduler latency histogram has no native series and stays classic.
func WithNativeHistograms() Option {
	return optionFunc(func(c *config) error {
		c.native = true
		return nil
	})
}

// WithProfilesURL sets the URL template of the "Profiles" data link on the latency panels and of
// the dashboard link of the same name. Grafana expands its variables when the link is followed:
// ${job}, ${instance}, ${route} and ${method} (the dashboard's variables), ${__from} and ${__to}
// (the time range in epoch milliseconds), ${__url_time_range} and, on a data link, ${__value.time}.
// The template must be an absolute http(s) URL or a path on the Grafana server starting with "/",
// such as a Grafana Explore or Pyroscope app URL.
func WithProfilesURL(template string) Option {
	return optionFunc(func(c *config) error {
		if err := checkURLTemplate(template); err != nil {
			return fmt.Errorf("WithProfilesURL %q: %w", template, err)
		}
		c.profilesURL = template
		return nil
	})
}

func checkURLTemplate(template string) error {
	if strings.TrimSpace(template) != template || template == "" {
		return errors.New("must be a non-empty URL without surrounding spaces")
	}
	// Grafana variables are not URL syntax; check the URL with them replaced.
	u, err := url.Parse(expandForCheck(template))
	if err != nil {
		return err
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return errors.New("has no host")
		}
	case u.Scheme == "" && strings.HasPrefix(template, "/") && !strings.HasPrefix(template, "//"):
	default:
		return errors.New("must start with http://, https:// or / (a path on the Grafana server)")
	}
	return nil
}

// expandForCheck replaces ${...} and $name variables by a placeholder so that url.Parse can judge
// the rest of the template.
func expandForCheck(template string) string {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		if template[i] != '$' {
			b.WriteByte(template[i])
			continue
		}
		if i+1 < len(template) && template[i+1] == '{' {
			end := strings.IndexByte(template[i:], '}')
			if end < 0 {
				b.WriteString(template[i:])
				break
			}
			b.WriteString("x")
			i += end
			continue
		}
		j := i + 1
		for j < len(template) && (template[j] == '_' || isAlnum(template[j])) {
			j++
		}
		b.WriteString("x")
		i = j - 1
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func newConfig(opts []Option) (*config, error) {
	c := &config{profilesURL: DefaultProfilesURL}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("dashboards: nil Option")
		}
		if err := o.apply(c); err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
	}
	return c, nil
}
