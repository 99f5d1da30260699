// Package recovery decides what happens after a node fails: retry after a
// backoff, fall back to the last good data, skip, or give up; and it
// classifies failures so that only those worth retrying are retried.
package recovery

import (
	"context"
	"time"
)

// Action is what to do about a failed attempt.
type Action int

// The actions.
const (
	// Fail gives up: the node fails and its downstream is skipped.
	Fail Action = iota
	// Retry runs the node again after Decision.Delay.
	Retry
	// Fallback gives up on building the node but keeps serving its last
	// good version: the node is reported as StatusFallback, its downstream
	// is skipped (and keeps serving its own last good versions).
	Fallback
	// Skip gives up without counting the node as failed.
	Skip
)

// String names the action: "fail", "retry", "fallback" or "skip".
func (a Action) String() string {
	switch a {
	case Retry:
		return "retry"
	case Fallback:
		return "fallback"
	case Skip:
		return "skip"
	default:
		return "fail"
	}
}

// Class is the kind of a failure.
type Class string

// The failure classes.
const (
	// ClassTransient failures may pass on a later attempt: a lock held by
	// another process, I/O errors, an unavailable source, out of memory.
	ClassTransient Class = "transient"
	// ClassTimeout is an attempt that ran past its timeout.
	ClassTimeout Class = "timeout"
	// ClassPermanent failures need a change: parser, binder and catalog
	// errors, constraint violations, bad configuration.
	ClassPermanent Class = "permanent"
	// ClassTestFailure is a data test that found failing rows.
	ClassTestFailure Class = "test_failure"
	// ClassSchemaChange is a source whose columns no longer match its
	// declaration.
	ClassSchemaChange Class = "schema_change"
	// ClassSourceMissing is a source table or file that does not exist.
	ClassSourceMissing Class = "source_missing"
	// ClassStaleSource is a source with no new data (empty, or its
	// loaded-at column older than its threshold).
	ClassStaleSource Class = "stale_source"
	// ClassCorruptData is a source with too many malformed rows.
	ClassCorruptData Class = "corrupt_data"
	// ClassCancelled is a run cancelled by its caller or by fail-fast.
	ClassCancelled Class = "cancelled"
)

// Classified is implemented by errors that know their class; Classify
// honours it before looking at anything else.
type Classified interface {
	FailureClass() Class
}

// Failure describes one failed attempt of a node.
type Failure struct {
	Node     string
	Kind     string
	Layer    string
	Critical bool
	// Attempt is 1 for the first attempt.
	Attempt int
	Err     error
	// Class is Classify(Err), filled in by the executor.
	Class Class
	// Elapsed is how long the attempt ran.
	Elapsed time.Duration
	// Backoff is the node's own retry settings, if it has any.
	Backoff *Backoff
	// Final is set when no further attempt is possible (the run's timeout
	// expired): the policy may only fail, skip or fall back.
	Final bool
}

// Decision is a RecoveryPolicy's answer.
type Decision struct {
	Action Action
	Delay  time.Duration
	Reason string
}

// RecoveryPolicy is consulted by the executor after every failed attempt.
type RecoveryPolicy interface {
	Decide(ctx context.Context, f Failure) Decision
}

// PolicyFunc adapts a function to RecoveryPolicy.
type PolicyFunc func(ctx context.Context, f Failure) Decision

// Decide calls p(ctx, f).
func (p PolicyFunc) Decide(ctx context.Context, f Failure) Decision { return p(ctx, f) }

// NoRetry is the policy that never retries.
var NoRetry RecoveryPolicy = PolicyFunc(func(context.Context, Failure) Decision {
	return Decision{Action: Fail, Reason: "no retry policy"}
})

// Backoff is a retry schedule: up to Attempts attempts in all, the n-th
// retry waiting InitialDelay × Multiplier^(n-1), capped at MaxDelay, then
// spread by ±Jitter (a fraction, 0.2 = ±20%).
//
// A zero field means "not set": WithDefaults (and Delay, and the Policy)
// take it from DefaultBackoff or from a less specific Backoff. A Backoff
// from ParseBackoff remembers an explicit 0 for initial_delay, max_delay
// and jitter, so that "jitter: 0" in a configuration disables jitter
// instead of meaning the default.
type Backoff struct {
	Attempts     int           `yaml:"attempts" json:"attempts"`
	InitialDelay time.Duration `yaml:"initial_delay" json:"initial_delay"`
	Multiplier   float64       `yaml:"multiplier" json:"multiplier"`
	MaxDelay     time.Duration `yaml:"max_delay" json:"max_delay"`
	Jitter       float64       `yaml:"jitter" json:"jitter"`

	// zeroSet records the fields explicitly set to 0 (see ParseBackoff);
	// WithDefaults leaves them at 0.
	zeroSet zeroFields
}
