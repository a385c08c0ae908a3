package integrations_test

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// The example Alertmanager configuration the alerting test runs: where pages and tickets go, and
// the inhibition that holds back an SLO's ticket while its page fires.
func Example_alertmanagerConfig() {
	data, err := os.ReadFile("../../examples/alertmanager/alertmanager.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	var cfg struct {
		Route struct {
			Routes []struct {
				Receiver string   `yaml:"receiver"`
				Matchers []string `yaml:"matchers"`
			} `yaml:"routes"`
		} `yaml:"route"`
		InhibitRules []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
			Equal  []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range cfg.Route.Routes {
		fmt.Println(r.Matchers, "->", r.Receiver)
	}
	for _, in := range cfg.InhibitRules {
		fmt.Println(in.Target, "held back while", in.Source, "fires with the same", in.Equal)
	}
	// Output:
	// [severity="page"] -> pager
	// [severity="ticket"] -> ticket
	// [severity="ticket"] held back while [severity="page"] fires with the same [service slo]
}
