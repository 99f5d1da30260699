package duckenv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/snapshot"
)

func TestRunSummariesAndNodeHistory(t *testing.T) {
	ctx := context.Background()
	e := openFile(t)
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	for i, st := range []string{"success", "error", "success"} {
		res := `[{"unique_id":"m","resource_type":"model","status":"` + st + `","execution_time_ns":` + []string{"1000", "2000", "3000"}[i] +
			`,"rows_affected":` + []string{"10", "0", "30"}[i] + `,"attempts":[{"number":1},{"number":2}]},` +
			`{"unique_id":"unique_m_id","resource_type":"test","status":"fail","failures":4,"execution_time_ns":5,"rows_affected":0}]`
		require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r" + string(rune('1'+i)), StartedAt: t0.Add(time.Duration(i) * time.Hour),
			FinishedAt: t0.Add(time.Duration(i)*time.Hour + time.Minute), Status: st, Invocation: "vyaparbazaar build job " + st,
			NodeCounts: map[string]int{st: 1}, Results: []byte(res)}))
	}
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r9", StartedAt: t0.Add(9 * time.Hour), Status: "running", Results: []byte(`[{"unique_id":"m","status":"pending"}]`)}))

	page, total, err := e.RunSummaries(ctx, RunFilter{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, 4, total)
	require.Len(t, page, 2)
	require.Equal(t, "r9", page[0].RunID)
	require.Nil(t, page[0].Results, "listings do not load results")
	page, total, err = e.RunSummaries(ctx, RunFilter{Status: "error"})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, "r2", page[0].RunID)
	_, total, err = e.RunSummaries(ctx, RunFilter{Contains: "job success"})
	require.NoError(t, err)
	require.Equal(t, 2, total)

	r, err := e.RunByID(ctx, "r2")
	require.NoError(t, err)
	require.Contains(t, string(r.Results), `"unique_m_id"`)
	_, err = e.RunByID(ctx, "nope")
	require.True(t, errors.Is(err, ErrNoRun), "%v", err)

	hist, err := e.NodeHistory(ctx, []string{"m"}, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3, "running runs are left out")
	require.Equal(t, "r3", hist[0].RunID)
	require.Equal(t, 3000*time.Nanosecond, hist[0].Duration)
	require.Equal(t, int64(30), hist[0].Rows)
	require.Equal(t, 2, hist[0].Attempts)
	require.Equal(t, "error", hist[1].Status)

	latest, err := e.LatestNodeOutcomes(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, "r3", latest["m"].RunID)
	require.Equal(t, int64(4), latest["unique_m_id"].Failures)
	require.Equal(t, "test", latest["unique_m_id"].Kind)
}

func TestRunSummariesEmpty(t *testing.T) {
	e := openFile(t)
	list, total, err := e.RunSummaries(context.Background(), RunFilter{})
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, list)
	_, err = e.RunByID(context.Background(), "x")
	require.ErrorIs(t, err, ErrNoRun)
}

func TestSnapshotSummaries(t *testing.T) {
	ctx := context.Background()
	e := openFile(t)
	list, total, err := e.SnapshotSummaries(ctx, 10, 0)
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, list)
	st := e.Snapshots()
	for i := range 3 {
		models := map[string]snapshot.Version{}
		for j := 0; j <= i; j++ {
			name := string(rune('a' + j))
			models[name] = snapshot.Version{Model: name, BuiltAt: time.Now()}
		}
		_, err := st.Record(ctx, snapshot.Snapshot{Kind: snapshot.KindPublish, RunID: "r", Models: models})
		require.NoError(t, err)
	}
	list, total, err = e.SnapshotSummaries(ctx, 2, 0)
	require.NoError(t, err)
	require.Equal(t, 3, total)
	require.Len(t, list, 2)
	require.Equal(t, int64(3), list[0].ID)
	require.Equal(t, 3, list[0].Models)
	list, _, err = e.SnapshotSummaries(ctx, 2, 2)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 1, list[0].Models)
}
