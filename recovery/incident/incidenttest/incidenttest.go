// Package incidenttest is a conformance suite for incident.Store
// implementations: every store runs RunStoreTests in its own tests.
package incidenttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery/incident"
)

// day is the date the suite opens most incidents on.
var day = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// RunStoreTests checks that the stores made by newStore behave as
// incident.Store requires: ID assignment, Get, Update, List filters and
// order, ErrNotFound, notes round trips and concurrent Opens. newStore must
// return an empty store each time it is called.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) incident.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s incident.Store)
	}{
		{"OpenAssignsIDs", testOpenAssignsIDs},
		{"OpenDefaults", testOpenDefaults},
		{"OpenRejects", testOpenRejects},
		{"GetRoundTrip", testGetRoundTrip},
		{"NotFound", testNotFound},
		{"Update", testUpdate},
		{"UpdateRejects", testUpdateRejects},
		{"NotesRoundTrip", testNotesRoundTrip},
		{"CallerCopiesAreIndependent", testCopies},
		{"ListEmpty", testListEmpty},
		{"ListOrder", testListOrder},
		{"ListFilters", testListFilters},
		{"ConcurrentOpens", testConcurrentOpens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// sample is a fully populated open incident without an ID.
func sample() incident.Incident {
	return incident.Incident{
		Environment:  "prod",
		OpenedAt:     day,
		UpdatedAt:    day.Add(time.Minute),
		LastFailedAt: day.Add(30 * time.Second),
		Status:       incident.StatusOpen,
		Models:       []string{"stg_orders", "stg_payments"},
		Recovered:    []string{"stg_payments"},
		Class:        "permanent",
		FirstError:   "Binder Error: column \"amount\" not found",
		LastError:    "Binder Error: column \"amount\" not found\nLINE 3: select amount",
		Attempts:     3,
		Occurrences:  2,
		RunID:        "run-1",
		LastRunID:    "run-2",
		Owner:        "finance",
		Severity:     incident.SeverityHigh,
		RootCause:    "upstream renamed a column",
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func open(t *testing.T, s incident.Store, inc incident.Incident) incident.Incident {
	t.Helper()
	got, err := s.Open(ctx(t), inc)
	require.NoError(t, err)
	return got
}

func ids(incs []incident.Incident) []string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

func testOpenAssignsIDs(t *testing.T, s incident.Store) {
	first := open(t, s, sample())
	assert.Equal(t, "INC-20261125-0001", first.ID)
	second := open(t, s, sample())
	assert.Equal(t, "INC-20261125-0002", second.ID)

	// Numbering restarts each (UTC) day and continues across environments.
	next := sample()
	next.OpenedAt = day.Add(24 * time.Hour)
	assert.Equal(t, "INC-20261126-0001", open(t, s, next).ID)
	other := sample()
	other.Environment = "staging"
	assert.Equal(t, "INC-20261125-0003", open(t, s, other).ID)

	// The day is the UTC day of OpenedAt, whatever its location.
	ist := time.FixedZone("IST", 5*3600+1800)
	late := sample()
	late.OpenedAt = time.Date(2026, 11, 26, 2, 0, 0, 0, ist) // 2026-11-25 20:30 UTC
	assert.Equal(t, "INC-20261125-0004", open(t, s, late).ID)

	for _, id := range []string{"INC-20261125-0001", "INC-20261125-0004", "INC-20261126-0001"} {
		_, err := s.Get(ctx(t), id)
		assert.NoError(t, err, id)
	}
}

func testOpenDefaults(t *testing.T, s incident.Store) {
	before := time.Now().Add(-time.Second)
	got := open(t, s, incident.Incident{Environment: "dev", Models: []string{"m"}, Class: "transient"})
	assert.Equal(t, incident.StatusOpen, got.Status)
	assert.WithinRange(t, got.OpenedAt, before, time.Now().Add(time.Second))
	assert.Equal(t, got.OpenedAt, got.UpdatedAt)
	assert.Equal(t, incident.IDPrefix(got.OpenedAt)+"0001", got.ID)
	stored, err := s.Get(ctx(t), got.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)

	// Times come back in UTC, to the microsecond.
	ist := time.FixedZone("IST", 5*3600+1800)
	in := sample()
	in.OpenedAt = time.Date(2026, 11, 25, 15, 0, 0, 123456789, ist)
	in.UpdatedAt = in.OpenedAt
	got = open(t, s, in)
	want := time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC)
	assert.Equal(t, want, got.OpenedAt)
	assert.Equal(t, time.UTC, got.OpenedAt.Location())
	stored, err = s.Get(ctx(t), got.ID)
	require.NoError(t, err)
	assert.Equal(t, want, stored.OpenedAt)
	assert.Equal(t, want, stored.UpdatedAt)
	assert.True(t, stored.ResolvedAt.IsZero())
	assert.Equal(t, day.Add(30*time.Second), stored.LastFailedAt)
}

func testOpenRejects(t *testing.T, s incident.Store) {
	withID := sample()
	withID.ID = "INC-20261125-0042"
	_, err := s.Open(ctx(t), withID)
	assert.Error(t, err, "Open with an ID")
	bad := sample()
	bad.Status = "closed"
	_, err = s.Open(ctx(t), bad)
	assert.Error(t, err, "Open with an unknown status")
	list, err := s.List(ctx(t), incident.Filter{})
	require.NoError(t, err)
	assert.Empty(t, list, "rejected incidents are not stored")
}

func testGetRoundTrip(t *testing.T, s incident.Store) {
	in := sample()
	got := open(t, s, in)
	want := in
	want.ID = got.ID
	assert.Equal(t, want, got, "Open returns what it stored")
	stored, err := s.Get(ctx(t), got.ID)
	require.NoError(t, err)
	assert.Equal(t, want, stored)

	// Empty slices come back nil.
	bare := open(t, s, incident.Incident{Environment: "dev", OpenedAt: day, Models: []string{}, Notes: []incident.Note{}})
	stored, err = s.Get(ctx(t), bare.ID)
	require.NoError(t, err)
	assert.Nil(t, stored.Models)
	assert.Nil(t, stored.Recovered)
	assert.Nil(t, stored.Notes)
	assert.Equal(t, bare, stored)
}

func testNotFound(t *testing.T, s incident.Store) {
	_, err := s.Get(ctx(t), "INC-20261125-0001")
	assert.ErrorIs(t, err, incident.ErrNotFound, "Get on an empty store")
	open(t, s, sample())
	_, err = s.Get(ctx(t), "INC-20261125-0002")
	assert.ErrorIs(t, err, incident.ErrNotFound, "Get")
	_, err = s.Get(ctx(t), "")
	assert.ErrorIs(t, err, incident.ErrNotFound, "Get of an empty ID")
	missing := sample()
	missing.ID = "INC-20261125-0099"
	assert.ErrorIs(t, s.Update(ctx(t), missing), incident.ErrNotFound, "Update")
	_, err = s.Get(ctx(t), missing.ID)
	assert.ErrorIs(t, err, incident.ErrNotFound, "Update does not create")
	assert.ErrorIs(t, incident.AddNote(ctx(t), s, missing.ID, "a", "b", day), incident.ErrNotFound, "AddNote")
}

func testUpdate(t *testing.T, s incident.Store) {
	inc := open(t, s, sample())
	other := open(t, s, sample())

	resolved := day.Add(3 * time.Hour)
	inc.Status = incident.StatusResolved
	inc.ResolvedAt = resolved
	inc.UpdatedAt = resolved
	inc.ResolvedByRun = "run-7"
	inc.Models = append(inc.Models, "mart_daily_sales")
	inc.Recovered = slices.Clone(inc.Models)
	inc.Attempts, inc.Occurrences = 9, 4
	inc.LastError = "timeout after 5m"
	inc.LastRunID = "run-6"
	inc.LastFailedAt = resolved.Add(-time.Hour)
	inc.Severity = incident.SeverityCritical
	inc.Owner = "data-platform"
	inc.RootCause = "a renamed column\n\nupstream team notified"
	inc.Notes = []incident.Note{{At: day.Add(time.Hour), Author: "asha", Text: "looking"}}
	require.NoError(t, s.Update(ctx(t), inc))

	got, err := s.Get(ctx(t), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, got)

	unchanged, err := s.Get(ctx(t), other.ID)
	require.NoError(t, err)
	assert.Equal(t, other, unchanged, "Update changes only its incident")

	// Back to open, fields cleared.
	inc.Status = incident.StatusOpen
	inc.ResolvedAt = time.Time{}
	inc.ResolvedByRun = ""
	inc.Recovered = nil
	inc.Notes = nil
	inc.RootCause = ""
	require.NoError(t, s.Update(ctx(t), inc))
	got, err = s.Get(ctx(t), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, got)

	// The helpers work on top of Update.
	require.NoError(t, incident.SetRootCause(ctx(t), s, inc.ID, "disk full"))
	require.NoError(t, incident.Resolve(ctx(t), s, inc.ID, "ravi", day.Add(5*time.Hour)))
	got, err = s.Get(ctx(t), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, "disk full", got.RootCause)
	assert.Equal(t, incident.StatusResolved, got.Status)
	assert.Equal(t, day.Add(5*time.Hour), got.ResolvedAt)
	assert.Equal(t, []incident.Note{{At: day.Add(5 * time.Hour), Author: "ravi", Text: "Resolved."}}, got.Notes)
	assert.ErrorIs(t, incident.Resolve(ctx(t), s, inc.ID, "ravi", day.Add(6*time.Hour)), incident.ErrAlreadyResolved)
}

func testUpdateRejects(t *testing.T, s incident.Store) {
	inc := open(t, s, sample())
	noID := inc
	noID.ID = ""
	assert.Error(t, s.Update(ctx(t), noID), "Update without ID")
	bad := inc
	bad.Status = "closed"
	assert.Error(t, s.Update(ctx(t), bad), "Update with an unknown status")
	got, err := s.Get(ctx(t), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, got)
}

func testNotesRoundTrip(t *testing.T, s incident.Store) {
	inc := open(t, s, sample())
	notes := []incident.Note{
		{At: day.Add(10 * time.Minute), Author: "asha", Text: "Paged the finance on-call."},
		{At: day.Add(20 * time.Minute), Author: "ravi@example.com", Text: "Multi-line\n```sql\nselect \"amount\", 'x' from t\n```\n"},
		{At: day.Add(30 * time.Minute), Author: "", Text: "unicode: ₹ 1,00,000 — ठीक है ✓ \\ \t tab"},
	}
	for _, n := range notes {
		require.NoError(t, incident.AddNote(ctx(t), s, inc.ID, n.Author, n.Text, n.At))
	}
	got, err := s.Get(ctx(t), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, notes, got.Notes)
	assert.Equal(t, day.Add(30*time.Minute), got.UpdatedAt, "AddNote sets UpdatedAt")
	assert.Error(t, incident.AddNote(ctx(t), s, inc.ID, "asha", "  ", day), "empty note")

	list, err := s.List(ctx(t), incident.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, notes, list[0].Notes, "List returns notes too")
}

func testCopies(t *testing.T, s incident.Store) {
	in := sample()
	in.Notes = []incident.Note{{At: day, Author: "a", Text: "b"}}
	got := open(t, s, in)
	in.Models[0] = "changed"
	got.Models[1] = "changed"
	got.Notes[0].Text = "changed"
	stored, err := s.Get(ctx(t), got.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"stg_orders", "stg_payments"}, stored.Models)
	assert.Equal(t, "b", stored.Notes[0].Text)
	stored.Recovered[0] = "changed"
	again, err := s.Get(ctx(t), got.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"stg_payments"}, again.Recovered)
}

func testListEmpty(t *testing.T, s incident.Store) {
	list, err := s.List(ctx(t), incident.Filter{})
	require.NoError(t, err)
	assert.Empty(t, list)
	list, err = s.List(ctx(t), incident.Filter{Status: incident.StatusOpen, Environment: "prod", Model: "x", Limit: 3})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testListOrder(t *testing.T, s incident.Store) {
	at := func(d time.Duration) incident.Incident {
		inc := sample()
		inc.OpenedAt = day.Add(d)
		inc.UpdatedAt = inc.OpenedAt
		return inc
	}
	a := open(t, s, at(2*time.Hour))   // INC-20261125-0001
	b := open(t, s, at(0))             // INC-20261125-0002, opened earliest
	c := open(t, s, at(2*time.Hour))   // INC-20261125-0003, same time as a
	d := open(t, s, at(-48*time.Hour)) // INC-20261123-0001
	e := open(t, s, at(30*time.Hour))  // INC-20261126-0001
	list, err := s.List(ctx(t), incident.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{e.ID, c.ID, a.ID, b.ID, d.ID}, ids(list), "newest first, then highest ID")
	assert.Equal(t, a, list[2])

	list, err = s.List(ctx(t), incident.Filter{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{e.ID, c.ID}, ids(list))
	list, err = s.List(ctx(t), incident.Filter{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, list, 5)
}

func testListFilters(t *testing.T, s incident.Store) {
	mk := func(env string, status incident.Status, hour int, models ...string) incident.Incident {
		inc := sample()
		inc.Environment, inc.Status, inc.Models, inc.Recovered = env, status, models, nil
		inc.OpenedAt = day.Add(time.Duration(hour) * time.Hour)
		inc.UpdatedAt = inc.OpenedAt
		if status == incident.StatusResolved {
			inc.ResolvedAt = inc.OpenedAt.Add(time.Hour)
		}
		return open(t, s, inc)
	}
	p1 := mk("prod", incident.StatusOpen, 1, "stg_orders", "stg_payments")
	p2 := mk("prod", incident.StatusResolved, 2, "stg_orders")
	p3 := mk("prod", incident.StatusOpen, 3, "mart_sales")
	s1 := mk("staging", incident.StatusOpen, 4, "stg_orders")
	s2 := mk("staging", incident.StatusResolved, 5, "stg_orders_v2")
	// A model whose name contains LIKE and JSON metacharacters.
	odd := mk("prod", incident.StatusOpen, 6, `we%ird_"na\me`)

	cases := []struct {
		name string
		f    incident.Filter
		want []incident.Incident
	}{
		{"all", incident.Filter{}, []incident.Incident{odd, s2, s1, p3, p2, p1}},
		{"open", incident.Filter{Status: incident.StatusOpen}, []incident.Incident{odd, s1, p3, p1}},
		{"resolved", incident.Filter{Status: incident.StatusResolved}, []incident.Incident{s2, p2}},
		{"environment", incident.Filter{Environment: "prod"}, []incident.Incident{odd, p3, p2, p1}},
		{"unknown environment", incident.Filter{Environment: "dev"}, nil},
		{"model", incident.Filter{Model: "stg_orders"}, []incident.Incident{s1, p2, p1}},
		{"model is exact", incident.Filter{Model: "stg_order"}, nil},
		{"model second in list", incident.Filter{Model: "stg_payments"}, []incident.Incident{p1}},
		{"odd model", incident.Filter{Model: `we%ird_"na\me`}, []incident.Incident{odd}},
		{"odd model is not a pattern", incident.Filter{Model: `we%`}, nil},
		{"combined", incident.Filter{Status: incident.StatusOpen, Environment: "prod", Model: "stg_orders"}, []incident.Incident{p1}},
		{"combined with limit", incident.Filter{Status: incident.StatusOpen, Model: "stg_orders", Limit: 1}, []incident.Incident{s1}},
		{"limit after filter", incident.Filter{Environment: "staging", Limit: 5}, []incident.Incident{s2, s1}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx(t), tt.f)
			require.NoError(t, err)
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func testConcurrentOpens(t *testing.T, s incident.Store) {
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []string
		errs []error
	)
	for i := range n {
		wg.Go(func() {
			inc := sample()
			inc.Models = []string{fmt.Sprintf("model_%02d", i)}
			opened, err := s.Open(ctx(t), inc)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			got = append(got, opened.ID)
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, incident.FormatID(day, i))
	}
	slices.Sort(got)
	assert.Equal(t, want, got, "unique, gapless IDs")

	list, err := s.List(ctx(t), incident.Filter{})
	require.NoError(t, err)
	require.Len(t, list, n)
	for _, inc := range list {
		require.Len(t, inc.Models, 1)
		got, err := s.Get(ctx(t), inc.ID)
		require.NoError(t, err)
		assert.Equal(t, inc, got)
	}
}
