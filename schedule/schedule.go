// Package schedule says when work runs: cron schedules in a time zone,
// windows in which work may (or may not) run, jobs with priorities, pools,
// overlap and catch-up policies and deadlines, and the Scheduler that runs
// them.
package schedule

import (
	"context"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// Schedule gives the next time something is due.
type Schedule interface {
	// Next returns the first due time strictly after after, or the zero
	// time when there is none.
	Next(after time.Time) time.Time
}

// Refresh is how a job rebuilds its models.
type Refresh string

// The refresh types of the seed's timetable.
const (
	RefreshIncremental Refresh = "incremental"
	RefreshFull        Refresh = "full"
)

// Overlap says what happens when a job is due while its previous run is
// still going.
type Overlap string

// The overlap policies.
const (
	// OverlapSkip drops the new run (the default).
	OverlapSkip Overlap = "skip"
	// OverlapQueue runs it once the previous run ends (at most one queued).
	OverlapQueue Overlap = "queue"
	// OverlapCancel cancels the running one and starts the new run.
	OverlapCancel Overlap = "cancel"
)

// CatchUp says what happens to due times missed while the scheduler was
// not running.
type CatchUp string

// The catch-up policies.
const (
	// CatchUpOnce runs once for everything missed (the default).
	CatchUpOnce CatchUp = "once"
	// CatchUpAll runs once per missed due time.
	CatchUpAll CatchUp = "all"
	// CatchUpNone skips what was missed.
	CatchUpNone CatchUp = "none"
)

// Job is scheduled work: a selection of the pipeline (or an operation such
// as a backup), when it runs and how.
type Job struct {
	Name string
	// Schedule says when the job is due.
	Schedule Schedule
	// Spec is the schedule as written ("0 6 * * *", "@hourly"), for display.
	Spec string
	// Select and Exclude choose the pipeline's nodes (dbt selector syntax).
	Select  []string
	Exclude []string
	// Operation names an operational job ("refresh-staging", "backup",
	// "snapshot-janitor") run by the Runner instead of a selection.
	Operation string
	Refresh   Refresh
	Priority  orchestrate.Priority
	// Timeout bounds one run of the job (0: none).
	Timeout time.Duration
	Owner   string
	// Pool names the resource pool the job runs in ("" is the default
	// pool); pools bound how many jobs of a kind run at once.
	Pool    string
	Overlap Overlap
	CatchUp CatchUp
	// Windows name the windows the job may start in (all must allow it);
	// Blackouts name windows in which it must not start.
	Windows   []string
	Blackouts []string
	// Deadline, when set, is when the job's data must be fresh: a missed
	// deadline is reported once per deadline time.
	Deadline Schedule
	// DeadlineSpec is the deadline as written, for display.
	DeadlineSpec string
	// Stagger delays the job's start by up to this much (deterministic per
	// job name) when several jobs are due at the same moment: the Scheduler
	// starts each scheduled run a fixed offset in [0, Stagger), a hash of
	// the name, after its due time.
	Stagger time.Duration
}

// Trigger is why a job run was started.
type Trigger struct {
	// Due is the due time the run is for (for a manual run, when it was
	// triggered); Started when it started.
	Due     time.Time
	Started time.Time
	// CatchUp marks a run for due times missed while the scheduler was
	// down; Missed counts them.
	CatchUp bool
	Missed  int
}

// JobRunner executes one run of a job. It must honour ctx (timeouts,
// cancellation by the overlap policy, shutdown).
type JobRunner interface {
	RunJob(ctx context.Context, job *Job, t Trigger) error
}

// JobRunnerFunc adapts a function to JobRunner.
type JobRunnerFunc func(ctx context.Context, job *Job, t Trigger) error

// RunJob calls f(ctx, job, t).
func (f JobRunnerFunc) RunJob(ctx context.Context, job *Job, t Trigger) error { return f(ctx, job, t) }
