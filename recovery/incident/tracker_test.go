package incident_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery/incident"
)

// clock is a manual clock for Tracker.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)} }
func ok(node string) incident.Outcome {
	return incident.Outcome{Node: node, Status: "success", Attempts: 1}
}
func skipped(node string) incident.Outcome                        { return incident.Outcome{Node: node, Status: "skipped"} }
func withOwner(o incident.Outcome, owner string) incident.Outcome { o.Owner = owner; return o }

func failed(node, class, msg string, attempts int) incident.Outcome {
	return incident.Outcome{Node: node, Status: "error", Class: class, Error: msg, Owner: "finance", Attempts: attempts}
}

func newTracker() (*incident.Tracker, *clock) {
	c := newClock()
	return &incident.Tracker{Store: incident.NewMemoryStore(), Environment: "prod", Now: c.Now}, c
}

func observe(t *testing.T, tr *incident.Tracker, run string, outcomes ...incident.Outcome) incident.Changes {
	t.Helper()
	ch, err := tr.Observe(context.Background(), run, outcomes)
	require.NoError(t, err)
	return ch
}

func listAll(t *testing.T, s incident.Store) []incident.Incident {
	t.Helper()
	list, err := s.List(context.Background(), incident.Filter{})
	require.NoError(t, err)
	return list
}

func TestTrackerLifecycle(t *testing.T) {
	tr, c := newTracker()
	opened := c.Now()

	// Run 1: two models fail with the same class and owner: one incident.
	ch := observe(t, tr, "run-1",
		ok("raw_orders"),
		failed("stg_orders", "permanent", `Binder Error: column "amount" not found`, 1),
		failed("stg_payments", "permanent", `Binder Error: column "fee" not found`, 2),
		skipped("mart_daily_sales"),
	)
	require.Len(t, ch.Opened, 1)
	assert.Empty(t, ch.Updated)
	assert.Empty(t, ch.Resolved)
	inc := ch.Opened[0]
	assert.Equal(t, incident.Incident{
		ID:           "INC-20261125-0001",
		Environment:  "prod",
		OpenedAt:     opened,
		UpdatedAt:    opened,
		LastFailedAt: opened,
		Status:       incident.StatusOpen,
		Models:       []string{"stg_orders", "stg_payments"},
		Class:        "permanent",
		FirstError:   `Binder Error: column "amount" not found`,
		LastError:    `Binder Error: column "fee" not found`,
		Attempts:     3,
		Occurrences:  1,
		RunID:        "run-1",
		LastRunID:    "run-1",
		Owner:        "finance",
		Severity:     incident.SeverityHigh,
	}, inc)
	stored, err := tr.Store.Get(context.Background(), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, stored)

	// Run 2: both fail again: the same incident is updated.
	c.Advance(time.Hour)
	ch = observe(t, tr, "run-2",
		failed("stg_orders", "permanent", "still broken", 3),
		failed("stg_payments", "permanent", "still broken", 3),
	)
	assert.Empty(t, ch.Opened)
	require.Len(t, ch.Updated, 1)
	inc = ch.Updated[0]
	assert.Equal(t, "INC-20261125-0001", inc.ID)
	assert.Equal(t, 9, inc.Attempts, "attempts grow")
	assert.Equal(t, 2, inc.Occurrences)
	assert.Equal(t, "still broken", inc.LastError)
	assert.Equal(t, `Binder Error: column "amount" not found`, inc.FirstError)
	assert.Equal(t, "run-2", inc.LastRunID)
	assert.Equal(t, "run-1", inc.RunID)
	assert.Equal(t, opened, inc.OpenedAt)
	assert.Equal(t, c.Now(), inc.UpdatedAt)
	assert.Equal(t, c.Now(), inc.LastFailedAt)
	assert.Len(t, listAll(t, tr.Store), 1, "no duplicate incident")

	// Run 3: one model succeeds: still open.
	c.Advance(time.Hour)
	ch = observe(t, tr, "run-3",
		ok("stg_orders"),
		failed("stg_payments", "permanent", "fee still missing", 1),
	)
	assert.Empty(t, ch.Opened)
	assert.Empty(t, ch.Resolved)
	require.Len(t, ch.Updated, 1)
	inc = ch.Updated[0]
	assert.Equal(t, incident.StatusOpen, inc.Status)
	assert.Equal(t, []string{"stg_orders"}, inc.Recovered)
	assert.Equal(t, []string{"stg_payments"}, inc.Pending())
	assert.True(t, inc.ResolvedAt.IsZero())

	// Run 4: only the other model runs and succeeds: all models have now
	// succeeded since they last failed, so the incident is resolved.
	c.Advance(time.Hour)
	ch = observe(t, tr, "run-4", ok("stg_payments"), ok("mart_daily_sales"))
	assert.Empty(t, ch.Opened)
	assert.Empty(t, ch.Updated)
	require.Len(t, ch.Resolved, 1)
	inc = ch.Resolved[0]
	assert.Equal(t, incident.StatusResolved, inc.Status)
	assert.Equal(t, "run-4", inc.ResolvedByRun)
	assert.Equal(t, c.Now(), inc.ResolvedAt)
	assert.Equal(t, c.Now(), inc.UpdatedAt)
	assert.Equal(t, c.Now().Add(-time.Hour), inc.LastFailedAt)
	stored, err = tr.Store.Get(context.Background(), inc.ID)
	require.NoError(t, err)
	assert.Equal(t, inc, stored)

	// Run 5: the model fails again: the resolved incident stays resolved
	// and a new one opens.
	c.Advance(time.Hour)
	ch = observe(t, tr, "run-5", failed("stg_orders", "permanent", "again", 1))
	require.Len(t, ch.Opened, 1)
	assert.Equal(t, "INC-20261125-0002", ch.Opened[0].ID)
	assert.Empty(t, ch.Updated)
}

func TestTrackerBothSucceedInOneRun(t *testing.T) {
	tr, c := newTracker()
	observe(t, tr, "run-1", failed("a", "transient", "lock", 3), failed("b", "transient", "lock", 3))
	c.Advance(10 * time.Minute)
	ch := observe(t, tr, "run-2", ok("a"), ok("b"))
	require.Len(t, ch.Resolved, 1)
	assert.Equal(t, "run-2", ch.Resolved[0].ResolvedByRun)
	assert.Equal(t, []string{"a", "b"}, ch.Resolved[0].Recovered)
	open, err := tr.Store.List(context.Background(), incident.Filter{Status: incident.StatusOpen})
	require.NoError(t, err)
	assert.Empty(t, open)
}

func TestTrackerRecoveredModelFailsAgain(t *testing.T) {
	tr, _ := newTracker()
	observe(t, tr, "run-1", failed("a", "transient", "x", 1), failed("b", "transient", "x", 1))
	observe(t, tr, "run-2", ok("a"), failed("b", "transient", "x", 1))
	// a breaks again before b recovers: a must succeed again too.
	ch := observe(t, tr, "run-3", failed("a", "transient", "y", 1), ok("b"))
	require.Len(t, ch.Updated, 1)
	assert.Equal(t, []string{"b"}, ch.Updated[0].Recovered)
	ch = observe(t, tr, "run-4", ok("a"))
	require.Len(t, ch.Resolved, 1)
	assert.Equal(t, "run-4", ch.Resolved[0].ResolvedByRun)
}

func TestTrackerSeparateIncidents(t *testing.T) {
	tr, _ := newTracker()
	ch := observe(t, tr, "run-1",
		failed("stg_orders", "permanent", "binder", 1),
		failed("src_events", "source_missing", "no such table", 1),
		failed("stg_payments", "permanent", "binder", 1),
		withOwner(failed("mart_marketing", "permanent", "binder", 1), "growth"),
		incident.Outcome{Node: "assert_positive", Status: "fail", Class: "test_failure", Error: "3 failing rows", Owner: "finance", Critical: true},
		incident.Outcome{Node: "mart_sessions", Status: "fallback", Class: "transient", Error: "IO Error", Owner: "growth"},
	)
	require.Len(t, ch.Opened, 5, "one per class and owner")
	type summary struct {
		ID, Class, Owner, Severity string
		Models                     []string
	}
	var got []summary
	for _, inc := range ch.Opened {
		got = append(got, summary{inc.ID, inc.Class, inc.Owner, inc.Severity, inc.Models})
	}
	assert.Equal(t, []summary{
		{"INC-20261125-0001", "permanent", "finance", incident.SeverityHigh, []string{"stg_orders", "stg_payments"}},
		{"INC-20261125-0002", "source_missing", "finance", incident.SeverityHigh, []string{"src_events"}},
		{"INC-20261125-0003", "permanent", "growth", incident.SeverityHigh, []string{"mart_marketing"}},
		{"INC-20261125-0004", "test_failure", "finance", incident.SeverityCritical, []string{"assert_positive"}},
		{"INC-20261125-0005", "transient", "growth", incident.SeverityMedium, []string{"mart_sessions"}},
	}, got)

	// A model that now fails with another class gets its own incident; the
	// first stays open (the model has not succeeded).
	ch = observe(t, tr, "run-2", failed("stg_orders", "timeout", "timed out after 5m", 1))
	require.Len(t, ch.Opened, 1)
	assert.Equal(t, "timeout", ch.Opened[0].Class)
	assert.Equal(t, []string{"stg_orders"}, ch.Opened[0].Models)
	assert.Len(t, listAll(t, tr.Store), 6)

	// Once it succeeds, every incident covering it counts it as recovered.
	ch = observe(t, tr, "run-3", ok("stg_orders"), ok("stg_payments"))
	assert.Equal(t, []string{"INC-20261125-0001", "INC-20261125-0006"}, idsOf(ch.Resolved))
}

func TestTrackerNewModelJoinsIncidentOfTheRun(t *testing.T) {
	tr, _ := newTracker()
	observe(t, tr, "run-1", failed("a", "permanent", "x", 1))
	// a is still failing and b starts failing the same way: one incident
	// per class and owner per run, so b joins a's.
	ch := observe(t, tr, "run-2", failed("a", "permanent", "x", 1), failed("b", "permanent", "x", 2))
	assert.Empty(t, ch.Opened)
	require.Len(t, ch.Updated, 1)
	assert.Equal(t, []string{"a", "b"}, ch.Updated[0].Models)
	assert.Equal(t, 4, ch.Updated[0].Attempts)

	// A failure in a later run where the incident's models do not fail
	// opens a new incident.
	ch = observe(t, tr, "run-3", ok("a"), failed("c", "permanent", "x", 1))
	require.Len(t, ch.Opened, 1)
	assert.Equal(t, []string{"c"}, ch.Opened[0].Models)
	require.Len(t, ch.Updated, 1)
	assert.Equal(t, []string{"a"}, ch.Updated[0].Recovered)
}

func TestTrackerSeverityEscalates(t *testing.T) {
	tr, _ := newTracker()
	fb := incident.Outcome{Node: "a", Status: "fallback", Class: "transient", Owner: "o"}
	ch := observe(t, tr, "run-1", fb)
	assert.Equal(t, incident.SeverityMedium, ch.Opened[0].Severity)
	fb.Critical = true
	ch = observe(t, tr, "run-2", fb)
	assert.Equal(t, incident.SeverityCritical, ch.Updated[0].Severity)
	fb.Critical = false
	ch = observe(t, tr, "run-3", fb)
	assert.Equal(t, incident.SeverityCritical, ch.Updated[0].Severity, "never downgraded")

	// A severity set by hand is kept.
	inc := ch.Updated[0]
	inc.Severity = "sev2"
	require.NoError(t, tr.Store.Update(context.Background(), inc))
	fb.Critical = true
	ch = observe(t, tr, "run-4", fb)
	assert.Equal(t, "sev2", ch.Updated[0].Severity)
}

func TestTrackerSameRunTwice(t *testing.T) {
	tr, c := newTracker()
	outcomes := []incident.Outcome{failed("a", "permanent", "x", 2), failed("b", "permanent", "x", 1)}
	observe(t, tr, "run-1", outcomes...)
	c.Advance(time.Minute)
	ch := observe(t, tr, "run-1", outcomes...)
	assert.Empty(t, ch.Opened)
	require.Len(t, ch.Updated, 1)
	assert.Equal(t, 3, ch.Updated[0].Attempts, "not counted twice")
	assert.Equal(t, 1, ch.Updated[0].Occurrences)

	// Outcomes reported in pieces still make one incident per class and
	// owner for the run.
	tr2, _ := newTracker()
	observe(t, tr2, "run-1", outcomes[0])
	ch = observe(t, tr2, "run-1", outcomes[1])
	assert.Empty(t, ch.Opened)
	require.Len(t, ch.Updated, 1)
	assert.Equal(t, []string{"a", "b"}, ch.Updated[0].Models)
	assert.Equal(t, 3, ch.Updated[0].Attempts)
}

func TestTrackerIgnores(t *testing.T) {
	tr, _ := newTracker()
	ch := observe(t, tr, "run-1", skipped("a"), incident.Outcome{Node: "b", Status: "cancelled"}, ok("c"),
		incident.Outcome{Node: "d", Status: "warn"}, incident.Outcome{Node: "e", Status: "pass"})
	assert.True(t, ch.Empty())
	assert.Empty(t, listAll(t, tr.Store))

	// Skipped nodes neither fail nor recover an incident.
	observe(t, tr, "run-2", failed("a", "permanent", "x", 1))
	ch = observe(t, tr, "run-3", skipped("a"))
	assert.True(t, ch.Empty())
	// The last outcome of a node wins.
	ch = observe(t, tr, "run-4", failed("a", "permanent", "x", 1), ok("a"))
	require.Len(t, ch.Resolved, 1)
}

func TestTrackerEnvironments(t *testing.T) {
	store := incident.NewMemoryStore()
	c := newClock()
	prod := &incident.Tracker{Store: store, Environment: "prod", Now: c.Now}
	dev := &incident.Tracker{Store: store, Environment: "dev", Now: c.Now}
	observe(t, prod, "p1", failed("a", "permanent", "x", 1))
	ch := observe(t, dev, "d1", failed("a", "permanent", "x", 1))
	require.Len(t, ch.Opened, 1, "dev does not update prod's incident")
	assert.Equal(t, "dev", ch.Opened[0].Environment)
	ch = observe(t, dev, "d2", ok("a"))
	require.Len(t, ch.Resolved, 1)
	assert.Equal(t, "dev", ch.Resolved[0].Environment)
	open, err := store.List(context.Background(), incident.Filter{Status: incident.StatusOpen})
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, "prod", open[0].Environment)
}

// failingStore fails Update.
type failingStore struct{ incident.Store }

func (failingStore) Update(context.Context, incident.Incident) error { return errors.New("disk full") }

func TestTrackerErrors(t *testing.T) {
	tr, _ := newTracker()
	_, err := tr.Observe(context.Background(), "", nil)
	assert.Error(t, err)
	_, err = (&incident.Tracker{}).Observe(context.Background(), "r", nil)
	assert.Error(t, err)

	observe(t, tr, "run-1", failed("a", "permanent", "x", 1))
	tr.Store = failingStore{tr.Store}
	ch, err := tr.Observe(context.Background(), "run-2", []incident.Outcome{failed("b", "timeout", "y", 1), ok("a")})
	assert.ErrorContains(t, err, "disk full")
	assert.Len(t, ch.Opened, 1, "changes stored before the error are returned")

	tr.Now = nil // the default clock works too
	ch, err = tr.Observe(context.Background(), "run-3", []incident.Outcome{failed("z", "timeout", "y", 1)})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ch.Opened[0].OpenedAt, time.Minute)
}

func TestHelpers(t *testing.T) {
	tr, c := newTracker()
	ch := observe(t, tr, "run-1", failed("a", "permanent", "x", 1))
	id := ch.Opened[0].ID
	ctx := context.Background()
	c.Advance(time.Minute)
	require.NoError(t, incident.AddNote(ctx, tr.Store, id, "asha", "investigating", c.Now()))
	require.NoError(t, incident.SetRootCause(ctx, tr.Store, id, "renamed column"))
	c.Advance(time.Minute)
	require.NoError(t, incident.Resolve(ctx, tr.Store, id, "asha", c.Now()))
	inc, err := tr.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, inc.Status)
	assert.Equal(t, "renamed column", inc.RootCause)
	assert.Equal(t, c.Now(), inc.ResolvedAt)
	assert.Empty(t, inc.ResolvedByRun)
	assert.Equal(t, []incident.Note{
		{At: c.Now().Add(-time.Minute), Author: "asha", Text: "investigating"},
		{At: c.Now(), Author: "asha", Text: "Resolved."},
	}, inc.Notes)
	assert.ErrorIs(t, incident.Resolve(ctx, tr.Store, id, "asha", c.Now()), incident.ErrAlreadyResolved)
	assert.ErrorIs(t, incident.SetRootCause(ctx, tr.Store, "INC-20000101-0001", "x"), incident.ErrNotFound)
	assert.ErrorIs(t, incident.Resolve(ctx, tr.Store, "INC-20000101-0001", "x", c.Now()), incident.ErrNotFound)

	// A manually resolved incident is not touched by later runs.
	ch = observe(t, tr, "run-2", ok("a"))
	assert.True(t, ch.Empty())
}

func idsOf(incs []incident.Incident) []string {
	var out []string
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}
