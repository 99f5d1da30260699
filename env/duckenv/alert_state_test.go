package duckenv

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/alerttest"
	"github.com/vyaparbazaar/dataops/orchestrate"
)

func TestAlertStore(t *testing.T) {
	alerttest.RunStoreTests(t, func(t *testing.T) alert.Store { return openFile(t).Alerts() })
}

func TestAlertStoreAcrossProcessesAndReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.duckdb")
	ro0, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, ro0.Close())
	ro, err := Open(ctx, Config{Path: path, ReadOnly: true})
	require.NoError(t, err)
	list, err := ro.Alerts().Alerts(ctx, alert.Filter{})
	require.NoError(t, err, "listing before anything was stored")
	assert.Empty(t, list)
	sil, err := ro.Alerts().Silences(ctx)
	require.NoError(t, err)
	assert.Empty(t, sil)
	_, err = ro.Alerts().Ack(ctx, "abc", "asha", time.Now())
	assert.ErrorIs(t, err, alert.ErrNotFound)
	require.NoError(t, ro.Close())

	// What one Env writes, another opening the same file later reads.
	e1, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	a := alerttest.Sample("fct_orders")
	require.NoError(t, e1.Alerts().SaveAlert(ctx, alert.Record{ID: a.Fingerprint(), Alert: a, FirstSeen: a.StartsAt, LastSeen: a.StartsAt, Count: 1}))
	require.NoError(t, e1.Close())
	e2, err := Open(ctx, Config{Path: path})
	require.NoError(t, err)
	defer e2.Close()
	rec, err := e2.Alerts().Ack(ctx, a.Fingerprint(), "asha", a.StartsAt.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "asha", rec.AckedBy)
	assert.Equal(t, a.Labels, rec.Alert.Labels)
}

func TestAlertHistoryAndLoadedAt(t *testing.T) {
	ctx := context.Background()
	e := openFile(t)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	results, err := json.Marshal([]*orchestrate.NodeResult{
		{Node: "fct_orders", Kind: orchestrate.KindModel, Status: orchestrate.StatusSuccess, FinishedAt: at, ExecutionTime: 3 * time.Second, RowsAffected: 42},
		{Node: "unique_fct_orders_id", Kind: orchestrate.KindTest, Status: orchestrate.StatusFail, Failures: 2},
	})
	require.NoError(t, err)
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r1", StartedAt: at.Add(-time.Minute), FinishedAt: at, Status: "error", Results: results}))
	require.NoError(t, e.RecordRun(ctx, RunRecord{RunID: "r2", StartedAt: at.Add(time.Hour), Status: "running", Results: json.RawMessage(`[{"node":"fct_orders","status":"pending"}]`)}))
	runs, err := e.AlertHistory().Runs(ctx, 10)
	require.NoError(t, err)
	require.Len(t, runs, 1, "the running run is left out")
	require.Len(t, runs[0].Nodes, 2)
	n := runs[0].Nodes[0]
	assert.Equal(t, "fct_orders", n.Node)
	assert.Equal(t, "success", n.Status)
	assert.Equal(t, 3*time.Second, n.Duration)
	assert.Equal(t, int64(42), n.Rows)
	assert.True(t, n.FinishedAt.Equal(at))
	assert.Equal(t, int64(2), runs[0].Nodes[1].Failures)

	mustExec(t, e, `CREATE SCHEMA raw`)
	mustExec(t, e, `CREATE TABLE raw."order events" ("loaded at" TIMESTAMPTZ)`)
	_, ok, err := e.LoadedAt(ctx, "raw", "order events", "loaded at")
	require.NoError(t, err)
	assert.False(t, ok, "empty table")
	mustExec(t, e, `INSERT INTO raw."order events" VALUES ('2026-11-25 08:00:00+00'), ('2026-11-25 09:30:00+00')`)
	got, ok, err := e.LoadedAt(ctx, "raw", "order events", "loaded at")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, got.Equal(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)), "%s", got)
	_, _, err = e.LoadedAt(ctx, "raw", "missing", "x")
	assert.ErrorContains(t, err, "raw.missing.x")
}
