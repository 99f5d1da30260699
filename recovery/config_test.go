package recovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

const projectYAML = `name: vyaparbazaar
profile: dev

retries:
  default: {attempts: 3, initial_delay: 5s, multiplier: 2, max_delay: 1m, jitter: 0.2}
  layers: {staging: {attempts: 5}}
  nodes: {mart_inventory_status: {attempts: 4, initial_delay: 1s}}
  retry_on: [transient, timeout]
  fallback_critical: true

runbooks:
  transient: "Check /data disk space first."
  schema_change: |
    Ask the catalog team which columns changed.

escalation:
  analytics: {primary: "@asha", secondary: "@ravi", after: 30m}
  default:
    primary: oncall@vyaparbazaar.in
    after: 600
`

func TestParseConfig(t *testing.T) {
	cfg, err := recovery.ParseConfig([]byte(projectYAML))
	require.NoError(t, err)
	on := true
	want := recovery.Config{
		Default:  map[string]any{"attempts": uint64(3), "initial_delay": "5s", "multiplier": uint64(2), "max_delay": "1m", "jitter": 0.2},
		Layers:   map[string]map[string]any{"staging": {"attempts": uint64(5)}},
		Nodes:    map[string]map[string]any{"mart_inventory_status": {"attempts": uint64(4), "initial_delay": "1s"}},
		RetryOn:  []string{"transient", "timeout"},
		Fallback: &on,
		Runbooks: recovery.Runbooks{
			recovery.ClassTransient:    "Check /data disk space first.",
			recovery.ClassSchemaChange: "Ask the catalog team which columns changed.",
		},
		Escalation: recovery.EscalationPolicy{
			"analytics": {Team: "analytics", Primary: "@asha", Secondary: "@ravi", After: 30 * time.Minute},
			"default":   {Team: "default", Primary: "oncall@vyaparbazaar.in", After: 10 * time.Minute},
		},
	}
	assert.Equal(t, want, cfg)

	p, err := recovery.NewPolicy(cfg)
	require.NoError(t, err)
	assert.Equal(t, recovery.DefaultBackoff, p.Default)
	assert.Equal(t, 5, p.BackoffFor(recovery.Failure{Node: "stg_orders", Layer: "staging"}).Attempts)
	node := p.BackoffFor(recovery.Failure{Node: "mart_inventory_status", Layer: "marts"})
	assert.Equal(t, recovery.Backoff{Attempts: 4, InitialDelay: time.Second, Multiplier: 2, MaxDelay: time.Minute, Jitter: 0.2}, node)
	assert.Equal(t, []recovery.Class{recovery.ClassTransient, recovery.ClassTimeout}, p.RetryOn)
	assert.False(t, p.DisableFallback)

	// Round trip: what YAML writes, ParseConfig reads back.
	out, err := cfg.YAML()
	require.NoError(t, err)
	back, err := recovery.ParseConfig(out)
	require.NoError(t, err, "%s", out)
	assert.Equal(t, cfg, back, "%s", out)
}

func TestParseConfigForms(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want recovery.Config
	}{
		{"empty", "", recovery.Config{}},
		{"comments only", "# nothing yet\n", recovery.Config{}},
		{"no recovery sections", "name: x\nmodels: {}\n", recovery.Config{}},
		{"retries section alone", "default: {attempts: 2}\nfallback_critical: false\n",
			recovery.Config{Default: map[string]any{"attempts": uint64(2)}, Fallback: new(false)}},
		{"null sections", "retries:\nrunbooks:\nescalation:\n", recovery.Config{}},
		{"null schedules", "retries:\n  default:\n  layers: {staging: }\n  retry_on:\n",
			recovery.Config{Layers: map[string]map[string]any{"staging": nil}}},
		{"empty retry_on retries nothing", "retries: {retry_on: []}\n", recovery.Config{RetryOn: []string{}}},
		{"single class", "retries: {retry_on: timeout}\n", recovery.Config{RetryOn: []string{"timeout"}}},
		{"anchors", "retries:\n  default: &d {attempts: 2, jitter: 0}\n  layers: {staging: *d}\n",
			recovery.Config{Default: map[string]any{"attempts": uint64(2), "jitter": uint64(0)},
				Layers: map[string]map[string]any{"staging": {"attempts": uint64(2), "jitter": uint64(0)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := recovery.ParseConfig([]byte(tt.yaml))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			_, err = recovery.NewPolicy(got)
			assert.NoError(t, err)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"syntax", "retries:\n  default: {attempts: 3\n", []string{"line 2: "}},
		{"bad indentation", "retries:\n  default:\n    attempts: 3\n   jitter: 0.1\n", []string{"line 4: "}},
		{"duplicate key", "retries:\n  default: {}\n  default: {}\n", []string{"line 3: "}},
		{"not a mapping", "- retries\n", []string{"line 1: want a mapping"}},
		{"unknown retries key", "x: 1\nretries:\n  defaults: {attempts: 3}\n", []string{"line 3: retries.defaults: unknown key (want one of default, layers, nodes, retry_on, fallback_critical)"}},
		{"retries not a mapping", "retries: 3\n", []string{"line 1: retries: want a mapping"}},
		{"unknown backoff key", "retries:\n  layers:\n    staging:\n      attempts: 5\n      retries: 2\n", []string{"line 5: retries.layers.staging.retries: unknown key"}},
		{"bad attempts", "retries:\n  nodes:\n    mart_inventory_status: {attempts: 0}\n", []string{"line 3: retries.nodes.mart_inventory_status.attempts: must be at least 1 (1 = no retry), got 0"}},
		{"bad duration", "retries:\n  default:\n    initial_delay: 5 seconds\n", []string{`line 3: retries.default.initial_delay: invalid duration "5 seconds"`}},
		{"bad jitter", "retries:\n  default:\n    attempts: 2\n    jitter: 1.5\n", []string{"line 4: retries.default.jitter: must be at least 0 and less than 1"}},
		{"schedule not a mapping", "retries:\n  layers:\n    staging: 5\n", []string{"line 3: retries.layers.staging: want a mapping"}},
		{"unknown class", "retries:\n  retry_on:\n    - transient\n    - flaky\n", []string{`line 4: retries.retry_on[1]: unknown failure class "flaky"`}},
		{"cancelled class", "retries:\n  retry_on: [transient, cancelled]\n", []string{"line 2: retries.retry_on[1]: cancelled runs are never retried"}},
		{"fallback not a bool", "retries:\n  fallback_critical: yes please\n", []string{"line 2: retries.fallback_critical: want true or false"}},
		{"standalone section", "default:\n  attempts: 2\nbogus: 1\n", []string{"line 3: retries.bogus: unknown key"}},
		{"standalone section bad value", "default:\n  attempts: 0\n", []string{"line 2: retries.default.attempts: must be at least 1"}},
		{"runbook for an unknown class", "runbooks:\n  transient: ok\n  flaky: retry it\n", []string{`line 3: runbooks.flaky: unknown failure class "flaky"`}},
		{"runbook not a text", "runbooks:\n  transient: [a, b]\n", []string{"line 2: runbooks.transient: want a text"}},
		{"escalation without primary", "escalation:\n  analytics:\n    secondary: \"@ravi\"\n", []string{"line 2: escalation.analytics.primary: a contact is required"}},
		{"escalation empty primary", "escalation:\n  analytics: {primary: \"\"}\n", []string{"line 2: escalation.analytics.primary: a contact is required"}},
		{"escalation bad after", "escalation:\n  analytics:\n    primary: a\n    after: soon\n", []string{`line 4: escalation.analytics.after: invalid duration "soon"`}},
		{"escalation unknown key", "escalation:\n  analytics:\n    primary: a\n    tertiary: b\n", []string{"line 4: escalation.analytics.tertiary: unknown key (want one of primary, secondary, after)"}},
		{"escalation not a mapping", "escalation:\n  analytics: \"@asha\"\n", []string{"line 2: escalation.analytics: want a mapping"}},
		{"several errors", "retries:\n  default: {attempts: 0}\n  layers: {staging: {jitter: 2}}\n",
			[]string{"line 2: retries.default.attempts", "line 3: retries.layers.staging.jitter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := recovery.ParseConfig([]byte(tt.yaml))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			var ce *recovery.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Positive(t, ce.Line, "every error has a line: %v", err)
		})
	}
}

func TestConfigErrorFormat(t *testing.T) {
	assert.Equal(t, "line 3: retries.default: boom", (&recovery.ConfigError{Line: 3, Path: "retries.default", Msg: "boom"}).Error())
	assert.Equal(t, "retries.default: boom", (&recovery.ConfigError{Path: "retries.default", Msg: "boom"}).Error())
	cause := errors.New("cause")
	assert.ErrorIs(t, &recovery.ConfigError{Msg: "x", Err: cause}, cause)
}

func TestParseConfigDrivesDecide(t *testing.T) {
	cfg, err := recovery.ParseConfig([]byte("retries:\n  default: {attempts: 2, initial_delay: 0, jitter: 0}\n  fallback_critical: false\n"))
	require.NoError(t, err)
	p, err := recovery.NewPolicy(cfg)
	require.NoError(t, err)
	f := recovery.Failure{Node: "mart_daily_sales", Kind: "model", Critical: true, Attempt: 1, Err: errLock}
	d := p.Decide(context.Background(), f)
	assert.Equal(t, recovery.Decision{Action: recovery.Retry, Reason: "transient failure (IO Error): retry 1 of 1 in 0s"}, d)
	f.Attempt = 2
	d = p.Decide(context.Background(), f)
	assert.Equal(t, recovery.Decision{Action: recovery.Fail, Reason: "transient failure (IO Error): gave up after 2 attempts"}, d)
}
