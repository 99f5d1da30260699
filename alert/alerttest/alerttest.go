// Package alerttest is a conformance suite for alert.Store implementations
// and helpers for tests of code that sends alerts.
package alerttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
)

// day is when the suite's alerts start.
var day = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// RunStoreTests checks that the stores made by newStore behave as
// alert.Store requires. newStore must return an empty store each call.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) alert.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s alert.Store)
	}{
		{"SaveGetRoundTrip", testRoundTrip},
		{"SaveReplaces", testReplaces},
		{"NotFound", testNotFound},
		{"ListOrderAndFilters", testList},
		{"Ack", testAck},
		{"SaveKeepsAck", testSaveKeepsAck},
		{"Silences", testSilences},
		{"SilenceRejects", testSilenceRejects},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// Sample is a fully populated firing alert.
func Sample(model string) alert.Alert {
	return alert.Alert{
		Type: alert.TypeRunFailed, Severity: alert.SeverityHigh,
		Title: "Model " + model + " failed", Body: "Binder Error: column x not found\nline 2",
		Labels: map[string]string{
			alert.LabelEnvironment: "prod", alert.LabelModel: model, alert.LabelLayer: "marts",
			alert.LabelTeam: "analytics", alert.LabelRunID: "run-1",
		},
		Runbook:  "Fix the model.",
		Links:    []alert.Link{{Title: "run", URL: "http://localhost:8080/runs/run-1"}},
		StartsAt: day,
	}
}

func record(model string, seen time.Time) alert.Record {
	a := Sample(model)
	return alert.Record{ID: a.Fingerprint(), Alert: a, FirstSeen: day, LastSeen: seen, Count: 3, LastNotified: seen.Add(-time.Minute)}
}

func testRoundTrip(t *testing.T, s alert.Store) {
	ctx := context.Background()
	r := record("fct_orders", day.Add(time.Hour))
	r.EscalatedAt = day.Add(2 * time.Hour)
	require.NoError(t, s.SaveAlert(ctx, r))
	got, err := s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assertRecord(t, r, got)
	// The caller's copy is independent of the stored one.
	got.Alert.Labels["model"] = "changed"
	again, err := s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "fct_orders", again.Alert.Labels["model"])
}

func assertRecord(t *testing.T, want, got alert.Record) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.Alert.Type, got.Alert.Type)
	assert.Equal(t, want.Alert.Severity, got.Alert.Severity)
	assert.Equal(t, want.Alert.Title, got.Alert.Title)
	assert.Equal(t, want.Alert.Body, got.Alert.Body)
	assert.Equal(t, want.Alert.Labels, got.Alert.Labels)
	assert.Equal(t, want.Alert.Runbook, got.Alert.Runbook)
	assert.Equal(t, want.Alert.Links, got.Alert.Links)
	assert.True(t, want.Alert.StartsAt.Equal(got.Alert.StartsAt), "StartsAt %s vs %s", want.Alert.StartsAt, got.Alert.StartsAt)
	assert.True(t, want.Alert.EndsAt.Equal(got.Alert.EndsAt), "EndsAt")
	assert.True(t, want.FirstSeen.Equal(got.FirstSeen), "FirstSeen")
	assert.True(t, want.LastSeen.Equal(got.LastSeen), "LastSeen")
	assert.True(t, want.LastNotified.Equal(got.LastNotified), "LastNotified")
	assert.True(t, want.EscalatedAt.Equal(got.EscalatedAt), "EscalatedAt")
	assert.True(t, want.AckedAt.Equal(got.AckedAt), "AckedAt")
	assert.Equal(t, want.AckedBy, got.AckedBy)
	assert.Equal(t, want.Count, got.Count)
	assert.Equal(t, want.Alert.Fingerprint(), got.Alert.Fingerprint())
}

func testReplaces(t *testing.T, s alert.Store) {
	ctx := context.Background()
	r := record("fct_orders", day)
	require.NoError(t, s.SaveAlert(ctx, r))
	r.Alert.EndsAt = day.Add(3 * time.Hour)
	r.Count = 7
	require.NoError(t, s.SaveAlert(ctx, r))
	got, err := s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assertRecord(t, r, got)
	assert.False(t, got.Open())
	all, err := s.Alerts(ctx, alert.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 1)
	assert.Error(t, s.SaveAlert(ctx, alert.Record{}), "an empty ID is refused")
}

func testNotFound(t *testing.T, s alert.Store) {
	ctx := context.Background()
	_, err := s.Alert(ctx, "nope")
	assert.ErrorIs(t, err, alert.ErrNotFound)
	_, err = s.Ack(ctx, "nope", "asha", day)
	assert.ErrorIs(t, err, alert.ErrNotFound)
	assert.ErrorIs(t, s.ExpireSilence(ctx, "nope", day), alert.ErrNotFound)
	list, err := s.Alerts(ctx, alert.Filter{Open: true})
	require.NoError(t, err)
	assert.Empty(t, list)
	sil, err := s.Silences(ctx)
	require.NoError(t, err)
	assert.Empty(t, sil)
}

func testList(t *testing.T, s alert.Store) {
	ctx := context.Background()
	a := record("a", day.Add(1*time.Hour))
	b := record("b", day.Add(3*time.Hour))
	c := record("c", day.Add(2*time.Hour))
	c.Alert.EndsAt = day.Add(4 * time.Hour)
	for _, r := range []alert.Record{a, b, c} {
		require.NoError(t, s.SaveAlert(ctx, r))
	}
	all, err := s.Alerts(ctx, alert.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{b.ID, c.ID, a.ID}, ids(all), "most recently seen first")
	open, err := s.Alerts(ctx, alert.Filter{Open: true})
	require.NoError(t, err)
	assert.Equal(t, []string{b.ID, a.ID}, ids(open))
	one, err := s.Alerts(ctx, alert.Filter{Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{b.ID}, ids(one))
}

func ids(rs []alert.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testAck(t *testing.T, s alert.Store) {
	ctx := context.Background()
	r := record("fct_orders", day)
	require.NoError(t, s.SaveAlert(ctx, r))
	got, err := s.Ack(ctx, r.ID, "asha", day.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "asha", got.AckedBy)
	stored, err := s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, stored.Acknowledged())
	assert.True(t, stored.AckedAt.Equal(day.Add(time.Minute)))
	assert.Equal(t, r.Count, stored.Count, "ack keeps the rest of the record")
	_, err = s.Ack(ctx, r.ID, " ", day)
	assert.Error(t, err, "an ack names who acknowledges")
}

func testSaveKeepsAck(t *testing.T, s alert.Store) {
	ctx := context.Background()
	r := record("fct_orders", day)
	require.NoError(t, s.SaveAlert(ctx, r))
	_, err := s.Ack(ctx, r.ID, "asha", day.Add(time.Minute))
	require.NoError(t, err)
	esc := r
	esc.EscalatedAt = day.Add(20 * time.Minute)
	require.NoError(t, s.SaveAlert(ctx, esc))
	// A writer that never saw the ack or the escalation saves the record.
	r.Count, r.LastSeen = 9, day.Add(time.Hour)
	require.NoError(t, s.SaveAlert(ctx, r))
	got, err := s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, 9, got.Count)
	assert.Equal(t, "asha", got.AckedBy, "the ack is not cleared")
	assert.True(t, got.AckedAt.Equal(day.Add(time.Minute)), "AckedAt %s", got.AckedAt)
	assert.True(t, got.EscalatedAt.Equal(day.Add(20*time.Minute)), "EscalatedAt %s", got.EscalatedAt)
	// A new firing episode (another FirstSeen) starts unacknowledged.
	again := record("fct_orders", day.Add(5*time.Hour))
	again.FirstSeen = day.Add(5 * time.Hour)
	require.NoError(t, s.SaveAlert(ctx, again))
	got, err = s.Alert(ctx, r.ID)
	require.NoError(t, err)
	assert.False(t, got.Acknowledged())
	assert.True(t, got.EscalatedAt.IsZero())
}

func testSilences(t *testing.T, s alert.Store) {
	ctx := context.Background()
	m1, _ := alert.ParseMatcher(`model=~"fct_.*"`)
	s1, err := s.AddSilence(ctx, alert.Silence{Matchers: alert.Matchers{m1, alert.Eq("environment", "prod")}, StartsAt: day, EndsAt: day.Add(2 * time.Hour), CreatedBy: "asha", Comment: "maintenance"})
	require.NoError(t, err)
	assert.NotEmpty(t, s1.ID)
	s2, err := s.AddSilence(ctx, alert.Silence{ID: "mine", Matchers: alert.Matchers{alert.Eq("team", "finance")}, StartsAt: day.Add(time.Hour), EndsAt: day.Add(3 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, "mine", s2.ID)
	list, err := s.Silences(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "mine", list[0].ID, "newest start first")
	got := list[1]
	assert.Equal(t, s1.ID, got.ID)
	assert.Equal(t, "asha", got.CreatedBy)
	assert.Equal(t, "maintenance", got.Comment)
	require.Len(t, got.Matchers, 2)
	a := Sample("fct_orders")
	assert.True(t, got.Mutes(a, day.Add(time.Hour)), "the stored matchers still match (regexp kept)")
	assert.False(t, got.Mutes(Sample("dim_dates"), day.Add(time.Hour)))
	assert.False(t, got.Mutes(a, day.Add(2*time.Hour)), "expired")

	require.NoError(t, s.ExpireSilence(ctx, s1.ID, day.Add(30*time.Minute)))
	list, err = s.Silences(ctx)
	require.NoError(t, err)
	for _, sil := range list {
		if sil.ID == s1.ID {
			assert.True(t, sil.EndsAt.Equal(day.Add(30*time.Minute)))
			assert.False(t, sil.Mutes(a, day.Add(time.Hour)))
		}
	}
}

func testSilenceRejects(t *testing.T, s alert.Store) {
	ctx := context.Background()
	_, err := s.AddSilence(ctx, alert.Silence{StartsAt: day, EndsAt: day.Add(time.Hour)})
	assert.Error(t, err, "no matchers")
	_, err = s.AddSilence(ctx, alert.Silence{Matchers: alert.Matchers{alert.Eq("a", "b")}, StartsAt: day, EndsAt: day})
	assert.Error(t, err, "empty interval")
	list, err := s.Silences(ctx)
	require.NoError(t, err)
	assert.Empty(t, list, "nothing half-written")
}

func testConcurrent(t *testing.T, s alert.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			if err := s.SaveAlert(ctx, record(fmt.Sprintf("m%02d", i), day.Add(time.Duration(i)*time.Minute))); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all, err := s.Alerts(ctx, alert.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 20)
}

// Recorder is a Notifier that keeps what it receives and can be made to
// fail, for tests.
type Recorder struct {
	mu   sync.Mutex
	got  []alert.Notification
	fail error
	// Calls counts Notify calls, failed ones included.
	calls int
}

// Notify records n, or returns the configured failure.
func (r *Recorder) Notify(_ context.Context, n alert.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, n)
	return nil
}

// Fail makes every later Notify return err (nil: succeed again).
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Got returns the notifications received so far.
func (r *Recorder) Got() []alert.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alert.Notification(nil), r.got...)
}

// Calls returns how often Notify was called.
func (r *Recorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// ErrDown is a channel failure for tests.
var ErrDown = errors.New("channel is down")
