package snapshot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/vyaparbazaar/dataops/snapshot"
	"github.com/vyaparbazaar/dataops/snapshot/snapshottest"
)

func TestMemoryStore(t *testing.T) {
	snapshottest.RunStoreTests(t, func(*testing.T) snapshot.Store { return &snapshot.MemoryStore{} })
}

func v(id int64, rows int64) snapshot.Version {
	return snapshot.Version{ID: id, Rows: rows}
}

func TestDiff(t *testing.T) {
	a := snapshot.Snapshot{Models: map[string]snapshot.Version{"same": v(1, 5), "changed": v(2, 10), "gone": v(3, 1)}}
	b := snapshot.Snapshot{Models: map[string]snapshot.Version{"same": v(1, 5), "changed": v(4, 15), "new": v(5, -1)}}
	d := snapshot.Diff(a, b)
	if assert.Len(t, d, 3) {
		assert.Equal(t, "changed", d[0].Model)
		assert.Equal(t, snapshot.Changed, d[0].Type)
		delta, ok := d[0].RowDelta()
		assert.True(t, ok)
		assert.Equal(t, int64(5), delta)
		assert.Equal(t, "gone", d[1].Model)
		assert.Equal(t, snapshot.Removed, d[1].Type)
		assert.Equal(t, "new", d[2].Model)
		assert.Equal(t, snapshot.Added, d[2].Type)
		_, ok = d[2].RowDelta()
		assert.False(t, ok)
	}
	assert.Empty(t, snapshot.Diff(b, b))
}

func TestRetentionSplit(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var snaps []snapshot.Snapshot
	// 20 snapshots, one per day going back: #20 is today, #1 19 days ago.
	for i := 1; i <= 20; i++ {
		snaps = append(snaps, snapshot.Snapshot{ID: int64(i), CreatedAt: now.Add(-time.Duration(20-i) * 24 * time.Hour)})
	}
	keep, forget := snapshot.ProductionRetention.Split(snaps, now)
	assert.Len(t, keep, 10, "at least the last 10, and the 7 days hold only 7")
	assert.Equal(t, int64(20), keep[0].ID)
	assert.Equal(t, int64(11), keep[9].ID)
	assert.Len(t, forget, 10)

	keep, _ = snapshot.Retention{KeepLast: 2, KeepFor: 100 * time.Hour}.Split(snaps, now)
	assert.Len(t, keep, 5, "4 days and a few hours hold 5 daily snapshots")

	keep, forget = snapshot.Retention{}.Split(snaps, now)
	assert.Len(t, keep, 1, "the newest snapshot is always kept")
	assert.Len(t, forget, 19)
	assert.Equal(t, snapshot.ProductionRetention, snapshot.DefaultRetention("production"))
	assert.Equal(t, snapshot.DevRetention, snapshot.DefaultRetention("dev"))
}
