// Package snapshottest is a conformance suite for snapshot.Store
// implementations: every store runs RunStoreTests in its own tests.
package snapshottest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/snapshot"
)

// base is the time the suite's first snapshot is taken at.
var base = time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)

func sample(at time.Time, models ...string) snapshot.Snapshot {
	s := snapshot.Snapshot{
		CreatedAt: at, Environment: "production", Kind: snapshot.KindPublish,
		RunID: "run-" + at.Format("1504"), Fingerprint: "f00d", GitCommit: "abc123", Actor: "deploy",
		Models: map[string]snapshot.Version{},
	}
	for i, m := range models {
		s.Models[m] = snapshot.Version{
			ID: int64(at.Hour()*100 + i), Model: m, Relation: `"marts"."` + m + `"`, Materialized: "table",
			Physical: `"_dataops_versions"."` + m + `"`, RunID: s.RunID, BuiltAt: at.Add(-time.Minute), Rows: int64(10 * (i + 1)),
		}
	}
	return s
}

// RunStoreTests checks that the stores made by newStore behave as
// snapshot.Store requires. newStore must return an empty store each time.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) snapshot.Store) {
	t.Helper()
	t.Run("RecordAssignsIncreasingIDs", func(t *testing.T) {
		s := newStore(t)
		a, err := s.Record(t.Context(), sample(base, "a"))
		require.NoError(t, err)
		b, err := s.Record(t.Context(), sample(base.Add(time.Hour), "a", "b"))
		require.NoError(t, err)
		assert.Positive(t, a.ID)
		assert.Greater(t, b.ID, a.ID)
	})
	t.Run("GetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		in := sample(base, "mart_daily_sales", "fct_orders")
		in.Note = "first"
		in.RestoredFrom = 0
		rec, err := s.Record(t.Context(), in)
		require.NoError(t, err)
		got, err := s.Get(t.Context(), rec.ID)
		require.NoError(t, err)
		assert.Equal(t, rec.ID, got.ID)
		assert.True(t, in.CreatedAt.Equal(got.CreatedAt))
		assert.Equal(t, in.Environment, got.Environment)
		assert.Equal(t, in.Kind, got.Kind)
		assert.Equal(t, in.RunID, got.RunID)
		assert.Equal(t, in.Fingerprint, got.Fingerprint)
		assert.Equal(t, in.GitCommit, got.GitCommit)
		assert.Equal(t, in.Actor, got.Actor)
		assert.Equal(t, "first", got.Note)
		require.Len(t, got.Models, 2)
		for name, v := range in.Models {
			g := got.Models[name]
			assert.Equal(t, v.ID, g.ID, name)
			assert.Equal(t, v.Relation, g.Relation, name)
			assert.Equal(t, v.Materialized, g.Materialized, name)
			assert.Equal(t, v.Physical, g.Physical, name)
			assert.Equal(t, v.RunID, g.RunID, name)
			assert.Equal(t, v.Rows, g.Rows, name)
			assert.True(t, v.BuiltAt.Equal(g.BuiltAt), name)
		}
	})
	t.Run("CopiesAreIndependent", func(t *testing.T) {
		s := newStore(t)
		in := sample(base, "a")
		rec, err := s.Record(t.Context(), in)
		require.NoError(t, err)
		in.Models["b"] = snapshot.Version{ID: 99}
		rec.Models["c"] = snapshot.Version{ID: 98}
		got, err := s.Get(t.Context(), rec.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"a"}, got.Names())
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(t.Context(), 7)
		require.ErrorIs(t, err, snapshot.ErrNotFound)
		assert.Contains(t, err.Error(), "#7")
		_, err = s.Record(t.Context(), sample(base, "a"))
		require.NoError(t, err)
		_, err = s.Get(t.Context(), 7)
		require.ErrorIs(t, err, snapshot.ErrNotFound)
	})
	t.Run("ListNewestFirstWithLimit", func(t *testing.T) {
		s := newStore(t)
		empty, err := s.List(t.Context(), 0)
		require.NoError(t, err)
		assert.Empty(t, empty)
		var ids []int64
		for i := range 4 {
			rec, err := s.Record(t.Context(), sample(base.Add(time.Duration(i)*time.Hour), "a"))
			require.NoError(t, err)
			ids = append(ids, rec.ID)
		}
		all, err := s.List(t.Context(), 0)
		require.NoError(t, err)
		require.Len(t, all, 4)
		assert.Equal(t, ids[3], all[0].ID)
		assert.Equal(t, ids[0], all[3].ID)
		two, err := s.List(t.Context(), 2)
		require.NoError(t, err)
		require.Len(t, two, 2)
		assert.Equal(t, ids[2], two[1].ID)
	})
	t.Run("At", func(t *testing.T) {
		s := newStore(t)
		_, err := s.At(t.Context(), base)
		require.ErrorIs(t, err, snapshot.ErrNoSnapshot)
		var ids []int64
		for i := range 3 {
			rec, err := s.Record(t.Context(), sample(base.Add(time.Duration(i)*time.Hour), "a"))
			require.NoError(t, err)
			ids = append(ids, rec.ID)
		}
		got, err := s.At(t.Context(), base.Add(90*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, ids[1], got.ID)
		got, err = s.At(t.Context(), base.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, ids[1], got.ID, "a snapshot taken exactly at t counts")
		got, err = s.At(t.Context(), base.Add(24*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, ids[2], got.ID)
		_, err = s.At(t.Context(), base.Add(-time.Second))
		require.ErrorIs(t, err, snapshot.ErrNoSnapshot)
		var bf *snapshot.BeforeFirstError
		require.True(t, errors.As(err, &bf))
		assert.True(t, bf.First.Equal(base), "the error says when the first snapshot is from")
	})
	t.Run("ForgetKeepsIDsUnique", func(t *testing.T) {
		s := newStore(t)
		a, err := s.Record(t.Context(), sample(base, "a"))
		require.NoError(t, err)
		b, err := s.Record(t.Context(), sample(base.Add(time.Hour), "a"))
		require.NoError(t, err)
		require.NoError(t, s.Forget(t.Context(), []int64{a.ID, 12345}))
		_, err = s.Get(t.Context(), a.ID)
		require.ErrorIs(t, err, snapshot.ErrNotFound)
		_, err = s.Get(t.Context(), b.ID)
		require.NoError(t, err)
		c, err := s.Record(t.Context(), sample(base.Add(2*time.Hour), "a"))
		require.NoError(t, err)
		assert.Greater(t, c.ID, b.ID)
		list, err := s.List(t.Context(), 0)
		require.NoError(t, err)
		assert.Len(t, list, 2)
	})
}
