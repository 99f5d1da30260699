// Package orchestrate is the public entry point of dataops: a Pipeline of
// Nodes, the executor that runs a selection of them in dependency order, the
// Run it returns, and the events it emits to Observers.
package orchestrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

// Kind is what a node is: a seed, a source, a model, a data test or a task.
type Kind string

// The kinds of node.
const (
	KindSeed   Kind = "seed"
	KindSource Kind = "source"
	KindModel  Kind = "model"
	KindTest   Kind = "test"
	KindTask   Kind = "task"
)

// Priority orders ready nodes: higher priorities start first. The zero value
// means PriorityMedium.
type Priority int

// The priorities, lowest first.
const (
	PriorityLow      Priority = 1
	PriorityMedium   Priority = 2
	PriorityHigh     Priority = 3
	PriorityCritical Priority = 4
)

// Effective returns p, or PriorityMedium when p is unset.
func (p Priority) Effective() Priority {
	if p < PriorityLow || p > PriorityCritical {
		return PriorityMedium
	}
	return p
}

// String returns the lower-case name of the priority.
func (p Priority) String() string {
	switch p.Effective() {
	case PriorityLow:
		return "low"
	case PriorityHigh:
		return "high"
	case PriorityCritical:
		return "critical"
	default:
		return "medium"
	}
}

// ParsePriority parses "critical", "high", "medium" or "low" (any case).
// The empty string gives the zero Priority (medium).
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "low":
		return PriorityLow, nil
	case "medium":
		return PriorityMedium, nil
	case "high":
		return PriorityHigh, nil
	case "critical":
		return PriorityCritical, nil
	}
	return 0, fmt.Errorf("unknown priority %q (want critical, high, medium or low)", s)
}

// Node is one unit of work in a Pipeline.
//
// Spec carries what a backend needs to execute the node (for SQL projects a
// *project.Model, *project.Seed, *project.Source or *project.DataTest); Runner,
// when set, executes the node instead of the executor's default runner, which
// is how Go functions are plugged in as tasks.
type Node struct {
	Name string
	Kind Kind
	// Deps are the names of the nodes this node reads from.
	Deps []string
	// DepLocations optionally says where each dependency was declared
	// ("models/x.sql:12"), so an unknown dependency names its file and line.
	DepLocations map[string]string
	// Path is the project-relative file that defines the node, if any.
	Path  string
	Tags  []string
	Layer string
	// Owner is the owning team.
	Owner    string
	Priority Priority
	// Critical marks nodes whose data backs critical dashboards.
	Critical bool
	// Timeout bounds one attempt; zero means the run's default.
	Timeout time.Duration
	// Retry is the node's own retry schedule (from its config); nil leaves
	// it to the run's RecoveryPolicy.
	Retry *recovery.Backoff
	// TestOf names the node a data test is attached to (dbt build semantics:
	// that node's children wait for the test).
	TestOf string
	// Config holds selectable configuration as strings
	// (config.materialized:view selects on Config["materialized"]).
	Config map[string]string
	// Description is free text for listings.
	Description string
	// Spec is the backend payload.
	Spec any
	// Runner, when non-nil, runs this node.
	Runner Runner
}

// Pipeline is a set of nodes that can be run as a DAG. A loaded project is a
// Pipeline; NewPipeline makes one from nodes declared in Go.
type Pipeline interface {
	// Nodes returns every node of the pipeline. Callers must not modify them.
	Nodes() []*Node
}

type staticPipeline []*Node

func (p staticPipeline) Nodes() []*Node { return p }

// NewPipeline returns a Pipeline of the given nodes.
func NewPipeline(nodes ...*Node) Pipeline { return staticPipeline(nodes) }

// Outcome is what a Runner reports about a successful attempt.
type Outcome struct {
	// RowsAffected is the number of rows built or loaded; -1 when unknown.
	RowsAffected int64
	// Failures is the number of failing rows a data test found.
	Failures int64
	// Warn marks a data test that failed at warn severity.
	Warn bool
	// Message is a short human description ("CREATE TABLE", "pass").
	Message string
	// Relation is the relation the node built, if any.
	Relation string
	// CompiledSQL is the SQL that ran, if any.
	CompiledSQL string
}

// Runner executes one attempt of a node. It must honour ctx: when ctx is
// cancelled (timeout, fail-fast, interrupt) the work must stop.
type Runner interface {
	Run(ctx context.Context, n *Node) (Outcome, error)
}

// RunnerFunc adapts a function to the Runner interface.
type RunnerFunc func(ctx context.Context, n *Node) (Outcome, error)

// Run calls f(ctx, n).
func (f RunnerFunc) Run(ctx context.Context, n *Node) (Outcome, error) { return f(ctx, n) }

// TestFailure is the error a Runner returns when a data test fails at error
// severity. The node's status becomes StatusFail.
type TestFailure struct {
	Test     string
	Failures int64
	Message  string
}

// FailureClass classifies a failed data test for recovery.Classify.
func (e *TestFailure) FailureClass() recovery.Class { return recovery.ClassTestFailure }

func (e *TestFailure) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("test %s failed: %d failing rows", e.Test, e.Failures)
}
