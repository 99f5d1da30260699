// Package recovery decides what happens after a node fails: retry after a
// delay, or give up.
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
)

func (a Action) String() string {
	switch a {
	case Retry:
		return "retry"
	default:
		return "fail"
	}
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
	// Elapsed is how long the attempt ran.
	Elapsed time.Duration
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
