package alerts

import (
	_ "embed"
)

//go:embed default-spec.yaml
var defaultSpec []byte

// DefaultSpec returns the spec of the shipped default rules in alerts/rules/: availability and
// latency SLOs for HTTP and gRPC, one set of rules per job, and the Go runtime alerts.
func DefaultSpec() []byte { return append([]byte(nil), defaultSpec...) }

// DefaultSpecName is the name the default spec's errors and headers carry.
const DefaultSpecName = "alerts/default-spec.yaml"

// DefaultModel returns the model of DefaultSpec.
func DefaultModel() (*Model, error) { return Load(DefaultSpecName, defaultSpec) }
