package duckenv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
