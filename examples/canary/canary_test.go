package canary_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/tools/canary"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// docs reads every YAML document of a file.
func docs(t testing.TB, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, d)
	}
}

// dig follows keys (strings) and indexes (ints) through decoded YAML.
func dig(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not a mapping", p)
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("at %v: not a sequence of more than %d items", p, k)
			}
			v = s[k]
		}
	}
	return v
}

func strs(t testing.TB, v any) []string {
	t.Helper()
	var out []string
	for _, x := range v.([]any) {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%v is not a string", x)
		}
		out = append(out, s)
	}
	return out
}

func kind(t testing.TB, ds []map[string]any, k string) map[string]any {
	t.Helper()
	for _, d := range ds {
		if d["kind"] == k {
			return d
		}
	}
	t.Fatalf("no %s document", k)
	return nil
}

var placeholder = regexp.MustCompile(`\{\{args\.([a-z-]+)\}\}`)

func TestArgoAnalysisTemplate(t *testing.T) {
	ds := docs(t, "analysistemplate.yaml")
	tmpl := kind(t, ds, "AnalysisTemplate")
	declared := map[string]bool{}
	needed := map[string]bool{}
	for _, a := range dig(t, tmpl, "spec", "args").([]any) {
		m := a.(map[string]any)
		declared[m["name"].(string)] = true
		if _, ok := m["value"]; !ok {
			needed[m["name"].(string)] = true
		}
	}
	ctr := dig(t, tmpl, "spec", "metrics", 0, "provider", "job", "spec", "template", "spec", "containers", 0)
	if cmd := strs(t, dig(t, ctr, "command")); strings.Join(cmd, " ") != "perfobs canary" {
		t.Fatalf("command %q, want perfobs canary", cmd)
	}
	args := strs(t, dig(t, ctr, "args"))

	// The ConfigMap the Job mounts must be a config the command accepts.
	cfg := dig(t, kind(t, ds, "ConfigMap"), "data", "canary.yaml").(string)
	if _, err := canary.ParseConfig([]byte(cfg)); err != nil {
		t.Fatalf("ConfigMap canary.yaml: %v", err)
	}
	mount := dig(t, ctr, "volumeMounts", 0, "mountPath").(string)
	cfgPath := filepath.Join(t.TempDir(), "canary.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)

	values := map[string]string{"service": "checkout", "stable-hash": "6d4f9c7b8", "canary-hash": "5c8d7f6a9", "prometheus": "http://prometheus.monitoring.svc:9090"}
	for i, a := range args {
		for _, m := range placeholder.FindAllStringSubmatch(a, -1) {
			if !declared[m[1]] {
				t.Errorf("args[%d] %q uses {{args.%s}}, which spec.args does not declare", i, a, m[1])
			}
		}
		args[i] = placeholder.ReplaceAllStringFunc(a, func(s string) string { return values[placeholder.FindStringSubmatch(s)[1]] })
		args[i] = strings.Replace(args[i], "--config="+mount+"/canary.yaml", "--config="+cfgPath, 1)
	}
	inv, err := canary.ParseArgs(args, time.Now(), io.Discard)
	if err != nil {
		t.Fatalf("perfobs canary %s: %v", strings.Join(args, " "), err)
	}
	if inv.Watch != time.Minute || inv.Deadline.Sub(inv.Request.Start) != 20*time.Minute {
		t.Errorf("watch %v until +%v, want every 1m for 20m", inv.Watch, inv.Deadline.Sub(inv.Request.Start))
	}
	if got := inv.Request.Canary.Matchers; len(got) != 2 || got[1].Name != "rollouts_pod_template_hash" || got[1].Value != "5c8d7f6a9" {
		t.Errorf("canary matchers %v", got)
	}
	deadline := dig(t, tmpl, "spec", "metrics", 0, "provider", "job", "spec", "activeDeadlineSeconds").(int)
	if time.Duration(deadline)*time.Second <= 20*time.Minute {
		t.Errorf("activeDeadlineSeconds %d ends the Job before its 20-minute analysis", deadline)
	}

	// The Rollout passes every argument the template needs.
	ro := kind(t, docs(t, "rollout.yaml"), "Rollout")
	an := dig(t, ro, "spec", "strategy", "canary", "analysis")
	if name := dig(t, an, "templates", 0, "templateName"); name != dig(t, tmpl, "metadata", "name") {
		t.Errorf("Rollout uses template %v, the template is named %v", name, dig(t, tmpl, "metadata", "name"))
	}
	for _, a := range dig(t, an, "args").([]any) {
		delete(needed, a.(map[string]any)["name"].(string))
	}
	if len(needed) > 0 {
		t.Errorf("the Rollout does not pass template args %v", needed)
	}
}

// shellWords splits a command line as sh would, for the quoting used here (single quotes,
// double quotes with backslash escapes), up to the first unquoted ';'.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at %d", i)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unterminated "`)
			}
			in = true
		case c == ';':
			if in {
				words = append(words, cur.String())
			}
			return words, nil
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestFlaggerWebhooks(t *testing.T) {
	c := kind(t, docs(t, "flagger-canary.yaml"), "Canary")
	hooks := dig(t, c, "spec", "analysis", "webhooks").([]any)
	types := map[string]bool{}
	for i, h := range hooks {
		m := h.(map[string]any)
		types[m["type"].(string)] = true
		if dig(t, m, "metadata", "type") != "cmd" {
			t.Errorf("webhook %d: metadata.type %v, want cmd (flagger-loadtester runs it)", i, dig(t, m, "metadata", "type"))
		}
		cmd := dig(t, m, "metadata", "cmd").(string)
		words, err := shellWords(cmd)
		if err != nil {
			t.Fatalf("webhook %d: %q: %v", i, cmd, err)
		}
		if len(words) < 2 || words[0] != "perfobs" || words[1] != "canary" {
			t.Fatalf("webhook %d runs %q, want perfobs canary", i, words)
		}
		inv, err := canary.ParseArgs(words[2:], time.Now(), io.Discard)
		if err != nil {
			t.Fatalf("webhook %d: %s: %v", i, cmd, err)
		}
		if inv.Request.Baseline.Matchers[0].Value != "checkout-primary" || inv.Request.Canary.Matchers[0].Value != "checkout" {
			t.Errorf("webhook %d compares %s with %s", i, inv.Request.Baseline, inv.Request.Canary)
		}
		if m["type"] == "rollout" && !strings.HasSuffix(cmd, "; test $? -ne 1") {
			t.Errorf("rollout webhook %d would roll back on inconclusive: %q", i, cmd)
		}
	}
	if !types["rollout"] || !types["confirm-promotion"] {
		t.Errorf("webhook types %v, want rollout and confirm-promotion", types)
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`perfobs canary --baseline='app="a b"' "x\"y" z; echo`)
	if err != nil || strings.Join(got, "|") != `perfobs|canary|--baseline=app="a b"|x"y|z` {
		t.Fatalf("%q %v", got, err)
	}
}

// The Flagger webhook's command, as flagger-loadtester runs it.
func Example() {
	b, _ := os.ReadFile("flagger-canary.yaml")
	var c struct {
		Spec struct {
			Analysis struct {
				Webhooks []struct {
					Type     string
					Metadata map[string]string
				}
			}
		}
	}
	yaml.Unmarshal(bytes.SplitN(b, []byte("\n---"), 2)[0], &c)
	for _, h := range c.Spec.Analysis.Webhooks {
		words, _ := shellWords(h.Metadata["cmd"])
		fmt.Println(h.Type, words[3], words[4])
	}
	// Output:
	// rollout --baseline=app="checkout-primary" --canary=app="checkout"
	// confirm-promotion --baseline=app="checkout-primary" --canary=app="checkout"
}
