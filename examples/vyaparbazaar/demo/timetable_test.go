package demo_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/schedule"
)

// TestTimetableSimulatedMonth runs the demo's real timetable through the
// Scheduler for the 29 days of February 2028 (a leap year, so the
// end-of-month job runs on the 29th) in virtual time, with jobs that finish
// at once, and counts the runs of every job.
func TestTimetableSimulatedMonth(t *testing.T) {
	data, err := fs.ReadFile(demo.Project(), "schedules.yml")
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		cfg, err := schedule.ParseConfig(data, "schedules.yml")
		require.NoError(t, err)
		ist := cfg.Location
		start := time.Date(2028, 2, 1, 0, 0, 0, 0, ist)
		bubble := time.Now()
		now := func() time.Time { return start.Add(time.Since(bubble)) }

		var mu sync.Mutex
		runs := map[string]int{}
		var financial []time.Time
		runner := schedule.JobRunnerFunc(func(_ context.Context, job *schedule.Job, tr schedule.Trigger) error {
			mu.Lock()
			defer mu.Unlock()
			runs[job.Name]++
			if job.Name == "financial-reporting" {
				financial = append(financial, tr.Due)
			}
			return nil
		})
		s, err := schedule.New(schedule.Options{
			Jobs: cfg.Jobs, Runner: runner, Now: now, MaxConcurrency: cfg.MaxConcurrency,
			Pools: cfg.Pools, Windows: cfg.WindowMap(), State: schedule.NewMemoryState(),
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(time.Date(2028, 3, 1, 0, 0, 0, 0, ist).Sub(start) - time.Second)
		cancel()
		require.NoError(t, <-done)

		hourly, daily := 29*24, 29
		assert.Equal(t, map[string]int{
			"sources": hourly, "staging": hourly, "intermediate": hourly, "inventory-management": hourly,
			"dimensions": daily, "facts": daily, "marts": daily, "ml-features": daily,
			"daily-sales-report": daily, "marketing-campaign-analysis": daily,
			"production-backup": daily, "janitor": daily, "refresh": daily,
			"financial-reporting":   1, // 23:00 on the 29th
			"customer-segmentation": 4, // Mondays 7, 14, 21, 28
			"weekly-report":         4,
		}, runs)
		require.Len(t, financial, 1)
		assert.Equal(t, time.Date(2028, 2, 29, 23, 0, 0, 0, ist), financial[0].In(ist))
	})
}
