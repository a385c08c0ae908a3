package profiling

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables read when the matching Config field is empty.
const (
	EnvServerAddress     = "PYROSCOPE_SERVER_ADDRESS"
	EnvBasicAuthUser     = "PYROSCOPE_BASIC_AUTH_USER"
	EnvBasicAuthPassword = "PYROSCOPE_BASIC_AUTH_PASSWORD"
	EnvTenantID          = "PYROSCOPE_TENANT_ID"
)

// Config is perfobs.ProfilingConfig, field for field (the facade converts one into the other);
// see there for the meaning of each field.
type Config struct {
	Disabled             bool
	ServerAddress        string
	BasicAuthUser        string
	BasicAuthPassword    string
	TenantID             string
	Tags                 map[string]string
	UploadRate           time.Duration
	UploadTimeout        time.Duration
	DisableCPU           bool
	DisableHeap          bool
	DisableGoroutines    bool
	MutexProfileFraction int
	BlockProfileRate     int
	ForceGC              bool
}

// App names what is profiled.
type App struct {
	Service     string
	Version     string
	Environment string
}

const (
	defaultUploadRate    = 15 * time.Second
	defaultUploadTimeout = 10 * time.Second
	uploadQueueLength    = 16 // at most this many profiles wait; each is tens of KiB
	uploadWorkers        = 2
	logEvery             = time.Minute
	// shutdownGrace is how long shutdown waits, once its context is done, for in-flight work that it
	// has just cancelled.
	shutdownGrace = time.Second
)

// Resolve returns cfg with the environment applied and defaults filled in. lookupEnv reads the
// PYROSCOPE_* variables (nil: os.LookupEnv).
func Resolve(cfg Config, lookupEnv func(string) (string, bool)) Config {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	fill := func(field *string, env string) {
		if *field == "" {
			if v, ok := lookupEnv(env); ok {
				*field = strings.TrimSpace(v)
			}
		}
	}
	fill(&cfg.ServerAddress, EnvServerAddress)
	fill(&cfg.BasicAuthUser, EnvBasicAuthUser)
	fill(&cfg.BasicAuthPassword, EnvBasicAuthPassword)
	fill(&cfg.TenantID, EnvTenantID)
	if cfg.UploadRate <= 0 {
		cfg.UploadRate = defaultUploadRate
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = defaultUploadTimeout
	}
	return cfg
}

func parseServerAddress(addr string) (*url.URL, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an http or https URL such as http://pyroscope:4040", addr)
	}
	return u, nil
}
