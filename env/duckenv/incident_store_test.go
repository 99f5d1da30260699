package duckenv

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery/incident"
	"github.com/vyaparbazaar/dataops/recovery/incident/incidenttest"
)

func TestIncidentStore(t *testing.T) {
	incidenttest.RunStoreTests(t, func(t *testing.T) incident.Store {
		return openFile(t).Incidents()
	})
}

// TestIncidentStoreRacingTransactions runs the ID transactions concurrently
// without the in-process lock, as writers through two Envs on one file
// would: losers of the race retry and every incident gets its own ID.
func TestIncidentStoreRacingTransactions(t *testing.T) {
	ctx := context.Background()
	e := openFile(t, func(c *Config) { c.Threads = 4 })
	s := e.Incidents().(*incidentStore)
	require.NoError(t, s.ensure(ctx))
	day := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	const n = 12
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inc, err := incident.PrepareOpen(incident.Incident{Environment: "dev", OpenedAt: day}, day)
			if err == nil {
				inc, err = s.insert(ctx, inc)
			}
			ids[i], errs[i] = inc.ID, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(ids)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, incident.FormatID(day, i))
	}
	assert.Equal(t, want, ids)
}

func TestIncidentStoreInMemory(t *testing.T) {
	e, err := Open(context.Background(), Config{})
	require.NoError(t, err)
	defer e.Close()
	s := e.Incidents()
	inc, err := s.Open(context.Background(), incident.Incident{Environment: "dev", Models: []string{"a"}})
	require.NoError(t, err)
	got, err := s.Get(context.Background(), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, got)
}

func TestIncidentsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "prod.duckdb")
	cfg := Config{Name: "prod", Path: path}
	day := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

	e, err := Open(ctx, cfg)
	require.NoError(t, err)
	tr := &incident.Tracker{Store: e.Incidents(), Environment: e.Name(), Now: func() time.Time { return day }}
	ch, err := tr.Observe(ctx, "run-1", []incident.Outcome{
		{Node: "stg_orders", Status: "error", Class: "permanent", Owner: "finance", Error: "Binder Error", Attempts: 2},
		{Node: "stg_payments", Status: "error", Class: "permanent", Owner: "finance", Error: "Binder Error", Attempts: 1},
	})
	require.NoError(t, err)
	require.Len(t, ch.Opened, 1)
	opened := ch.Opened[0]
	require.NoError(t, incident.AddNote(ctx, e.Incidents(), opened.ID, "asha", "looking into it", day.Add(time.Minute)))
	require.NoError(t, e.Close())

	e, err = Open(ctx, cfg)
	require.NoError(t, err)
	defer e.Close()
	s := e.Incidents()
	got, err := s.Get(ctx, opened.ID)
	require.NoError(t, err)
	want := opened
	want.Notes = []incident.Note{{At: day.Add(time.Minute), Author: "asha", Text: "looking into it"}}
	want.UpdatedAt = day.Add(time.Minute)
	assert.Equal(t, want, got)

	// The tracker carries on from the stored state: the next day's run
	// resolves the incident and new IDs continue the sequence.
	tr = &incident.Tracker{Store: s, Environment: e.Name(), Now: func() time.Time { return day.Add(time.Hour) }}
	ch, err = tr.Observe(ctx, "run-2", []incident.Outcome{
		{Node: "stg_orders", Status: "success"},
		{Node: "stg_payments", Status: "success"},
		{Node: "mart_sales", Status: "fail", Class: "test_failure", Owner: "finance", Error: "3 rows"},
	})
	require.NoError(t, err)
	require.Len(t, ch.Resolved, 1)
	assert.Equal(t, "run-2", ch.Resolved[0].ResolvedByRun)
	require.Len(t, ch.Opened, 1)
	assert.Equal(t, "INC-20261125-0002", ch.Opened[0].ID)

	// The table is in the hidden schema and does not disturb the run history.
	assert.Equal(t, 2, scalar[int](t, e, `SELECT count(*) FROM "_dataops"."incidents"`))
	runs, err := e.RunHistory(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestIncidentStoreWithRunHistory(t *testing.T) {
	ctx := context.Background()
	e := openFile(t)
	// Either table can be created first in the shared schema.
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r1", Status: "success", StartedAt: time.Now()}))
	_, err := e.Incidents().Open(ctx, incident.Incident{Environment: e.Name()})
	require.NoError(t, err)
	runs, err := e.RunHistory(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, runs, 1)
}

func TestIncidentStoreReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.duckdb")
	e, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	ro, err := Open(ctx, Config{Path: path, ReadOnly: true})
	require.NoError(t, err)
	defer ro.Close()
	s := ro.Incidents()
	list, err := s.List(ctx, incident.Filter{})
	require.NoError(t, err, "listing before any incident was stored")
	assert.Empty(t, list)
	_, err = s.Get(ctx, "INC-20261125-0001")
	assert.ErrorIs(t, err, incident.ErrNotFound)
	_, err = s.Open(ctx, incident.Incident{Environment: "dev"})
	assert.ErrorContains(t, err, "read-only")
}
