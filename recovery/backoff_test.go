package recovery_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

func TestDefaultBackoffIsValid(t *testing.T) {
	require.NoError(t, recovery.DefaultBackoff.Validate())
	assert.Equal(t, recovery.Backoff{Attempts: 3, InitialDelay: 5 * time.Second, Multiplier: 2, MaxDelay: time.Minute, Jitter: 0.2}, recovery.DefaultBackoff)
	assert.Equal(t, "3 attempts, 5s ×2 up to 1m0s ±20%", recovery.DefaultBackoff.String())
}

func TestDelayGrowthAndCap(t *testing.T) {
	exact := recovery.DefaultBackoff
	tests := []struct {
		name  string
		b     recovery.Backoff
		retry int
		want  time.Duration
	}{
		{"first retry", exact, 1, 5 * time.Second},
		{"second retry", exact, 2, 10 * time.Second},
		{"third retry", exact, 3, 20 * time.Second},
		{"fourth retry", exact, 4, 40 * time.Second},
		{"capped", exact, 5, time.Minute},
		{"stays capped", exact, 6, time.Minute},
		{"huge retry does not overflow", exact, 10_000, time.Minute},
		{"retry 0 counts as the first", exact, 0, 5 * time.Second},
		{"negative retry counts as the first", exact, -3, 5 * time.Second},
		{"zero backoff uses the defaults", recovery.Backoff{}, 2, 10 * time.Second},
		{"multiplier 1 is constant", recovery.Backoff{InitialDelay: 3 * time.Second, Multiplier: 1}, 7, 3 * time.Second},
		{"fractional multiplier", recovery.Backoff{InitialDelay: time.Second, Multiplier: 1.5, MaxDelay: time.Hour}, 3, 2250 * time.Millisecond},
		{"huge multiplier is capped", recovery.Backoff{InitialDelay: time.Second, Multiplier: 1e300, MaxDelay: 30 * time.Second}, 50, 30 * time.Second},
		{"initial delay above the cap", recovery.Backoff{InitialDelay: 2 * time.Minute, MaxDelay: 10 * time.Second}, 1, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// rnd 0.5 is the middle of the jitter: no spread.
			assert.Equal(t, tt.want, tt.b.Delay(tt.retry, 0.5))
		})
	}
}

func TestDelayJitterBounds(t *testing.T) {
	backoffs := []recovery.Backoff{
		recovery.DefaultBackoff,
		{Attempts: 10, InitialDelay: time.Second, Multiplier: 3, MaxDelay: 20 * time.Second, Jitter: 0.5},
		{Attempts: 5, InitialDelay: 100 * time.Millisecond, Multiplier: 1, MaxDelay: time.Second, Jitter: 0.99},
		{Attempts: 5, InitialDelay: time.Second, Multiplier: 2, MaxDelay: time.Hour, Jitter: 0.05},
	}
	for _, b := range backoffs {
		t.Run(b.String(), func(t *testing.T) {
			for retry := 1; retry <= 12; retry++ {
				base := b.Delay(retry, 0.5)
				lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
				for i := range 1000 {
					rnd := float64(i) / 1000
					d := b.Delay(retry, rnd)
					require.GreaterOrEqual(t, d, time.Duration(0))
					require.LessOrEqual(t, float64(d), float64(b.MaxDelay)*(1+b.Jitter)+1, "retry %d rnd %v", retry, rnd)
					require.GreaterOrEqual(t, float64(d), float64(base)*(1-b.Jitter)-1, "retry %d rnd %v", retry, rnd)
					require.LessOrEqual(t, float64(d), float64(base)*(1+b.Jitter)+1, "retry %d rnd %v", retry, rnd)
					require.Equal(t, d, b.Delay(retry, rnd), "deterministic")
					lo, hi = min(lo, d), max(hi, d)
				}
				// The jitter actually spreads the delays over most of the range.
				assert.InDelta(t, float64(base)*(1-b.Jitter), float64(lo), float64(base)*0.01)
				assert.InDelta(t, float64(base)*(1+b.Jitter), float64(hi), float64(base)*0.01)
			}
		})
	}
}

func TestDelayOddRandomValues(t *testing.T) {
	b := recovery.DefaultBackoff
	for _, rnd := range []float64{-1, 1, 2, math.Inf(1), math.Inf(-1), math.NaN()} {
		d := b.Delay(1, rnd)
		assert.GreaterOrEqual(t, d, 4*time.Second, "rnd %v", rnd)
		assert.LessOrEqual(t, d, 6*time.Second, "rnd %v", rnd)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		b    recovery.Backoff
		want []string
	}{
		{"default", recovery.DefaultBackoff, nil},
		{"one attempt, no delay", recovery.Backoff{Attempts: 1, Multiplier: 1}, nil},
		{"zero attempts", recovery.Backoff{Multiplier: 1}, []string{"attempts must be at least 1, got 0"}},
		{"negative initial delay", recovery.Backoff{Attempts: 1, Multiplier: 1, InitialDelay: -time.Second}, []string{"initial_delay must not be negative, got -1s"}},
		{"negative max delay", recovery.Backoff{Attempts: 1, Multiplier: 1, MaxDelay: -time.Minute}, []string{"max_delay must not be negative, got -1m0s"}},
		{"multiplier below 1", recovery.Backoff{Attempts: 1, Multiplier: 0.5}, []string{"multiplier must be a finite number of at least 1, got 0.5"}},
		{"multiplier NaN", recovery.Backoff{Attempts: 1, Multiplier: math.NaN()}, []string{"multiplier must be"}},
		{"multiplier infinite", recovery.Backoff{Attempts: 1, Multiplier: math.Inf(1)}, []string{"multiplier must be"}},
		{"jitter 1", recovery.Backoff{Attempts: 1, Multiplier: 1, Jitter: 1}, []string{"jitter must be at least 0 and less than 1 (0.2 = ±20%), got 1"}},
		{"negative jitter", recovery.Backoff{Attempts: 1, Multiplier: 1, Jitter: -0.1}, []string{"jitter must be at least 0 and less than 1"}},
		{"everything wrong at once", recovery.Backoff{Attempts: -1, InitialDelay: -1, Multiplier: 0, MaxDelay: -1, Jitter: 2},
			[]string{"attempts", "initial_delay", "multiplier", "max_delay", "jitter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.Validate()
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	assert.Equal(t, recovery.DefaultBackoff, recovery.Backoff{}.WithDefaults())
	got := recovery.Backoff{Attempts: 5, MaxDelay: 10 * time.Second}.WithDefaults()
	assert.Equal(t, recovery.Backoff{Attempts: 5, InitialDelay: 5 * time.Second, Multiplier: 2, MaxDelay: 10 * time.Second, Jitter: 0.2}, got)
	assert.Equal(t, got, got.WithDefaults(), "idempotent")
}

func TestParseBackoff(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want recovery.Backoff
	}{
		{"nil", nil, recovery.Backoff{}},
		{"strings", map[string]any{"attempts": 4, "initial_delay": "1s", "max_delay": "1m30s", "multiplier": 1.5, "jitter": 0.1},
			recovery.Backoff{Attempts: 4, InitialDelay: time.Second, MaxDelay: 90 * time.Second, Multiplier: 1.5, Jitter: 0.1}},
		{"numbers are seconds", map[string]any{"initial_delay": uint64(2), "max_delay": 0.5},
			recovery.Backoff{InitialDelay: 2 * time.Second, MaxDelay: 500 * time.Millisecond}},
		{"numeric strings are seconds", map[string]any{"initial_delay": "2.5"}, recovery.Backoff{InitialDelay: 2500 * time.Millisecond}},
		{"YAML integer types", map[string]any{"attempts": uint64(5), "multiplier": uint64(3)}, recovery.Backoff{Attempts: 5, Multiplier: 3}},
		{"negative-capable ints", map[string]any{"attempts": int64(2)}, recovery.Backoff{Attempts: 2}},
		{"JSON numbers", map[string]any{"attempts": json.Number("6"), "jitter": json.Number("0.3"), "initial_delay": json.Number("7")},
			recovery.Backoff{Attempts: 6, Jitter: 0.3, InitialDelay: 7 * time.Second}},
		{"whole float attempts", map[string]any{"attempts": 3.0}, recovery.Backoff{Attempts: 3}},
		{"time.Duration", map[string]any{"max_delay": 2 * time.Minute}, recovery.Backoff{MaxDelay: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := recovery.ParseBackoff(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBackoffExplicitZero(t *testing.T) {
	b, err := recovery.ParseBackoff(map[string]any{"jitter": 0, "initial_delay": "0s"})
	require.NoError(t, err)
	full := b.WithDefaults()
	assert.Equal(t, 0.0, full.Jitter, "explicit jitter 0 disables jitter")
	assert.Equal(t, time.Duration(0), full.InitialDelay, "explicit initial_delay 0 retries at once")
	assert.Equal(t, 3, full.Attempts)
	assert.Equal(t, time.Minute, full.MaxDelay)
	assert.Equal(t, time.Duration(0), b.Delay(1, 0.99))
	assert.Equal(t, full, full.WithDefaults())
}

func TestParseBackoffErrors(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want []string
	}{
		{"unknown key", map[string]any{"retries": 3}, []string{"retries: unknown key (want one of attempts, initial_delay, multiplier, max_delay, jitter)"}},
		{"misspelt key", map[string]any{"initialDelay": "5s"}, []string{"initialDelay: unknown key"}},
		{"bad duration", map[string]any{"initial_delay": "5 secs"}, []string{`initial_delay: invalid duration "5 secs"`}},
		{"negative duration", map[string]any{"max_delay": "-1s"}, []string{"max_delay: must not be negative, got -1s"}},
		{"duration of the wrong type", map[string]any{"max_delay": true}, []string{"max_delay: want a duration"}},
		{"zero attempts", map[string]any{"attempts": 0}, []string{"attempts: must be at least 1"}},
		{"fractional attempts", map[string]any{"attempts": 2.5}, []string{"attempts: want a whole number"}},
		{"attempts as a string", map[string]any{"attempts": "3"}, []string{`attempts: want a whole number of attempts (3 = the first attempt and 2 retries), got the string "3"`}},
		{"multiplier below 1", map[string]any{"multiplier": 0.5}, []string{"multiplier: must be a finite number of at least 1"}},
		{"multiplier as a string", map[string]any{"multiplier": "x2"}, []string{"multiplier: want a number"}},
		{"jitter 1", map[string]any{"jitter": 1}, []string{"jitter: must be at least 0 and less than 1"}},
		{"jitter as percent", map[string]any{"jitter": "20%"}, []string{"jitter: want a fraction"}},
		{"several at once", map[string]any{"attempts": 0, "bogus": 1}, []string{"attempts: must be", "bogus: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := recovery.ParseBackoff(tt.in)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestBackoffUnmarshalYAML(t *testing.T) {
	var node struct {
		Retries recovery.Backoff `yaml:"retries"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("retries: {attempts: 4, initial_delay: 2, max_delay: 30s}\n"), &node))
	assert.Equal(t, recovery.Backoff{Attempts: 4, InitialDelay: 2 * time.Second, MaxDelay: 30 * time.Second}, node.Retries)

	err := yaml.Unmarshal([]byte("retries: {attempt: 4}\n"), &node)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt: unknown key")

	// What goccy/go-yaml writes, it reads back.
	out, err := yaml.Marshal(recovery.DefaultBackoff)
	require.NoError(t, err)
	var back recovery.Backoff
	require.NoError(t, yaml.Unmarshal(out, &back))
	assert.Equal(t, recovery.DefaultBackoff, back)
}
