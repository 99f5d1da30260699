package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

var (
	errLock   = errors.New(`IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/x (PID 123)`)
	errBinder = errors.New(`Binder Error: Referenced column "x" not found in FROM clause!`)
	errOdd    = errors.New("exit status 3")
)

func middle() float64 { return 0.5 }

func TestDecide(t *testing.T) {
	exact := &recovery.Policy{Rand: middle}
	type step struct {
		attempt int
		action  recovery.Action
		delay   time.Duration
		reason  string
	}
	tests := []struct {
		name  string
		p     *recovery.Policy
		f     recovery.Failure
		steps []step
	}{
		{"transient retried twice then fails", exact,
			recovery.Failure{Node: "stg_orders", Kind: "model", Layer: "staging", Err: fmt.Errorf("stg_orders: %w", errLock)},
			[]step{
				{1, recovery.Retry, 5 * time.Second, "transient failure (IO Error): retry 1 of 2 in 5s"},
				{2, recovery.Retry, 10 * time.Second, "transient failure (IO Error): retry 2 of 2 in 10s"},
				{3, recovery.Fail, 0, "transient failure (IO Error): gave up after 3 attempts"},
			}},
		{"OS error named by its pattern", exact,
			recovery.Failure{Node: "n", Err: errors.New("write target/x: no space left on device")},
			[]step{{1, recovery.Retry, 5 * time.Second, "transient failure (no space left): retry 1 of 2 in 5s"}}},
		{"timeout retried", exact,
			recovery.Failure{Node: "fct_orders", Err: &timeoutError{errors.New("INTERRUPT Error: Interrupted!")}},
			[]step{
				{1, recovery.Retry, 5 * time.Second, "timeout: retry 1 of 2 in 5s"},
				{3, recovery.Fail, 0, "timeout: gave up after 3 attempts"},
			}},
		{"permanent not retried", exact,
			recovery.Failure{Node: "stg_orders", Err: errBinder},
			[]step{{1, recovery.Fail, 0, "permanent failure (Binder Error): not retried"}}},
		{"unknown errors are permanent", exact,
			recovery.Failure{Node: "stg_orders", Err: errOdd},
			[]step{{1, recovery.Fail, 0, "permanent failure (unrecognised error): not retried"}}},
		{"class given by the executor wins", exact,
			recovery.Failure{Node: "n", Err: errOdd, Class: recovery.ClassTransient},
			[]step{{1, recovery.Retry, 5 * time.Second, "transient failure: retry 1 of 2 in 5s"}}},
		{"timeout classified by its error type", exact,
			recovery.Failure{Node: "n", Err: &classedError{recovery.ClassTimeout, "node n timed out after 1s: INTERRUPT Error: Interrupted!"}},
			[]step{{1, recovery.Retry, 5 * time.Second, "timeout: retry 1 of 2 in 5s"}}},
		{"class given by the executor, same as Classify", exact,
			recovery.Failure{Node: "n", Err: errBinder, Class: recovery.ClassPermanent},
			[]step{{1, recovery.Fail, 0, "permanent failure (Binder Error): not retried"}}},
		{"no error and no class", exact,
			recovery.Failure{Node: "n"},
			[]step{{1, recovery.Fail, 0, "permanent failure: not retried"}}},
		{"critical falls back after exhaustion", exact,
			recovery.Failure{Node: "mart_daily_sales", Kind: "model", Critical: true, Err: errLock},
			[]step{
				{1, recovery.Retry, 5 * time.Second, "transient failure (IO Error): retry 1 of 2 in 5s"},
				{2, recovery.Retry, 10 * time.Second, "transient failure (IO Error): retry 2 of 2 in 10s"},
				{3, recovery.Fallback, 0, "critical model: serving its last good version; transient failure (IO Error): gave up after 3 attempts"},
			}},
		{"critical falls back at once for permanent", exact,
			recovery.Failure{Node: "mart_daily_sales", Kind: "model", Critical: true, Err: errBinder},
			[]step{{1, recovery.Fallback, 0, "critical model: serving its last good version; permanent failure (Binder Error): not retried"}}},
		{"critical without kind", exact,
			recovery.Failure{Node: "x", Critical: true, Err: errBinder},
			[]step{{1, recovery.Fallback, 0, "critical node: serving its last good version; permanent failure (Binder Error): not retried"}}},
		{"critical with fallback disabled fails", &recovery.Policy{Rand: middle, DisableFallback: true},
			recovery.Failure{Node: "mart_daily_sales", Kind: "model", Critical: true, Err: errBinder},
			[]step{{1, recovery.Fail, 0, "permanent failure (Binder Error): not retried"}}},
		{"cancelled never retried", exact,
			recovery.Failure{Node: "n", Err: fmt.Errorf("query: %w", context.Canceled)},
			[]step{{1, recovery.Fail, 0, "run cancelled: not retried"}}},
		{"cancelled critical does not fall back", exact,
			recovery.Failure{Node: "n", Critical: true, Err: context.Canceled},
			[]step{{1, recovery.Fail, 0, "run cancelled: not retried"}}},
		{"cancelled even when listed in RetryOn", &recovery.Policy{Rand: middle, RetryOn: []recovery.Class{recovery.ClassCancelled}},
			recovery.Failure{Node: "n", Class: recovery.ClassCancelled, Err: context.Canceled},
			[]step{{1, recovery.Fail, 0, "run cancelled: not retried"}}},
		{"RetryOn replaces the default classes", &recovery.Policy{Rand: middle, RetryOn: []recovery.Class{recovery.ClassStaleSource}},
			recovery.Failure{Node: "src", Class: recovery.ClassStaleSource, Err: errors.New("no new rows since yesterday")},
			[]step{{1, recovery.Retry, 5 * time.Second, "stale source: retry 1 of 2 in 5s"}}},
		{"RetryOn without transient", &recovery.Policy{Rand: middle, RetryOn: []recovery.Class{recovery.ClassTimeout}},
			recovery.Failure{Node: "n", Err: errLock},
			[]step{{1, recovery.Fail, 0, "transient failure (IO Error): not retried"}}},
		{"empty RetryOn retries nothing", &recovery.Policy{Rand: middle, RetryOn: []recovery.Class{}},
			recovery.Failure{Node: "n", Err: errLock},
			[]step{{1, recovery.Fail, 0, "transient failure (IO Error): not retried"}}},
		{"one attempt means no retry", &recovery.Policy{Rand: middle, Default: recovery.Backoff{Attempts: 1}},
			recovery.Failure{Node: "n", Err: errLock},
			[]step{{1, recovery.Fail, 0, "transient failure (IO Error): not retried (attempts: 1)"}}},
		{"attempt 0 counts as the first", exact,
			recovery.Failure{Node: "n", Err: errLock},
			[]step{{0, recovery.Retry, 5 * time.Second, "transient failure (IO Error): retry 1 of 2 in 5s"}}},
		{"jitter in the reason", &recovery.Policy{Rand: func() float64 { return 0.6 }},
			recovery.Failure{Node: "n", Err: errLock},
			[]step{{1, recovery.Retry, 5200 * time.Millisecond, "transient failure (IO Error): retry 1 of 2 in 5.2s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.steps {
				f := tt.f
				f.Attempt = s.attempt
				d := tt.p.Decide(context.Background(), f)
				assert.Equal(t, s.action.String(), d.Action.String(), "attempt %d: %s", s.attempt, d.Reason)
				assert.InDelta(t, float64(s.delay), float64(d.Delay), float64(time.Millisecond), "attempt %d", s.attempt)
				assert.Equal(t, s.reason, d.Reason, "attempt %d", s.attempt)
			}
		})
	}
}

func TestDecideZeroPolicy(t *testing.T) {
	var p recovery.Policy
	d := p.Decide(context.Background(), recovery.Failure{Node: "n", Attempt: 1, Err: errLock})
	require.Equal(t, recovery.Retry, d.Action)
	assert.GreaterOrEqual(t, d.Delay, 4*time.Second)
	assert.LessOrEqual(t, d.Delay, 6*time.Second)
	assert.Equal(t, recovery.Fail, p.Decide(context.Background(), recovery.Failure{Node: "n", Attempt: 3, Err: errLock}).Action)
	assert.Equal(t, recovery.Fallback, p.Decide(context.Background(), recovery.Failure{Node: "n", Attempt: 3, Critical: true, Err: errLock}).Action)

	var nilPolicy *recovery.Policy
	assert.Equal(t, recovery.Retry, nilPolicy.Decide(context.Background(), recovery.Failure{Node: "n", Attempt: 1, Err: errLock}).Action)
	assert.Equal(t, recovery.DefaultBackoff, nilPolicy.BackoffFor(recovery.Failure{}))

	// As a RecoveryPolicy.
	var rp recovery.RecoveryPolicy = &p
	assert.Equal(t, recovery.Fail, rp.Decide(context.Background(), recovery.Failure{Node: "n", Attempt: 1, Err: errBinder}).Action)
}

func TestDecideContext(t *testing.T) {
	p := &recovery.Policy{Rand: middle}
	f := recovery.Failure{Node: "n", Attempt: 1, Err: errLock, Critical: true, Kind: "model"}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := p.Decide(ctx, f)
	assert.Equal(t, recovery.Fail, d.Action, "a cancelled run neither retries nor falls back")
	assert.Equal(t, "run cancelled: not retried", d.Reason)

	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	d = p.Decide(ctx, f)
	assert.Equal(t, recovery.Fallback, d.Action, "a retry that would pass the deadline is not attempted")
	assert.Equal(t, "critical model: serving its last good version; transient failure (IO Error): retry 1 of 2 in 5s would pass the run's deadline", d.Reason)

	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	assert.Equal(t, recovery.Retry, p.Decide(ctx, f).Action)
}

func TestBackoffForPrecedence(t *testing.T) {
	p := &recovery.Policy{
		Default: recovery.Backoff{Attempts: 2, InitialDelay: 2 * time.Second, Jitter: 0.1},
		ByLayer: map[string]recovery.Backoff{"staging": {Attempts: 5, MaxDelay: 30 * time.Second}},
		ByNode:  map[string]recovery.Backoff{"mart_inventory_status": {Attempts: 4, InitialDelay: time.Second}},
	}
	own := &recovery.Backoff{Attempts: 7, Multiplier: 3}
	tests := []struct {
		name string
		f    recovery.Failure
		want recovery.Backoff
	}{
		{"default", recovery.Failure{Node: "fct_orders", Layer: "core"},
			recovery.Backoff{Attempts: 2, InitialDelay: 2 * time.Second, Multiplier: 2, MaxDelay: time.Minute, Jitter: 0.1}},
		{"layer over default", recovery.Failure{Node: "stg_orders", Layer: "staging"},
			recovery.Backoff{Attempts: 5, InitialDelay: 2 * time.Second, Multiplier: 2, MaxDelay: 30 * time.Second, Jitter: 0.1}},
		{"node's own over layer", recovery.Failure{Node: "stg_orders", Layer: "staging", Backoff: own},
			recovery.Backoff{Attempts: 7, InitialDelay: 2 * time.Second, Multiplier: 3, MaxDelay: 30 * time.Second, Jitter: 0.1}},
		{"ByNode over node's own", recovery.Failure{Node: "mart_inventory_status", Layer: "staging", Backoff: own},
			recovery.Backoff{Attempts: 4, InitialDelay: time.Second, Multiplier: 3, MaxDelay: 30 * time.Second, Jitter: 0.1}},
		{"ByNode without layer", recovery.Failure{Node: "mart_inventory_status", Layer: "marts"},
			recovery.Backoff{Attempts: 4, InitialDelay: time.Second, Multiplier: 2, MaxDelay: time.Minute, Jitter: 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.BackoffFor(tt.f))
		})
	}

	// Decide follows the same schedule: the staging node gets 5 attempts.
	p.Rand = middle
	f := recovery.Failure{Node: "stg_orders", Layer: "staging", Err: errLock}
	for attempt := 1; attempt <= 4; attempt++ {
		f.Attempt = attempt
		assert.Equal(t, recovery.Retry, p.Decide(context.Background(), f).Action, "attempt %d", attempt)
	}
	f.Attempt = 5
	assert.Equal(t, "transient failure (IO Error): gave up after 5 attempts", p.Decide(context.Background(), f).Reason)
	f.Attempt = 4
	assert.Equal(t, 16*time.Second, p.Decide(context.Background(), f).Delay, "2s×2³")
}

func TestPolicyConcurrentUse(t *testing.T) {
	var p recovery.Policy
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 100 {
				d := p.Decide(context.Background(), recovery.Failure{Node: fmt.Sprint(i), Attempt: 1 + j%3, Err: errLock})
				if d.Action == recovery.Retry && (d.Delay < 4*time.Second || d.Delay > 12*time.Second) {
					t.Errorf("delay %s out of range", d.Delay)
				}
			}
		})
	}
	wg.Wait()
}

func TestNewPolicy(t *testing.T) {
	off := false
	p, err := recovery.NewPolicy(recovery.Config{
		Default: map[string]any{"attempts": 3, "initial_delay": "5s", "multiplier": 2, "max_delay": "1m", "jitter": 0.2},
		Layers:  map[string]map[string]any{"staging": {"attempts": 5}},
		Nodes:   map[string]map[string]any{"mart_inventory_status": {"attempts": 4, "initial_delay": "1s"}},
		RetryOn: []string{"transient", "Timeout", "transient"},
	})
	require.NoError(t, err)
	assert.Equal(t, recovery.DefaultBackoff, p.Default)
	assert.Equal(t, map[string]recovery.Backoff{"staging": {Attempts: 5}}, p.ByLayer)
	assert.Equal(t, map[string]recovery.Backoff{"mart_inventory_status": {Attempts: 4, InitialDelay: time.Second}}, p.ByNode)
	assert.Equal(t, []recovery.Class{recovery.ClassTransient, recovery.ClassTimeout}, p.RetryOn)
	assert.False(t, p.DisableFallback)

	p, err = recovery.NewPolicy(recovery.Config{Fallback: &off, RetryOn: []string{}})
	require.NoError(t, err)
	assert.True(t, p.DisableFallback)
	assert.Equal(t, []recovery.Class{}, p.RetryOn)

	p, err = recovery.NewPolicy(recovery.Config{})
	require.NoError(t, err)
	assert.Equal(t, recovery.Policy{}, *p)

	_, err = recovery.NewPolicy(recovery.Config{
		Default: map[string]any{"attempts": 0},
		Layers:  map[string]map[string]any{"staging": {"atempts": 5}},
		RetryOn: []string{"flaky", "cancelled"},
	})
	require.Error(t, err)
	for _, want := range []string{
		"retries.default.attempts: must be at least 1",
		"retries.layers.staging.atempts: unknown key",
		`retries.retry_on[0]: unknown failure class "flaky"`,
		"retries.retry_on[1]: cancelled runs are never retried",
	} {
		assert.Contains(t, err.Error(), want)
	}
	var ce *recovery.ConfigError
	assert.ErrorAs(t, err, &ce)
}

func TestActionString(t *testing.T) {
	assert.Equal(t, "retry", recovery.Retry.String())
	assert.Equal(t, "fallback", recovery.Fallback.String())
	assert.Equal(t, "fail", recovery.Fail.String())
	assert.Equal(t, "skip", recovery.Skip.String())
}
