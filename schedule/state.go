package schedule

import (
	"context"
	"maps"
	"sync"
	"time"
)

// The values of JobState.LastStatus.
const (
	// StatusRunning is stored when a run starts. Found at start-up, it
	// means the process stopped without recording the end of the run.
	StatusRunning = "running"
	// StatusSuccess is a run whose runner returned nil.
	StatusSuccess = "success"
	// StatusError is a run whose runner returned an error.
	StatusError = "error"
	// StatusTimeout is a run stopped by its job's Timeout.
	StatusTimeout = "timeout"
	// StatusCancelled is a run cancelled by OverlapCancel for a newer run.
	StatusCancelled = "cancelled"
	// StatusInterrupted is a run cancelled by the scheduler's shutdown (or
	// found running at start-up); its due time is run again on restart
	// according to the job's CatchUp policy.
	StatusInterrupted = "interrupted"
)

// The values of JobState.LastTrigger.
const (
	// TriggerScheduled is a run for a due time of the job's schedule.
	TriggerScheduled = "schedule"
	// TriggerCatchUp is a run for due times missed while the scheduler
	// was stopped.
	TriggerCatchUp = "catch-up"
	// TriggerManual is a run started by Scheduler.Trigger.
	TriggerManual = "manual"
)

// JobState is what the scheduler remembers about a job between restarts.
// Times are stored with (at least) microsecond precision.
type JobState struct {
	// Job is the job's name.
	Job string
	// LastDue is the latest due time of the schedule that was handled:
	// started, skipped (overlap, window) or given up (CatchUpNone). Due
	// times after it that are before the scheduler's start are missed.
	LastDue time.Time
	// LastStart and LastFinish are when the latest run (of any trigger)
	// started and finished.
	LastStart  time.Time
	LastFinish time.Time
	// LastStatus is one of the Status constants ("" before the first run).
	LastStatus string
	// LastError is the latest run's error message, if it failed.
	LastError string
	// LastTrigger says how the latest run was started (TriggerScheduled,
	// TriggerCatchUp or TriggerManual).
	LastTrigger string
	// LastSuccess is when a run last finished successfully.
	LastSuccess time.Time
	// LastDeadlineReported is the latest deadline time that was checked
	// and reported (met or missed), so that a deadline is reported once,
	// also across restarts.
	LastDeadlineReported time.Time
	// MissedDeadline is the latest missed deadline not yet followed by a
	// successful run; the next success reports it met, late.
	MissedDeadline time.Time
}

// StateStore persists JobStates. The scheduler saves a job's state after
// each start and finish of a run and after each skipped or given-up due
// time, from a single goroutine.
type StateStore interface {
	// Load returns every stored state by job name (an empty map when none).
	Load(ctx context.Context) (map[string]JobState, error)
	// Save stores st, replacing the state of st.Job.
	Save(ctx context.Context, st JobState) error
}

// MemoryState is a StateStore in memory, safe for concurrent use. It
// survives a Scheduler (a new Scheduler given the same MemoryState resumes
// where the old one stopped), not the process.
type MemoryState struct {
	mu sync.Mutex
	m  map[string]JobState
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{m: map[string]JobState{}} }

// Load returns a copy of the stored states.
func (s *MemoryState) Load(context.Context) (map[string]JobState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m), nil
}

// Save stores st.
func (s *MemoryState) Save(_ context.Context, st JobState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]JobState{}
	}
	s.m[st.Job] = st
	return nil
}
