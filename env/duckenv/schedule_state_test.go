package duckenv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/schedule"
)

// assertJobStates compares states time by time (the database gives UTC
// with microsecond precision).
func assertJobStates(t *testing.T, want, got map[string]schedule.JobState) {
	t.Helper()
	require.Len(t, got, len(want))
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, name)
		assert.Equal(t, w.Job, g.Job)
		assert.Equal(t, w.LastStatus, g.LastStatus, name)
		assert.Equal(t, w.LastError, g.LastError, name)
		assert.Equal(t, w.LastTrigger, g.LastTrigger, name)
		for _, p := range []struct {
			field string
			w, g  time.Time
		}{
			{"LastDue", w.LastDue, g.LastDue},
			{"LastStart", w.LastStart, g.LastStart},
			{"LastFinish", w.LastFinish, g.LastFinish},
			{"LastSuccess", w.LastSuccess, g.LastSuccess},
			{"LastDeadlineReported", w.LastDeadlineReported, g.LastDeadlineReported},
			{"MissedDeadline", w.MissedDeadline, g.MissedDeadline},
		} {
			assert.True(t, p.w.Truncate(time.Microsecond).Equal(p.g), "%s.%s: want %s, got %s", name, p.field, p.w, p.g)
			assert.Equal(t, p.w.IsZero(), p.g.IsZero(), "%s.%s", name, p.field)
		}
	}
}

func TestScheduleStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Name: "prod", Path: filepath.Join(t.TempDir(), "prod.duckdb")}
	e, err := Open(ctx, cfg)
	require.NoError(t, err)
	store := e.ScheduleState()
	got, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, 0, scalar[int](t, e, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'schedule_state'`),
		"Load does not create the table")

	ist := time.FixedZone("IST", 5*3600+1800)
	due := time.Date(2026, 3, 10, 6, 0, 0, 0, ist)
	want := map[string]schedule.JobState{
		"daily_sales": {
			Job: "daily_sales", LastDue: due, LastStart: due.Add(1234567 * time.Nanosecond),
			LastFinish: due.Add(3 * time.Minute), LastStatus: schedule.StatusError, LastError: "Binder Error: column x",
			LastTrigger: schedule.TriggerCatchUp, LastSuccess: due.Add(-24 * time.Hour),
			LastDeadlineReported: due.Add(time.Hour), MissedDeadline: due.Add(time.Hour),
		},
		"backup": {Job: "backup"},
	}
	for _, st := range want {
		require.NoError(t, store.Save(ctx, st))
	}
	// Saving again replaces the row.
	st := want["daily_sales"]
	st.LastStatus, st.LastError, st.LastSuccess, st.MissedDeadline = schedule.StatusSuccess, "", due.Add(5*time.Minute), time.Time{}
	require.NoError(t, store.Save(ctx, st))
	want["daily_sales"] = st
	got, err = store.Load(ctx)
	require.NoError(t, err)
	assertJobStates(t, want, got)
	assert.Error(t, store.Save(ctx, schedule.JobState{}), "a job name is required")
	require.NoError(t, e.Close())

	e, err = Open(ctx, cfg)
	require.NoError(t, err)
	defer e.Close()
	got, err = e.ScheduleState().Load(ctx)
	require.NoError(t, err)
	assertJobStates(t, want, got)
	assert.Equal(t, 2, scalar[int](t, e, `SELECT count(*) FROM "_dataops"."schedule_state"`))

	// The run history shares the hidden schema.
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r1", Status: "success", StartedAt: time.Now()}))
	runs, err := e.RunHistory(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, runs, 1)
}

func TestScheduleStateReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.duckdb")
	e, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	ro, err := Open(ctx, Config{Path: path, ReadOnly: true})
	require.NoError(t, err)
	defer ro.Close()
	got, err := ro.ScheduleState().Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Error(t, ro.ScheduleState().Save(ctx, schedule.JobState{Job: "a"}))
}

// ssHourly is due at the top of every hour.
type ssHourly struct{}

func (ssHourly) Next(after time.Time) time.Time { return after.Truncate(time.Hour).Add(time.Hour) }

// TestScheduleStateDrivesRestart runs a Scheduler on the DuckDB store: a
// manual run is recorded, survives reopening the database, and missed due
// times stored there are caught up once.
func TestScheduleStateDrivesRestart(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Path: filepath.Join(t.TempDir(), "dev.duckdb")}
	e, err := Open(ctx, cfg)
	require.NoError(t, err)

	// Three hours ago the job last handled a due time.
	lastDue := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	require.NoError(t, e.ScheduleState().Save(ctx, schedule.JobState{
		Job: "hourly", LastDue: lastDue, LastStatus: schedule.StatusSuccess, LastTrigger: schedule.TriggerScheduled,
	}))

	triggers := make(chan schedule.Trigger, 4)
	finished := make(chan schedule.Event, 4)
	run := func(e *Env) (*schedule.Scheduler, func()) {
		s, err := schedule.New(schedule.Options{
			State: e.ScheduleState(),
			Jobs:  []*schedule.Job{{Name: "hourly", Schedule: ssHourly{}, Operation: "refresh-staging"}},
			Runner: schedule.JobRunnerFunc(func(_ context.Context, _ *schedule.Job, t schedule.Trigger) error {
				triggers <- t
				return nil
			}),
			OnEvent: func(ev schedule.Event) {
				if ev.Type == schedule.EventFinished {
					finished <- ev
				}
			},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		return s, func() { cancel(); require.NoError(t, <-done) }
	}

	s, stop := run(e)
	tr := <-triggers
	<-finished
	assert.True(t, tr.CatchUp)
	assert.GreaterOrEqual(t, tr.Missed, 2)
	assert.True(t, tr.Due.After(lastDue))
	require.NoError(t, s.Trigger("hourly"))
	manual := <-triggers
	<-finished
	assert.False(t, manual.CatchUp)
	stop()
	require.NoError(t, e.Close())

	e, err = Open(ctx, cfg)
	require.NoError(t, err)
	defer e.Close()
	states, err := e.ScheduleState().Load(ctx)
	require.NoError(t, err)
	st := states["hourly"]
	assert.Equal(t, schedule.StatusSuccess, st.LastStatus)
	assert.Equal(t, schedule.TriggerManual, st.LastTrigger)
	assert.True(t, st.LastDue.Equal(tr.Due), "the catch-up run's due time is handled")
	assert.False(t, st.LastSuccess.IsZero())

	// Restarting on the reopened database does not run anything again.
	s, stop = run(e)
	up := s.NextRuns(time.Now())
	require.Len(t, up, 1)
	assert.Equal(t, schedule.StatusSuccess, up[0].LastStatus)
	stop()
	select {
	case tr := <-triggers:
		if tr.CatchUp {
			t.Fatalf("caught up again after a restart: %+v", tr)
		}
		// Only an hour boundary passing during the test may add a run.
		assert.True(t, tr.Due.After(st.LastDue))
	default:
	}
}
