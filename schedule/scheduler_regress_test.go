package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

type regressSampler struct{ high atomic.Bool }

func (s *regressSampler) Sample(context.Context) (Usage, error) {
	if s.high.Load() {
		return Usage{CPU: 0.99}, nil
	}
	return Usage{}, nil
}

// A late wake (clock jump) while a run waits in the ready queue must not put
// a second run of the same job in the queue.
func TestLateWakeDoesNotDuplicateAWaitingRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		h.dur["a"] = 10 * time.Minute
		var mu sync.Mutex
		var jump time.Duration
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(jump) }
		smp := &regressSampler{}
		smp.high.Store(true)
		var cur, peak atomic.Int32
		runner := JobRunnerFunc(func(ctx context.Context, j *Job, tr Trigger) error {
			peak.Store(max(peak.Load(), cur.Add(1)))
			defer cur.Add(-1)
			return h.RunJob(ctx, j, tr)
		})
		s, err := New(Options{Now: now, Runner: runner, OnEvent: h.OnEvent, MaxConcurrency: 2, Resources: smp,
			Jobs: []*Job{{Name: "a", Schedule: scEvery{scTS(10, 0, 0), 5 * time.Minute}, Priority: orchestrate.PriorityLow}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait() // 10:00 due, waiting for resources
		scSleepUntil(scTS(10, 0, 0).Add(10 * time.Second))
		mu.Lock()
		jump = 11 * time.Minute // suspend/resume or NTP step: 10:05 and 10:10 missed at once
		mu.Unlock()
		scSleepUntil(scTS(10, 0, 0).Add(40 * time.Second))
		smp.high.Store(false)
		scSleepUntil(scTS(10, 0, 3))
		cancel()
		<-done
		if peak.Load() > 1 {
			t.Errorf("job a ran %d times at once (overlap policy skip)", peak.Load())
		}
	})
}

// CatchUpAll backlog runs honour the job's windows and blackouts.
func TestCatchUpAllBacklogHonoursBlackouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 2, 30))
		h := newSCHarness()
		h.dur["j"] = 90 * time.Minute
		st := NewMemoryState()
		_ = st.Save(context.Background(), JobState{Job: "j", LastDue: scTS(10, 0, 0), LastStatus: StatusSuccess, LastTrigger: TriggerScheduled})
		r := scStart(t, h, Options{State: st,
			Windows: map[string]interface{ Contains(time.Time) bool }{"freeze": scHours(3, 5)},
			Jobs:    []*Job{{Name: "j", Schedule: scHourlyAt(0), CatchUp: CatchUpAll, Blackouts: []string{"freeze"}}}})
		scSleepUntil(scTS(10, 6, 0))
		r.stop(t)
		if len(h.runsOf("j")) < 2 {
			t.Errorf("want the backlog and later runs, got %d runs", len(h.runsOf("j")))
		}
		for _, run := range h.runsOf("j") {
			if h := run.Start.UTC().Hour(); h >= 3 && h < 5 {
				t.Errorf("run due %s started at %s, inside blackout 03:00-05:00", run.Trig.Due.Format("15:04"), run.Start.Format("15:04"))
			}
		}
	})
}

// A manual run is not refused because a scheduled run waits for its window.
func TestTriggerWhileARunIsDeferredToItsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scSleepUntil(scTS(10, 0, 0))
		h := newSCHarness()
		r := scStart(t, h, Options{
			Windows: map[string]interface{ Contains(time.Time) bool }{"night": scHours(22, 24)},
			Jobs:    []*Job{{Name: "j", Schedule: scDailyAt(12, 0), Windows: []string{"night"}}},
		})
		scSleepUntil(scTS(10, 12, 1)) // the 12:00 run is deferred to 22:00
		if err := r.Trigger("j"); err != nil {
			t.Fatalf("Trigger with nothing running: %v", err)
		}
		scSleepUntil(scTS(10, 12, 2))
		if n := len(h.runsOf("j")); n != 1 {
			t.Errorf("manual run: want 1 run by 12:02, got %d", n)
		}
		r.stop(t)
	})
}
