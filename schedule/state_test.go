package schedule_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/schedule"
)

func TestMemoryState(t *testing.T) {
	ctx := context.Background()
	s := schedule.NewMemoryState()
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	due := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	a := schedule.JobState{Job: "a", LastDue: due, LastStart: due, LastStatus: schedule.StatusRunning, LastTrigger: schedule.TriggerScheduled}
	require.NoError(t, s.Save(ctx, a))
	require.NoError(t, s.Save(ctx, schedule.JobState{Job: "b", LastStatus: schedule.StatusError, LastError: "boom"}))
	a.LastFinish, a.LastStatus, a.LastSuccess = due.Add(time.Minute), schedule.StatusSuccess, due.Add(time.Minute)
	require.NoError(t, s.Save(ctx, a)) // replaces
	got, err = s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, a, got["a"])
	assert.Equal(t, "boom", got["b"].LastError)

	// Load returns a copy.
	delete(got, "a")
	again, _ := s.Load(ctx)
	assert.Len(t, again, 2)

	// The zero MemoryState works too, and it is safe for concurrent use.
	var z schedule.MemoryState
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			assert.NoError(t, z.Save(ctx, schedule.JobState{Job: fmt.Sprint(i)}))
			_, err := z.Load(ctx)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	all, _ := z.Load(ctx)
	assert.Len(t, all, 8)
}

// exampleOnce is a Schedule due at a single time.
type exampleOnce time.Time

func (o exampleOnce) Next(after time.Time) time.Time {
	if t := time.Time(o); t.After(after) {
		return t
	}
	return time.Time{}
}

// ExampleScheduler runs a job when it is due, then once more by hand, and
// lists the jobs as a `/jobs` endpoint would.
func ExampleScheduler() {
	finished := make(chan string)
	s, err := schedule.New(schedule.Options{
		Jobs: []*schedule.Job{{
			Name:     "refresh-staging",
			Schedule: exampleOnce(time.Now().Add(20 * time.Millisecond)),
			Priority: orchestrate.PriorityHigh,
			Timeout:  time.Minute,
		}},
		MaxConcurrency: 2,
		State:          schedule.NewMemoryState(), // or (*duckenv.Env).ScheduleState()
		Runner: schedule.JobRunnerFunc(func(ctx context.Context, job *schedule.Job, t schedule.Trigger) error {
			fmt.Println("run", job.Name)
			return nil
		}),
		OnEvent: func(e schedule.Event) {
			if e.Type == schedule.EventFinished {
				finished <- e.Job + ": " + e.Detail
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- s.Run(ctx) }()

	fmt.Println(<-finished) // the scheduled run
	if err := s.Trigger("refresh-staging"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(<-finished) // the manual run

	cancel()
	fmt.Println("stopped:", <-stopped)
	for _, u := range s.NextRuns(time.Now()) {
		next := "none"
		if !u.Next.IsZero() {
			next = u.Next.Format(time.RFC3339)
		}
		fmt.Println(u.Job.Name, "last:", u.LastStatus, "next:", next)
	}
	// Output:
	// run refresh-staging
	// refresh-staging: success
	// run refresh-staging
	// refresh-staging: success
	// stopped: <nil>
	// refresh-staging last: success next: none
}
