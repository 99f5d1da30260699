package orchestrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

// Status is the outcome of a node or of a run.
type Status string

// Node and run statuses. Models, seeds, sources and tasks end in success,
// error or skipped; data tests end in pass, warn, fail, error or skipped.
const (
	StatusSuccess Status = "success"
	StatusPass    Status = "pass"
	StatusWarn    Status = "warn"
	StatusFail    Status = "fail"
	StatusError   Status = "error"
	StatusSkipped Status = "skipped"
	// StatusCancelled is a run interrupted by its context.
	StatusCancelled Status = "cancelled"
	// StatusFallback is a node that failed but whose last good version
	// keeps serving (a critical model under the recovery policy's
	// Fallback decision). Its downstream is skipped and keeps serving too.
	StatusFallback Status = "fallback"
)

// OK reports whether the status lets downstream nodes run.
func (s Status) OK() bool { return s == StatusSuccess || s == StatusPass || s == StatusWarn }

// Attempt is one try of a node.
type Attempt struct {
	Number    int            `json:"number"`
	StartedAt time.Time      `json:"started_at"`
	Duration  time.Duration  `json:"duration_ns"`
	Error     string         `json:"error,omitempty"`
	Class     recovery.Class `json:"class,omitempty"`
	// Decision is what the recovery policy decided after this attempt.
	Decision string `json:"decision,omitempty"`
	// Delay is the backoff before the next attempt.
	Delay time.Duration `json:"delay_ns,omitempty"`
}

// Serving says which version of a node's data is being served after it
// failed or was skipped: the one built by RunID at BuiltAt.
type Serving struct {
	RunID   string    `json:"run_id"`
	BuiltAt time.Time `json:"built_at"`
}

// NodeResult is what happened to one node in a run.
type NodeResult struct {
	Node     string `json:"unique_id"`
	Kind     Kind   `json:"resource_type"`
	Status   Status `json:"status"`
	Message  string `json:"message,omitempty"`
	Relation string `json:"relation,omitempty"`
	// Index is the 1-based order in which the node started (0 if it never did).
	Index int `json:"index,omitempty"`
	// ReadyAt is when all its upstream nodes had finished; StartedAt when a
	// thread picked it up; FinishedAt when its last attempt ended.
	ReadyAt    time.Time `json:"ready_at,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Wait is the time between ReadyAt and StartedAt (waiting for a thread);
	// ExecutionTime the time between StartedAt and FinishedAt.
	Wait          time.Duration `json:"wait_ns"`
	ExecutionTime time.Duration `json:"execution_time_ns"`
	RowsAffected  int64         `json:"rows_affected"`
	Failures      int64         `json:"failures,omitempty"`
	Attempts      []Attempt     `json:"attempts,omitempty"`
	// SkippedBecause names the failed upstream node of a skipped node, or the
	// reason ("fail-fast", "run cancelled").
	SkippedBecause string `json:"skipped_because,omitempty"`
	// Class is the failure class of the final error.
	Class recovery.Class `json:"class,omitempty"`
	// Serving is set for nodes that fell back or were skipped when the
	// run's LastGood lookup knows the version still being served.
	Serving *Serving `json:"serving,omitempty"`
	// Withheld, for a node that was built but not published (see
	// Publisher), says why; readers still see its previous version.
	Withheld string `json:"withheld,omitempty"`
	// Error is the final error, as text in JSON.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
	// CompiledSQL is the SQL that ran, if any (not written to JSON).
	CompiledSQL string `json:"-"`
}

// Run is the result of one execution of a pipeline selection.
type Run struct {
	ID         string        `json:"run_id"`
	Invocation string        `json:"invocation,omitempty"`
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt time.Time     `json:"finished_at"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Status     Status        `json:"status"`
	Threads    int           `json:"threads"`
	// Results are in the order nodes were planned (topological).
	Results []*NodeResult `json:"results"`
	// Publication is what the run made visible, when its Runner is a
	// Publisher (write–audit–publish); nil otherwise.
	Publication *Publication `json:"publication,omitempty"`
}

// Result returns the result for a node, or nil.
func (r *Run) Result(name string) *NodeResult {
	for _, res := range r.Results {
		if res.Node == name {
			return res
		}
	}
	return nil
}

// Counts tallies results by status.
func (r *Run) Counts() map[Status]int {
	c := map[Status]int{}
	for _, res := range r.Results {
		c[res.Status]++
	}
	return c
}

// OK reports whether every node passed (warnings allowed).
func (r *Run) OK() bool { return r.Status == StatusSuccess }

// Failed returns the results that failed (error, fail or fallback), in
// plan order.
func (r *Run) Failed() []*NodeResult {
	var out []*NodeResult
	for _, res := range r.Results {
		if res.Status == StatusError || res.Status == StatusFail || res.Status == StatusFallback {
			out = append(out, res)
		}
	}
	return out
}

// WriteResults writes the run as JSON (dbt's run_results.json role) to path,
// creating its directory. The file is replaced atomically.
func (r *Run) WriteResults(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write run results: %w", err)
	}
	// A temporary file of its own, so that concurrent runs (jobs of a
	// daemon) never interleave their writes; the last rename wins whole.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write run results: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write run results: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write run results: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write run results: %w", err)
	}
	return nil
}
