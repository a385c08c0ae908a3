package dashboards

import (
	"net/url"
	"testing"
)

// FuzzProfilesURL: WithProfilesURL never panics, and a template it accepts is a URL once its
// Grafana variables are filled in.
func FuzzProfilesURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, template string) {
		c, err := newConfig([]Option{WithProfilesURL(template)})
		if err != nil {
			return
		}
		if c.profilesURL != template {
			t.Fatalf("accepted %q but kept %q", template, c.profilesURL)
		}
		if _, err := url.Parse(expandForCheck(template)); err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", template, err)
		}
	})
}
