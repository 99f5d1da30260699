package duckenv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

func TestLastGoodReadsRunHistory(t *testing.T) {
	e := openFile(t)
	ctx := context.Background()
	_, _, ok, err := e.LastGood(ctx, "m")
	require.NoError(t, err)
	assert.False(t, ok, "no history yet")

	t1 := time.Date(2026, 11, 25, 5, 30, 0, 0, time.UTC)
	rec := func(id string, at time.Time, status string) {
		res, _ := json.Marshal([]map[string]any{
			{"unique_id": "m", "status": status, "finished_at": at},
			{"unique_id": "other", "status": "success", "finished_at": at},
		})
		require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: id, StartedAt: at, FinishedAt: at, Status: status, Results: res}))
	}
	rec("r1", t1, "success")
	rec("r2", t1.Add(time.Hour), "error")
	id, at, ok, err := e.LastGood(ctx, "m")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "r1", id)
	assert.True(t, t1.Equal(at), "%v", at)
	rec("r3", t1.Add(2*time.Hour), "success")
	id, _, _, _ = e.LastGood(ctx, "m")
	assert.Equal(t, "r3", id)
	_, _, ok, _ = e.LastGood(ctx, "nope")
	assert.False(t, ok)
}

func TestNodeRecorderSurvivesARunThatDied(t *testing.T) {
	e := openFile(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	res, _ := json.Marshal([]map[string]any{{"unique_id": "m", "status": "success", "finished_at": at}})
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "old", StartedAt: at, FinishedAt: at, Status: "success", Results: res}))

	// A later run builds m, then dies before recording its results.
	rec, err := e.NodeRecorder(ctx, "died")
	require.NoError(t, err)
	later := at.Add(time.Hour)
	rec.OnEvent(orchestrate.Event{Type: orchestrate.NodeFinished, Result: &orchestrate.NodeResult{Node: "m", Status: orchestrate.StatusSuccess, FinishedAt: later}})
	rec.OnEvent(orchestrate.Event{Type: orchestrate.NodeFinished, Result: &orchestrate.NodeResult{Node: "n", Status: orchestrate.StatusError, FinishedAt: later}})
	require.NoError(t, rec.Close())

	got, err := e.NodeResults(ctx, "died")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"m": "success", "n": "error"}, got)
	id, builtAt, ok, err := e.LastGood(ctx, "m")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "died", id, "the relation holds what the dead run built")
	assert.True(t, later.Equal(builtAt))
}
