package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

func ExamplePolicy_Decide() {
	// Rand fixed at the middle of the jitter for a reproducible output.
	p := &recovery.Policy{Rand: func() float64 { return 0.5 }}
	lock := errors.New(`IO Error: Could not set lock on file "target/dev.duckdb": Conflicting lock is held in /usr/bin/vyaparbazaar (PID 4242)`)
	for attempt := 1; attempt <= 3; attempt++ {
		d := p.Decide(context.Background(), recovery.Failure{Node: "stg_orders", Kind: "model", Attempt: attempt, Err: lock})
		fmt.Printf("attempt %d: %s after %s: %s\n", attempt, d.Action, d.Delay, d.Reason)
	}

	binder := errors.New(`Binder Error: Referenced column "amount" not found in FROM clause!`)
	d := p.Decide(context.Background(), recovery.Failure{Node: "mart_daily_sales", Kind: "model", Critical: true, Attempt: 1, Err: binder})
	fmt.Printf("critical: %s: %s\n", d.Action, d.Reason)
	// Output:
	// attempt 1: retry after 5s: transient failure (IO Error): retry 1 of 2 in 5s
	// attempt 2: retry after 10s: transient failure (IO Error): retry 2 of 2 in 10s
	// attempt 3: fail after 0s: transient failure (IO Error): gave up after 3 attempts
	// critical: fallback: critical model: serving its last good version; permanent failure (Binder Error): not retried
}

func ExampleClassify() {
	for _, err := range []error{
		errors.New(`IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/x (PID 123)`),
		fmt.Errorf("model stg_orders: %w", errors.New(`Binder Error: Referenced column "x" not found in FROM clause!`)),
		fmt.Errorf("model fct_orders: %w", context.DeadlineExceeded),
		context.Canceled,
		errors.New("open seeds/pincodes.csv: too many open files"),
		errors.New("something nobody expected"),
	} {
		c := recovery.Classify(err)
		fmt.Printf("%-9s retryable=%-5v %s\n", c, c.Retryable(), err)
	}
	// Output:
	// transient retryable=true  IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/x (PID 123)
	// permanent retryable=false model stg_orders: Binder Error: Referenced column "x" not found in FROM clause!
	// timeout   retryable=true  model fct_orders: context deadline exceeded
	// cancelled retryable=false context canceled
	// transient retryable=true  open seeds/pincodes.csv: too many open files
	// permanent retryable=false something nobody expected
}

func ExampleParseConfig() {
	cfg, err := recovery.ParseConfig([]byte(`
retries:
  default: {attempts: 3, initial_delay: 5s, multiplier: 2, max_delay: 1m, jitter: 0.2}
  layers: {staging: {attempts: 5}}
  nodes: {mart_inventory_status: {attempts: 4, initial_delay: 1s}}
  retry_on: [transient, timeout]
  fallback_critical: true
escalation:
  analytics: {primary: "@asha", secondary: "@ravi", after: 30m}
`))
	if err != nil {
		log.Fatal(err)
	}
	p, err := recovery.NewPolicy(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.BackoffFor(recovery.Failure{Node: "stg_orders", Layer: "staging"}))
	fmt.Println(p.BackoffFor(recovery.Failure{Node: "mart_inventory_status", Layer: "marts"}))
	fmt.Println(cfg.Escalation.Contact("analytics", 45*time.Minute, false))

	_, err = recovery.ParseConfig([]byte("retries:\n  layers:\n    staging: {attempts: 0}\n"))
	fmt.Println(err)
	// Output:
	// 5 attempts, 5s ×2 up to 1m0s ±20%
	// 4 attempts, 1s ×2 up to 1m0s ±20%
	// @ravi
	// line 3: retries.layers.staging.attempts: must be at least 1 (1 = no retry), got 0
}
