package schedule

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// --- test-only schedules and windows (independent of ParseCron) ---

// scEvery is due at anchor + k*period.
type scEvery struct {
	anchor time.Time
	period time.Duration
}

func (e scEvery) Next(after time.Time) time.Time {
	if after.Before(e.anchor) {
		return e.anchor
	}
	return e.anchor.Add((after.Sub(e.anchor)/e.period + 1) * e.period)
}

// scHourlyAt is due every hour at minute m (UTC).
func scHourlyAt(m int) Schedule {
	return scEvery{time.Date(2000, 1, 1, 0, m, 0, 0, time.UTC), time.Hour}
}

// scDailyAt is due every day at h:m (UTC).
func scDailyAt(h, m int) Schedule {
	return scEvery{time.Date(2000, 1, 1, h, m, 0, 0, time.UTC), 24 * time.Hour}
}

// scLastDayOfMonth is due at hour h of each month's last day (UTC).
type scLastDayOfMonth struct{ hour int }

func (l scLastDayOfMonth) Next(after time.Time) time.Time {
	after = after.UTC()
	for i := 0; i < 3; i++ {
		first := time.Date(after.Year(), after.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC)
		t := first.AddDate(0, 1, -1).Add(time.Duration(l.hour) * time.Hour)
		if t.After(after) {
			return t
		}
	}
	return time.Time{}
}

// scTimes is due at fixed times.
type scTimes []time.Time

func (a scTimes) Next(after time.Time) time.Time {
	for _, t := range a {
		if t.After(after) {
			return t
		}
	}
	return time.Time{}
}

// scWindow is a window given by a function.
type scWindow func(time.Time) bool

func (w scWindow) Contains(t time.Time) bool { return w(t) }

// scHours is a daily window [from, to) in whole hours (UTC).
func scHours(from, to int) scWindow {
	return func(t time.Time) bool { h := t.UTC().Hour(); return h >= from && h < to }
}

// --- recording runner and events ---

type scRun struct {
	Job      string
	Trig     Trigger
	Start    time.Time
	End      time.Time
	Err      error
	Priority orchestrate.Priority
}

type scHarness struct {
	mu      sync.Mutex
	events  []Event
	runs    []scRun
	dur     map[string]time.Duration
	fail    func(job string, n int) error // n: 0-based run count of the job
	calls   map[string]int
	running map[string]int // by pool
	maxPool map[string]int
	maxAll  int
	nAll    int
}

func newSCHarness() *scHarness {
	return &scHarness{dur: map[string]time.Duration{}, calls: map[string]int{}, running: map[string]int{}, maxPool: map[string]int{}}
}

func (h *scHarness) OnEvent(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

func (h *scHarness) RunJob(ctx context.Context, job *Job, t Trigger) error {
	pool := job.Pool
	h.mu.Lock()
	n := h.calls[job.Name]
	h.calls[job.Name]++
	h.running[pool]++
	h.nAll++
	h.maxPool[pool] = max(h.maxPool[pool], h.running[pool])
	h.maxAll = max(h.maxAll, h.nAll)
	d := h.dur[job.Name]
	fail := h.fail
	idx := len(h.runs)
	h.runs = append(h.runs, scRun{Job: job.Name, Trig: t, Start: time.Now(), Priority: job.Priority})
	h.mu.Unlock()

	var err error
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil && fail != nil {
		err = fail(job.Name, n)
	}
	h.mu.Lock()
	h.running[pool]--
	h.nAll--
	h.runs[idx].End = time.Now()
	h.runs[idx].Err = err
	h.mu.Unlock()
	return err
}

func (h *scHarness) runsOf(job string) []scRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []scRun
	for _, r := range h.runs {
		if r.Job == job {
			out = append(out, r)
		}
	}
	return out
}

func (h *scHarness) eventsOf(typ EventType, job string) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if e.Type == typ && (job == "" || e.Job == job) {
			out = append(out, e)
		}
	}
	return out
}

func (h *scHarness) startOrder() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.runs {
		out = append(out, r.Job)
	}
	return out
}

// scSleepUntil advances the bubble's clock to t (synctest starts in 2000).
func scSleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
	synctest.Wait()
}

// scRunning is a Scheduler being run by a goroutine of the bubble.
type scRunning struct {
	*Scheduler
	cancel context.CancelFunc
	done   chan error
}

// scStart creates a Scheduler with h as runner and event sink and runs it.
func scStart(t *testing.T, h *scHarness, opts Options) *scRunning {
	t.Helper()
	opts.Runner = h
	opts.OnEvent = h.OnEvent
	s, err := New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &scRunning{Scheduler: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	synctest.Wait()
	return r
}

// stop cancels Run and waits for it to return nil.
func (r *scRunning) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	require.NoError(t, <-r.done)
}

func scTS(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }

// --- tests ---

func TestThirtyDaysTimetable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start0 := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
		scSleepUntil(start0)
		h := newSCHarness()
		h.dur["sources"] = 10 * time.Minute
		h.dur["dimensions"] = 30 * time.Minute
		h.dur["financial"] = 40 * time.Minute
		r := scStart(t, h, Options{
			MaxConcurrency: 1,
			Jobs: []*Job{
				{Name: "sources", Schedule: scHourlyAt(5), Priority: orchestrate.PriorityCritical},
				{Name: "dimensions", Schedule: scDailyAt(1, 0), Refresh: RefreshFull},
				{Name: "financial", Schedule: scLastDayOfMonth{hour: 23}, Priority: orchestrate.PriorityHigh},
			},
		})
		scSleepUntil(start0.Add(30 * 24 * time.Hour))
		r.stop(t)

		src, dims, fin := h.runsOf("sources"), h.runsOf("dimensions"), h.runsOf("financial")
		assert.Len(t, src, 30*24)
		assert.Len(t, dims, 30)
		require.Len(t, fin, 1)
		assert.True(t, fin[0].Trig.Due.Equal(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)))
		// Every due time exactly once, none caught up or skipped.
		for i, r := range src {
			assert.True(t, r.Trig.Due.Equal(start0.Add(time.Duration(i)*time.Hour+5*time.Minute)), "run %d due %s", i, r.Trig.Due)
			assert.False(t, r.Trig.CatchUp)
		}
		assert.Empty(t, h.eventsOf(EventSkipped, ""))
		assert.Empty(t, h.eventsOf(EventCaughtUp, ""))
		assert.Equal(t, 1, h.maxAll, "MaxConcurrency 1")
		// At 01:05 the hourly job waits for the daily one (queued), then runs.
		q := h.eventsOf(EventQueued, "sources")
		assert.Len(t, q, 30+1, "once a day behind dimensions, once behind financial")
		assert.True(t, src[25].Start.Equal(time.Date(2026, 1, 21, 1, 30, 0, 0, time.UTC)), "%s", src[25].Start)
	})
}

func TestPriorityOrderWhenJobsCollide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		due := scTimes{scTS(10, 2, 0)}
		for _, n := range []string{"alpha", "bravo", "charlie", "delta"} {
			h.dur[n] = time.Minute
		}
		r := scStart(t, h, Options{MaxConcurrency: 1, Jobs: []*Job{
			{Name: "alpha", Schedule: due, Priority: orchestrate.PriorityLow},
			{Name: "delta", Schedule: due, Priority: orchestrate.PriorityHigh},
			{Name: "bravo", Schedule: due, Priority: orchestrate.PriorityHigh},
			{Name: "charlie", Schedule: due, Priority: orchestrate.PriorityCritical},
		}})
		scSleepUntil(scTS(10, 3, 0))
		r.stop(t)
		assert.Equal(t, []string{"charlie", "bravo", "delta", "alpha"}, h.startOrder())
		assert.Len(t, h.eventsOf(EventQueued, ""), 3)
		for i, n := range []string{"charlie", "bravo", "delta", "alpha"} {
			assert.True(t, h.runsOf(n)[0].Start.Equal(scTS(10, 2, i)), n)
		}
	})
}

func TestCriticalWaitingGoesBeforeEarlierLow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["blocker"] = 30 * time.Minute
		h.dur["low"] = time.Minute
		h.dur["crit"] = time.Minute
		r := scStart(t, h, Options{MaxConcurrency: 1, Jobs: []*Job{
			{Name: "blocker", Schedule: scTimes{scTS(10, 0, 0)}},
			{Name: "low", Schedule: scTimes{scTS(10, 0, 5)}, Priority: orchestrate.PriorityLow},
			{Name: "crit", Schedule: scTimes{scTS(10, 0, 10)}, Priority: orchestrate.PriorityCritical},
		}})
		scSleepUntil(scTS(10, 1, 0))
		r.stop(t)
		assert.Equal(t, []string{"blocker", "crit", "low"}, h.startOrder())
		assert.True(t, h.runsOf("crit")[0].Start.Equal(scTS(10, 0, 30)))
		assert.True(t, h.runsOf("low")[0].Start.Equal(scTS(10, 0, 31)))
	})
}

func TestPoolLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		due := scTimes{scTS(10, 1, 0)}
		var jobs []*Job
		for _, n := range []string{"h1", "h2", "h3", "light"} {
			h.dur[n] = 10 * time.Minute
			j := &Job{Name: n, Schedule: due}
			if n != "light" {
				j.Pool = "heavy"
			}
			jobs = append(jobs, j)
		}
		r := scStart(t, h, Options{MaxConcurrency: 3, Pools: map[string]int{"heavy": 1}, Jobs: jobs})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		assert.Equal(t, 1, h.maxPool["heavy"])
		assert.Equal(t, 2, h.maxAll)
		assert.True(t, h.runsOf("h1")[0].Start.Equal(scTS(10, 1, 0)))
		assert.True(t, h.runsOf("light")[0].Start.Equal(scTS(10, 1, 0)))
		assert.True(t, h.runsOf("h2")[0].Start.Equal(scTS(10, 1, 10)))
		assert.True(t, h.runsOf("h3")[0].Start.Equal(scTS(10, 1, 20)))
		q := h.eventsOf(EventQueued, "h3")
		require.Len(t, q, 1)
		assert.Contains(t, q[0].Detail, `pool "heavy" limit 1`)
	})
}

func TestOverlap(t *testing.T) {
	every10 := scEvery{scTS(10, 0, 0), 10 * time.Minute}
	cases := []struct {
		policy  Overlap
		dues    []int // minutes of the due times that ran
		skipped []int
		status  []string
	}{
		{OverlapSkip, []int{0, 30}, []int{10, 20, 40, 50}, []string{StatusSuccess, StatusSuccess}},
		{"", []int{0, 30}, []int{10, 20, 40, 50}, []string{StatusSuccess, StatusSuccess}},
		{OverlapQueue, []int{0, 10, 30}, []int{20, 40}, []string{StatusSuccess, StatusSuccess, StatusSuccess}},
		{OverlapCancel, []int{0, 10, 20, 30, 40, 50}, nil, []string{StatusCancelled, StatusCancelled, StatusCancelled, StatusCancelled, StatusCancelled, StatusSuccess}},
	}
	for _, c := range cases {
		t.Run(string(c.policy), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scSleepUntil(scTS(10, 0, 0))
				h := newSCHarness()
				h.dur["j"] = 23 * time.Minute
				st := NewMemoryState()
				r := scStart(t, h, Options{State: st, ShutdownTimeout: time.Hour, Jobs: []*Job{
					{Name: "j", Schedule: every10, Overlap: c.policy},
				}})
				scSleepUntil(scTS(10, 0, 55))
				r.stop(t)
				runs := h.runsOf("j")
				var gotDues, gotSkipped []int
				var statuses []string
				for _, r := range runs {
					gotDues = append(gotDues, r.Trig.Due.Minute())
					switch {
					case r.Err == nil:
						statuses = append(statuses, StatusSuccess)
					case errors.Is(r.Err, context.Canceled):
						statuses = append(statuses, StatusCancelled)
					default:
						statuses = append(statuses, r.Err.Error())
					}
				}
				for _, e := range h.eventsOf(EventSkipped, "j") {
					gotSkipped = append(gotSkipped, e.Due.Minute())
					assert.True(t, strings.HasPrefix(e.Detail, "overlap:"), e.Detail)
				}
				assert.Equal(t, c.dues, gotDues)
				assert.Equal(t, c.skipped, gotSkipped)
				assert.Equal(t, c.status, statuses)
				if c.policy == OverlapCancel {
					assert.Len(t, h.eventsOf(EventCancelled, "j"), 5)
					for _, r := range runs {
						assert.True(t, r.Start.Equal(r.Trig.Due), "the new run starts as soon as the old one returns")
					}
					states, _ := st.Load(context.Background())
					assert.Equal(t, StatusSuccess, states["j"].LastStatus)
				}
				if c.policy == OverlapQueue {
					assert.True(t, runs[1].Start.Equal(scTS(10, 0, 23)))
					assert.True(t, runs[2].Start.Equal(scTS(10, 0, 46)))
				}
			})
		})
	}
}

// scCatchUpScenario runs an hourly job 00:00-02:30, stops for six hours and
// restarts at 08:30 on the same state, running until 09:30.
func scCatchUpScenario(t *testing.T, policy CatchUp) *scHarness {
	h := newSCHarness()
	h.dur["j"] = time.Minute
	st := NewMemoryState()
	opts := Options{State: st, Jobs: []*Job{{Name: "j", Schedule: scHourlyAt(0), CatchUp: policy}}}
	scSleepUntil(scTS(10, 0, 0))
	r := scStart(t, h, opts)
	scSleepUntil(scTS(10, 2, 30))
	r.stop(t)
	require.Len(t, h.runsOf("j"), 3)
	scSleepUntil(scTS(10, 8, 30)) // six hours down
	r = scStart(t, h, opts)
	scSleepUntil(scTS(10, 9, 30))
	r.stop(t)
	return h
}

func TestCatchUpOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := scCatchUpScenario(t, CatchUpOnce)
		runs := h.runsOf("j")
		require.Len(t, runs, 5)
		c := runs[3]
		assert.Equal(t, Trigger{Due: scTS(10, 8, 0), Started: scTS(10, 8, 30), CatchUp: true, Missed: 6}, scNormalize(c.Trig))
		assert.Equal(t, Trigger{Due: scTS(10, 9, 0), Started: scTS(10, 9, 0)}, scNormalize(runs[4].Trig))
		ev := h.eventsOf(EventCaughtUp, "j")
		require.Len(t, ev, 1)
		assert.Contains(t, ev[0].Detail, "6 missed due times since 2026-03-10T03:00:00Z")
	})
}

func TestCatchUpAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := scCatchUpScenario(t, CatchUpAll)
		runs := h.runsOf("j")
		require.Len(t, runs, 3+6+1)
		for i, r := range runs[3:9] {
			assert.Equal(t, Trigger{Due: scTS(10, 3+i, 0), Started: scTS(10, 8, 30+i), CatchUp: true, Missed: 1}, scNormalize(r.Trig))
		}
		assert.False(t, runs[9].Trig.CatchUp)
		assert.True(t, runs[9].Trig.Due.Equal(scTS(10, 9, 0)))
		require.Len(t, h.eventsOf(EventCaughtUp, "j"), 1)
	})
}

func TestCatchUpNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := scCatchUpScenario(t, CatchUpNone)
		runs := h.runsOf("j")
		require.Len(t, runs, 4)
		assert.Equal(t, Trigger{Due: scTS(10, 9, 0), Started: scTS(10, 9, 0)}, scNormalize(runs[3].Trig))
		sk := h.eventsOf(EventSkipped, "j")
		require.Len(t, sk, 1)
		assert.Contains(t, sk[0].Detail, "6 missed due times not run")
		assert.Empty(t, h.eventsOf(EventCaughtUp, "j"))
	})
}

func TestCatchUpAllIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSCHarness()
		st := NewMemoryState()
		minutely := scEvery{scTS(1, 0, 0), time.Minute}
		opts := Options{State: st, Jobs: []*Job{{Name: "j", Schedule: minutely, CatchUp: CatchUpAll}}}
		scSleepUntil(scTS(10, 0, 0))
		r := scStart(t, h, opts)
		scSleepUntil(scTS(10, 0, 0).Add(30 * time.Second))
		r.stop(t)
		down := scTS(10, 0, 0).Add(2000*time.Minute + 30*time.Second)
		scSleepUntil(down)
		r = scStart(t, h, opts)
		r.stop(t)
		runs := h.runsOf("j")
		require.Len(t, runs, 1+MaxCatchUpRuns)
		first, last := runs[1].Trig, runs[len(runs)-1].Trig
		assert.True(t, first.Due.Equal(scTS(10, 0, 0).Add(1001*time.Minute)), "the oldest are dropped: %s", first.Due)
		assert.True(t, last.Due.Equal(scTS(10, 0, 0).Add(2000*time.Minute)))
		ev := h.eventsOf(EventCaughtUp, "j")
		require.Len(t, ev, 1)
		assert.Equal(t, "catch-up all: 2000 missed due times, 1000 runs (the 1000 oldest dropped)", ev[0].Detail)
	})
}

// scNormalize drops monotonic clock readings and locations so Triggers compare.
func scNormalize(tr Trigger) Trigger {
	tr.Due, tr.Started = tr.Due.UTC().Round(0), tr.Started.UTC().Round(0)
	return tr
}

// TestClockJumpIsCaughtUpOnce: when the loop wakes up late (the process
// was suspended, the clock jumped), the due times that passed are caught up
// per the job's policy, not run once each.
func TestClockJumpIsCaughtUpOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		var mu sync.Mutex
		var jump time.Duration
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(jump) }
		r := scStart(t, h, Options{Now: now, Jobs: []*Job{{Name: "j", Schedule: scHourlyAt(0)}}})
		scSleepUntil(scTS(10, 0, 30))
		mu.Lock()
		jump = 6 * time.Hour
		mu.Unlock()
		scSleepUntil(scTS(10, 2, 30)) // 08:30 on the scheduler's clock
		r.stop(t)
		runs := h.runsOf("j")
		require.Len(t, runs, 3)
		assert.Equal(t, Trigger{Due: scTS(10, 7, 0), Started: scTS(10, 7, 0), CatchUp: true, Missed: 7}, scNormalize(runs[1].Trig))
		assert.Equal(t, Trigger{Due: scTS(10, 8, 0), Started: scTS(10, 8, 0)}, scNormalize(runs[2].Trig))
		require.Len(t, h.eventsOf(EventCaughtUp, "j"), 1)
	})
}

func TestDeadlineMissedOnceThenMetLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSCHarness()
		h.dur["sales"] = 10 * time.Minute
		h.fail = func(job string, n int) error {
			if n == 0 {
				return errors.New("source not loaded")
			}
			return nil
		}
		st := NewMemoryState()
		opts := Options{State: st, Jobs: []*Job{{
			Name: "sales", Schedule: scDailyAt(6, 0), Deadline: scDailyAt(7, 0), DeadlineSpec: "0 7 * * *",
		}}}
		scSleepUntil(scTS(10, 5, 0))
		r := scStart(t, h, opts)
		scSleepUntil(scTS(10, 7, 30))
		r.stop(t)
		missed := h.eventsOf(EventDeadlineMissed, "sales")
		require.Len(t, missed, 1)
		assert.True(t, missed[0].Due.Equal(scTS(10, 7, 0)))

		// A restart does not report the same deadline again.
		scSleepUntil(scTS(10, 7, 31))
		r = scStart(t, h, opts)
		assert.Len(t, h.eventsOf(EventDeadlineMissed, "sales"), 1)
		scSleepUntil(scTS(10, 8, 0))
		require.NoError(t, r.Trigger("sales"))
		scSleepUntil(scTS(10, 8, 15))
		met := h.eventsOf(EventDeadlineMet, "sales")
		require.Len(t, met, 1)
		assert.Equal(t, "late by 1h10m0s", met[0].Detail)
		assert.True(t, met[0].Due.Equal(scTS(10, 7, 0)))

		// The next day's run is on time.
		scSleepUntil(scTS(11, 7, 30))
		r.stop(t)
		met = h.eventsOf(EventDeadlineMet, "sales")
		require.Len(t, met, 2)
		assert.Equal(t, "on time", met[1].Detail)
		assert.Len(t, h.eventsOf(EventDeadlineMissed, "sales"), 1)
		states, _ := st.Load(context.Background())
		assert.True(t, states["sales"].LastDeadlineReported.Equal(scTS(11, 7, 0)))
		assert.True(t, states["sales"].MissedDeadline.IsZero())
	})
}

func TestDeadlinePassedWhileStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSCHarness()
		st := NewMemoryState()
		opts := Options{State: st, Jobs: []*Job{{Name: "j", Schedule: scDailyAt(6, 0), Deadline: scDailyAt(7, 0), CatchUp: CatchUpNone}}}
		scSleepUntil(scTS(10, 5, 0))
		r := scStart(t, h, opts)
		scSleepUntil(scTS(10, 7, 30)) // met on time
		r.stop(t)
		scSleepUntil(scTS(12, 12, 0)) // down over two deadline times
		r = scStart(t, h, opts)
		r.stop(t)
		missed := h.eventsOf(EventDeadlineMissed, "j")
		require.Len(t, missed, 2)
		assert.True(t, missed[0].Due.Equal(scTS(11, 7, 0)))
		assert.True(t, missed[1].Due.Equal(scTS(12, 7, 0)))
		// ... and not again after another restart.
		r = scStart(t, h, opts)
		r.stop(t)
		assert.Len(t, h.eventsOf(EventDeadlineMissed, "j"), 2)
	})
}

func TestRestartMidDayDoesNotDoubleRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newSCHarness()
		h.dur["hourly"] = time.Minute
		h.dur["daily"] = 20 * time.Minute
		st := NewMemoryState()
		opts := Options{State: st, MaxConcurrency: 2, ShutdownTimeout: 10 * time.Minute, Jobs: []*Job{
			{Name: "hourly", Schedule: scHourlyAt(5)},
			{Name: "daily", Schedule: scDailyAt(6, 0)},
		}}
		scSleepUntil(scTS(10, 0, 0))
		r := scStart(t, h, opts)
		scSleepUntil(scTS(10, 12, 30))
		r.stop(t)
		r = scStart(t, h, opts) // same instant
		scSleepUntil(scTS(10, 18, 5).Add(30 * time.Second))
		r.stop(t) // the 18:05 run finishes within the shutdown timeout
		scSleepUntil(scTS(10, 18, 7))
		r = scStart(t, h, opts)
		scSleepUntil(scTS(11, 0, 0))
		r.stop(t)

		hourly := h.runsOf("hourly")
		require.Len(t, hourly, 24)
		for i, r := range hourly {
			assert.True(t, r.Trig.Due.Equal(scTS(10, i, 5)), "%d: %s", i, r.Trig.Due)
			assert.NoError(t, r.Err)
		}
		assert.Len(t, h.runsOf("daily"), 1)
		assert.Empty(t, h.eventsOf(EventCaughtUp, ""))
	})
}

// scUsage is a ResourceSampler returning a function of time.
type scUsage struct {
	mu    sync.Mutex
	calls int
	f     func(time.Time) Usage
}

func (u *scUsage) Sample(context.Context) (Usage, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	return u.f(time.Now()), nil
}

func TestResourceWaitBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["segments"] = time.Minute
		h.dur["inventory"] = time.Minute
		res := &scUsage{f: func(time.Time) Usage { return Usage{CPU: 0.95, Memory: 0.4} }}
		r := scStart(t, h, Options{MaxConcurrency: 2, Resources: res, Jobs: []*Job{
			{Name: "segments", Schedule: scTimes{scTS(10, 1, 0)}, Priority: orchestrate.PriorityLow},
			{Name: "inventory", Schedule: scTimes{scTS(10, 1, 0)}, Priority: orchestrate.PriorityHigh},
		}})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		assert.True(t, h.runsOf("inventory")[0].Start.Equal(scTS(10, 1, 0)), "high priority does not wait")
		seg := h.runsOf("segments")
		require.Len(t, seg, 1)
		assert.True(t, seg[0].Start.Equal(scTS(10, 1, 15)), "starts after MaxResourceWait (default 15m): %s", seg[0].Start)
		w := h.eventsOf(EventWaitedForResources, "segments")
		require.Len(t, w, 1)
		assert.Equal(t, "waited 15m0s, the limit (cpu at 95% (threshold 90%)); starting anyway", w[0].Detail)
		q := h.eventsOf(EventQueued, "segments")
		require.Len(t, q, 1)
		assert.Contains(t, q[0].Detail, "waiting for resources")
		// Re-checked every 30s, not polled: 00:00, 00:30, ..., 15:00, plus
		// once when inventory finished at 01:01.
		assert.Equal(t, 32, res.calls)
	})
}

func TestResourceWaitEndsWhenResourcesFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		free := scTS(10, 1, 2).Add(10 * time.Second)
		res := &scUsage{f: func(now time.Time) Usage {
			if now.Before(free) {
				return Usage{DuckDBMemory: 0.97}
			}
			return Usage{DuckDBMemory: 0.2}
		}}
		r := scStart(t, h, Options{Resources: res, ResourceThreshold: 0.95, Jobs: []*Job{
			{Name: "segments", Schedule: scTimes{scTS(10, 1, 0)}},
		}})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		seg := h.runsOf("segments")
		require.Len(t, seg, 1)
		assert.True(t, seg[0].Start.Equal(scTS(10, 1, 2).Add(30*time.Second)), "%s", seg[0].Start)
		w := h.eventsOf(EventWaitedForResources, "segments")
		require.Len(t, w, 1)
		assert.Equal(t, "waited 2m30s (duckdb memory at 97% (threshold 95%))", w[0].Detail)
	})
}

func TestCriticalJobHoldsBackLowStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["inventory"] = 20*time.Minute + 10*time.Second
		h.dur["sales"] = 5 * time.Minute
		h.dur["segments"] = 5 * time.Minute
		r := scStart(t, h, Options{MaxConcurrency: 3, MaxResourceWait: 30 * time.Minute, Jobs: []*Job{
			{Name: "inventory", Schedule: scTimes{scTS(10, 1, 0)}, Priority: orchestrate.PriorityCritical},
			{Name: "sales", Schedule: scTimes{scTS(10, 1, 5)}, Priority: orchestrate.PriorityHigh},
			{Name: "segments", Schedule: scTimes{scTS(10, 1, 5)}, Priority: orchestrate.PriorityLow},
		}})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		assert.True(t, h.runsOf("sales")[0].Start.Equal(scTS(10, 1, 5)))
		seg := h.runsOf("segments")[0]
		assert.True(t, seg.Start.Equal(scTS(10, 1, 20).Add(10*time.Second)), "starts when the critical job ends: %s", seg.Start)
		w := h.eventsOf(EventWaitedForResources, "segments")
		require.Len(t, w, 1)
		assert.Equal(t, `waited 15m10s (critical job "inventory" is running)`, w[0].Detail)
	})
}

func TestShutdownLetsRunningJobFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["j"] = 5 * time.Minute
		st := NewMemoryState()
		r := scStart(t, h, Options{State: st, ShutdownTimeout: 10 * time.Minute, Jobs: []*Job{{Name: "j", Schedule: scDailyAt(0, 0)}}})
		scSleepUntil(scTS(10, 0, 1))
		r.cancel()
		err := <-r.done
		require.NoError(t, err)
		assert.True(t, time.Now().Equal(scTS(10, 0, 5)), "Run returns when the job ends: %s", time.Now())
		runs := h.runsOf("j")
		require.Len(t, runs, 1)
		assert.NoError(t, runs[0].Err)
		assert.Empty(t, h.eventsOf(EventCancelled, ""))
		states, _ := st.Load(context.Background())
		assert.Equal(t, StatusSuccess, states["j"].LastStatus)
	})
}

func TestShutdownCancelsAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["j"] = time.Hour
		st := NewMemoryState()
		opts := Options{State: st, ShutdownTimeout: time.Minute, Jobs: []*Job{{Name: "j", Schedule: scDailyAt(0, 0)}}}
		r := scStart(t, h, opts)
		scSleepUntil(scTS(10, 0, 1))
		r.cancel()
		require.NoError(t, <-r.done)
		assert.True(t, time.Now().Equal(scTS(10, 0, 2)), "cancelled after the shutdown timeout: %s", time.Now())
		runs := h.runsOf("j")
		require.Len(t, runs, 1)
		assert.ErrorIs(t, runs[0].Err, context.Canceled)
		require.Len(t, h.eventsOf(EventCancelled, "j"), 1)
		states, _ := st.Load(context.Background())
		assert.Equal(t, StatusInterrupted, states["j"].LastStatus)

		// The interrupted due time is caught up on restart.
		h.dur["j"] = time.Minute
		scSleepUntil(scTS(10, 0, 10))
		r = scStart(t, h, opts)
		scSleepUntil(scTS(10, 0, 20))
		r.stop(t)
		runs = h.runsOf("j")
		require.Len(t, runs, 2)
		assert.Equal(t, Trigger{Due: scTS(10, 0, 0), Started: scTS(10, 0, 10), CatchUp: true, Missed: 1}, scNormalize(runs[1].Trig))
	})
}

func TestJobTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["j"] = time.Hour
		st := NewMemoryState()
		r := scStart(t, h, Options{State: st, Jobs: []*Job{{Name: "j", Schedule: scTimes{scTS(10, 1, 0)}, Timeout: 10 * time.Minute}}})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		runs := h.runsOf("j")
		require.Len(t, runs, 1)
		assert.True(t, runs[0].End.Equal(scTS(10, 1, 10)))
		states, _ := st.Load(context.Background())
		assert.Equal(t, StatusTimeout, states["j"].LastStatus)
		fin := h.eventsOf(EventFinished, "j")
		require.Len(t, fin, 1)
		assert.ErrorIs(t, fin[0].Err, context.DeadlineExceeded)
	})
}

func TestTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["j"] = 10 * time.Minute
		opts := Options{
			Windows: map[string]interface{ Contains(time.Time) bool }{"never": scWindow(func(time.Time) bool { return false })},
			Jobs:    []*Job{{Name: "j", Schedule: scDailyAt(23, 0), Windows: []string{"never"}}},
		}
		opts.Runner = h
		s, err := New(opts)
		require.NoError(t, err)
		assert.ErrorIs(t, s.Trigger("j"), ErrNotRunning)

		r := scStart(t, h, opts)
		assert.ErrorIs(t, r.Trigger("nope"), ErrUnknownJob)
		scSleepUntil(scTS(10, 1, 0))
		require.NoError(t, r.Trigger("j"))
		synctest.Wait()
		runs := h.runsOf("j")
		require.Len(t, runs, 1, "manual runs ignore windows")
		assert.Equal(t, Trigger{Due: scTS(10, 1, 0), Started: scTS(10, 1, 0)}, scNormalize(runs[0].Trig))
		started := h.eventsOf(EventStarted, "j")
		require.Len(t, started, 1)
		assert.Equal(t, TriggerManual, started[0].Detail)
		assert.ErrorIs(t, r.Trigger("j"), ErrJobBusy, "overlap skip while it runs")
		up := r.NextRuns(time.Now())
		require.Len(t, up, 1)
		assert.True(t, up[0].Running)
		assert.True(t, up[0].Next.Equal(scTS(10, 23, 0)))
		r.stop(t)
		assert.ErrorIs(t, r.Trigger("j"), ErrNotRunning)
	})
}

func TestWindowsAndBlackouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 5, 30))
		h := newSCHarness()
		wins := map[string]interface{ Contains(time.Time) bool }{
			"business": scHours(9, 17),
			"lunch":    scHours(12, 13),
			"maint":    scHours(14, 16),
		}
		r := scStart(t, h, Options{Windows: wins, MaxConcurrency: 3, Jobs: []*Job{
			{Name: "hourly", Schedule: scHourlyAt(0), Windows: []string{"business"}},
			{Name: "daily", Schedule: scDailyAt(6, 0), Windows: []string{"business"}},
			{Name: "blackouts", Schedule: scHourlyAt(30), Blackouts: []string{"lunch", "maint"}},
		}})
		scSleepUntil(scTS(10, 17, 45))
		r.stop(t)

		// Outside the window and no opening before the next due time: skipped.
		var hourly []int
		for _, r := range h.runsOf("hourly") {
			hourly = append(hourly, r.Trig.Due.Hour())
			assert.True(t, r.Start.Equal(r.Trig.Due))
		}
		assert.Equal(t, []int{9, 10, 11, 12, 13, 14, 15, 16}, hourly)
		var skippedHours []int
		for _, e := range h.eventsOf(EventSkipped, "hourly") {
			skippedHours = append(skippedHours, e.Due.Hour())
			assert.Contains(t, e.Detail, `outside window "business"; no opening before the next due time`)
		}
		assert.Equal(t, []int{6, 7, 8, 17}, skippedHours)

		// Opening before the next due time: deferred to it.
		daily := h.runsOf("daily")
		require.Len(t, daily, 1)
		assert.True(t, daily[0].Trig.Due.Equal(scTS(10, 6, 0)))
		assert.True(t, daily[0].Start.Equal(scTS(10, 9, 0)), "deferred to the window's opening: %s", daily[0].Start)
		def := h.eventsOf(EventDeferred, "daily")
		require.Len(t, def, 1)
		assert.Contains(t, def[0].Detail, "deferred until 2026-03-10T09:00:00Z")

		// Blackouts: 12:30 waits for 13:00, 14:30 is skipped (the blackout
		// ends after 15:30), 15:30 waits for 16:00.
		started := map[int]time.Time{}
		var dues []int
		for _, r := range h.runsOf("blackouts") {
			dues = append(dues, r.Trig.Due.Hour())
			started[r.Trig.Due.Hour()] = r.Start
		}
		assert.Equal(t, []int{5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17}, dues)
		assert.True(t, started[12].Equal(scTS(10, 13, 0)), "%s", started[12])
		assert.True(t, started[15].Equal(scTS(10, 16, 0)), "%s", started[15])
		assert.True(t, started[16].Equal(scTS(10, 16, 30)), "%s", started[16])
		sk := h.eventsOf(EventSkipped, "blackouts")
		require.Len(t, sk, 1)
		assert.True(t, sk[0].Due.Equal(scTS(10, 14, 30)))
		assert.Contains(t, sk[0].Detail, `in blackout "maint"`)
		assert.Len(t, h.eventsOf(EventDeferred, "blackouts"), 2)
	})
}

func TestWindowDeferralToTheSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		opens := scTS(10, 3, 17).Add(42 * time.Second)
		r := scStart(t, h, Options{
			Windows: map[string]interface{ Contains(time.Time) bool }{"w": scWindow(func(t time.Time) bool { return !t.Before(opens) })},
			Jobs:    []*Job{{Name: "j", Schedule: scTimes{scTS(10, 1, 0)}, Windows: []string{"w"}}},
		})
		scSleepUntil(scTS(10, 4, 0))
		r.stop(t)
		runs := h.runsOf("j")
		require.Len(t, runs, 1)
		assert.True(t, runs[0].Start.Equal(opens), "%s", runs[0].Start)
	})
}

// scOpener is a window that opens at a fixed time and says so.
type scOpener struct {
	opens    time.Time
	contains int
}

func (o *scOpener) Contains(t time.Time) bool { o.contains++; return !t.Before(o.opens) }

func (o *scOpener) NextOpen(t time.Time) time.Time {
	if t.Before(o.opens) {
		return o.opens
	}
	return t
}

func TestSchedulerUsesWindowNextOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		w := &scOpener{opens: scTS(25, 7, 0)}
		r := scStart(t, h, Options{
			Windows: map[string]interface{ Contains(time.Time) bool }{"w": w},
			Jobs:    []*Job{{Name: "j", Schedule: scTimes{scTS(10, 1, 0)}, Windows: []string{"w"}}},
		})
		scSleepUntil(scTS(25, 8, 0))
		r.stop(t)
		runs := h.runsOf("j")
		require.Len(t, runs, 1)
		assert.True(t, runs[0].Start.Equal(w.opens))
		assert.LessOrEqual(t, w.contains, 2, "no minute-by-minute search")
	})
}

// TestDeferredRunMeetsQueuedRun: a run deferred by a window that comes back
// while the job's overlap-queued run still waits for a slot is dropped, not
// queued a second time.
func TestDeferredRunMeetsQueuedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["j"] = 25 * time.Minute
		h.dur["hog"] = 10 * time.Minute
		closed := func(t time.Time) bool { return !t.Before(scTS(10, 0, 15)) && t.Before(scTS(10, 0, 30)) }
		r := scStart(t, h, Options{
			MaxConcurrency: 1,
			Windows:        map[string]interface{ Contains(time.Time) bool }{"w": scWindow(func(t time.Time) bool { return !closed(t) })},
			Jobs: []*Job{
				{Name: "j", Schedule: scTimes{scTS(10, 0, 0), scTS(10, 0, 10), scTS(10, 0, 20)}, Windows: []string{"w"}, Overlap: OverlapQueue},
				{Name: "hog", Schedule: scTimes{scTS(10, 0, 24)}, Priority: orchestrate.PriorityCritical},
			},
		})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		assert.Equal(t, []string{"j", "hog", "j"}, h.startOrder())
		runs := h.runsOf("j")
		require.Len(t, runs, 2)
		assert.True(t, runs[1].Trig.Due.Equal(scTS(10, 0, 10)))
		assert.True(t, runs[1].Start.Equal(scTS(10, 0, 35)))
		sk := h.eventsOf(EventSkipped, "j")
		require.Len(t, sk, 1)
		assert.True(t, sk[0].Due.Equal(scTS(10, 0, 20)))
		assert.Equal(t, "overlap: a previous run is still waiting to start", sk[0].Detail)
		assert.Len(t, h.eventsOf(EventDeferred, "j"), 1)
	})
}

func TestStagger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		names := []string{"stg_orders", "stg_customers", "stg_products"}
		var jobs []*Job
		for _, n := range names {
			jobs = append(jobs, &Job{Name: n, Schedule: scTimes{scTS(10, 1, 0)}, Stagger: 10 * time.Minute})
		}
		r := scStart(t, h, Options{MaxConcurrency: 5, Jobs: jobs})
		scSleepUntil(scTS(10, 2, 0))
		r.stop(t)
		seen := map[time.Duration]bool{}
		for _, n := range names {
			runs := h.runsOf(n)
			require.Len(t, runs, 1)
			off := staggerOffset(n, 10*time.Minute)
			assert.True(t, off >= 0 && off < 10*time.Minute)
			assert.Equal(t, off, off.Truncate(time.Second))
			assert.True(t, runs[0].Trig.Due.Equal(scTS(10, 1, 0)))
			assert.True(t, runs[0].Start.Equal(scTS(10, 1, 0).Add(off)), "%s starts %s", n, runs[0].Start)
			seen[off] = true
		}
		assert.Len(t, seen, 3, "different names, different offsets")
		assert.Equal(t, staggerOffset("stg_orders", 10*time.Minute), staggerOffset("stg_orders", 10*time.Minute))
	})
}

func TestNextRunsFromState(t *testing.T) {
	st := NewMemoryState()
	last := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	require.NoError(t, st.Save(context.Background(), JobState{Job: "daily", LastStart: last, LastStatus: StatusError, LastError: "boom"}))
	s, err := New(Options{Runner: JobRunnerFunc(func(context.Context, *Job, Trigger) error { return nil }), State: st, Jobs: []*Job{
		{Name: "daily", Schedule: scDailyAt(6, 0)},
		{Name: "hourly", Schedule: scHourlyAt(5)},
		{Name: "done", Schedule: scTimes{}},
	}})
	require.NoError(t, err)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	up := s.NextRuns(now)
	require.Len(t, up, 3)
	assert.Equal(t, "hourly", up[0].Job.Name)
	assert.True(t, up[0].Next.Equal(now.Add(5*time.Minute)))
	assert.Equal(t, "daily", up[1].Job.Name)
	assert.True(t, up[1].LastRun.Equal(last))
	assert.Equal(t, StatusError, up[1].LastStatus)
	assert.Equal(t, "boom", up[1].LastError)
	assert.Equal(t, "done", up[2].Job.Name)
	assert.True(t, up[2].Next.IsZero())
}

func TestNewValidates(t *testing.T) {
	run := JobRunnerFunc(func(context.Context, *Job, Trigger) error { return nil })
	sched := scHourlyAt(0)
	wins := map[string]interface{ Contains(time.Time) bool }{"w": scHours(1, 2)}
	cases := map[string]struct {
		opts Options
		want string
	}{
		"no runner":        {Options{}, "Runner is nil"},
		"duplicate":        {Options{Runner: run, Jobs: []*Job{{Name: "a", Schedule: sched}, {Name: "a", Schedule: sched}}}, `job "a": duplicate name`},
		"nil schedule":     {Options{Runner: run, Jobs: []*Job{{Name: "a"}}}, `job "a": no schedule`},
		"nil job":          {Options{Runner: run, Jobs: []*Job{nil}}, "job 0 is nil"},
		"unknown window":   {Options{Runner: run, Windows: wins, Jobs: []*Job{{Name: "a", Schedule: sched, Windows: []string{"x"}}}}, `job "a": unknown window "x"`},
		"unknown blackout": {Options{Runner: run, Jobs: []*Job{{Name: "a", Schedule: sched, Blackouts: []string{"w"}}}}, `unknown window "w"`},
		"unknown pool":     {Options{Runner: run, Pools: map[string]int{"heavy": 1}, Jobs: []*Job{{Name: "a", Schedule: sched, Pool: "hevy"}}}, `job "a": unknown pool "hevy"`},
		"bad pool limit":   {Options{Runner: run, Pools: map[string]int{"heavy": 0}}, `pool "heavy": limit must be >= 1`},
		"bad overlap":      {Options{Runner: run, Jobs: []*Job{{Name: "a", Schedule: sched, Overlap: "wait"}}}, `unknown overlap policy "wait"`},
		"bad catch-up":     {Options{Runner: run, Jobs: []*Job{{Name: "a", Schedule: sched, CatchUp: "some"}}}, `unknown catch-up policy "some"`},
		"bad threshold":    {Options{Runner: run, ResourceThreshold: 1.5}, "ResourceThreshold"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := New(Options{Runner: run, Windows: wins, Pools: map[string]int{"heavy": 2}, Jobs: []*Job{
		{Name: "a", Schedule: sched, Pool: "heavy", Windows: []string{"w"}},
		{Name: "b", Schedule: sched, Pool: "default"},
		{Name: "c", Schedule: sched},
	}})
	assert.NoError(t, err)
}

func TestRunnerPanicIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		var events []Event
		var mu sync.Mutex
		s, err := New(Options{
			Runner:  JobRunnerFunc(func(context.Context, *Job, Trigger) error { panic("oops") }),
			OnEvent: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
			Jobs:    []*Job{{Name: "j", Schedule: scTimes{scTS(10, 1, 0)}}},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		scSleepUntil(scTS(10, 2, 0))
		cancel()
		require.NoError(t, <-done)
		i := slices.IndexFunc(events, func(e Event) bool { return e.Type == EventFinished })
		require.GreaterOrEqual(t, i, 0)
		assert.ErrorContains(t, events[i].Err, `job "j" panicked: oops`)
		assert.Equal(t, StatusError, events[i].Detail)
	})
}

// TestIdleWakeups is the wake-up benchmark: a simulated week of 100 hourly
// jobs (at minutes 0..59) wakes the scheduler's timer exactly once per
// distinct due time, and a day with one daily job once.
func TestIdleWakeups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		week0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		scSleepUntil(week0)
		h := newSCHarness()
		var jobs []*Job
		for i := range 100 {
			jobs = append(jobs, &Job{Name: fmt.Sprintf("job%03d", i), Schedule: scHourlyAt(i % 60)})
		}
		r := scStart(t, h, Options{MaxConcurrency: 4, Jobs: jobs})
		scSleepUntil(week0.Add(7*24*time.Hour - 30*time.Second))
		r.stop(t)
		const distinct = 60 * 24 * 7
		assert.Len(t, h.runs, 100*24*7)
		assert.Equal(t, int64(distinct), r.wakeups.Load())
		t.Logf("simulated week, 100 hourly jobs: %d runs, %d timer wake-ups (%d distinct due times; per-second polling would be %d)",
			len(h.runs), r.wakeups.Load(), distinct, 7*24*3600)
	})
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 30))
		h := newSCHarness()
		r := scStart(t, h, Options{Jobs: []*Job{{Name: "d", Schedule: scDailyAt(1, 0)}}})
		scSleepUntil(scTS(11, 0, 30))
		r.stop(t)
		assert.Len(t, h.runs, 1)
		assert.Equal(t, int64(1), r.wakeups.Load())
	})
}

// BenchmarkTrigger measures one scheduling decision end to end (manual
// trigger, dispatch, start, finish, state save, events) in real time with
// 100 jobs configured.
func BenchmarkTrigger(b *testing.B) {
	var jobs []*Job
	for i := range 100 {
		jobs = append(jobs, &Job{Name: fmt.Sprintf("job%03d", i), Schedule: scDailyAt(i%24, 0), Overlap: OverlapQueue})
	}
	finished := make(chan struct{}, 1)
	s, err := New(Options{
		Jobs:   jobs,
		Runner: JobRunnerFunc(func(context.Context, *Job, Trigger) error { return nil }),
		OnEvent: func(e Event) {
			if e.Type == EventFinished {
				finished <- struct{}{}
			}
		},
	})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for s.Trigger("job000") == ErrNotRunning {
		runtime.Gosched()
	}
	<-finished
	for i := 0; b.Loop(); i++ {
		if err := s.Trigger(jobs[i%100].Name); err != nil {
			b.Fatal(err)
		}
		<-finished
	}
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
}
