// Package incident keeps a log of pipeline incidents: failures that need a
// person's attention, grouped so that one broken upstream does not page
// anyone ten times.
//
// A Tracker turns each finished run into incident changes: failed nodes open
// an incident (one per failure class and owner team per run), later failures
// of the same models update it, and it resolves itself once all its models
// have succeeded again. People add notes and a root cause (AddNote,
// SetRootCause), and WriteReport renders the markdown for the post-incident
// review.
//
// The package takes plain data (Outcome) rather than orchestrate's results,
// and keeps incidents in a Store: NewMemoryStore here, a DuckDB one in
// env/duckenv. Store implementations are checked by
// incidenttest.RunStoreTests.
package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is the state of an incident.
type Status string

// The incident statuses.
const (
	// StatusOpen is an incident that still needs attention.
	StatusOpen Status = "open"
	// StatusResolved is an incident whose models all succeed again, or that
	// someone closed with Resolve.
	StatusResolved Status = "resolved"
)

// Valid reports whether s is StatusOpen or StatusResolved.
func (s Status) Valid() bool { return s == StatusOpen || s == StatusResolved }

// The severities a Tracker assigns, from most to least severe.
const (
	// SeverityCritical is a failure of a node marked critical.
	SeverityCritical = "critical"
	// SeverityHigh is a node that errored or a data test that failed.
	SeverityHigh = "high"
	// SeverityMedium is a node that fell back to its last good data: the
	// data is stale but still served.
	SeverityMedium = "medium"
)

// ErrNotFound is returned (wrapped) by Store.Get and Store.Update for an
// unknown incident ID.
var ErrNotFound = errors.New("incident not found")

// ErrAlreadyResolved is returned by Resolve for an incident that is already
// resolved.
var ErrAlreadyResolved = errors.New("incident already resolved")

// Note is a free-text entry in an incident's timeline.
type Note struct {
	// At is when the note was written.
	At time.Time `json:"at"`
	// Author is who wrote it.
	Author string `json:"author"`
	// Text is the note itself (markdown).
	Text string `json:"text"`
}

// Incident is one incident: a group of models that failed the same way.
//
// Stores keep times to the microsecond and return them in UTC, and return
// nil rather than empty slices.
type Incident struct {
	// ID is assigned by Store.Open: "INC-20261125-0001", numbered from 1 each
	// day (of OpenedAt, in UTC) within the store.
	ID string
	// Environment is the environment the failures happened in ("prod").
	Environment string
	// OpenedAt is when the incident was opened; UpdatedAt when it last
	// changed (a new failure, a model recovering, a note).
	OpenedAt  time.Time
	UpdatedAt time.Time
	// LastFailedAt is when one of its models last failed.
	LastFailedAt time.Time
	// ResolvedAt is when it was resolved; zero while it is open.
	ResolvedAt time.Time
	// Status is open or resolved.
	Status Status
	// Models are the failed nodes the incident covers, in the order they
	// first failed.
	Models []string
	// Recovered are the Models that have succeeded since they last failed.
	// The Tracker resolves the incident when every model has recovered.
	Recovered []string
	// Class is the failure class (see recovery.Class: "transient",
	// "permanent", "test_failure", ...).
	Class string
	// FirstError is the error that opened the incident; LastError the most
	// recent one.
	FirstError string
	LastError  string
	// Attempts counts the failed attempts of the incident's models over all
	// the runs that saw them fail (retries included).
	Attempts int
	// Occurrences counts the runs in which the incident's models failed.
	Occurrences int
	// RunID is the run that opened the incident; LastRunID the latest run
	// in which its models failed.
	RunID     string
	LastRunID string
	// ResolvedByRun is the run in which the last model recovered; empty when
	// the incident is open or was resolved by hand.
	ResolvedByRun string
	// Owner is the team that owns the models.
	Owner string
	// Severity is SeverityCritical, SeverityHigh, SeverityMedium or a
	// severity set by hand.
	Severity string
	// Notes is the incident's timeline of human notes, oldest first.
	Notes []Note
	// RootCause is filled in during the investigation.
	RootCause string
}

// Covers reports whether model is one of the incident's Models.
func (inc *Incident) Covers(model string) bool { return slices.Contains(inc.Models, model) }

// Pending returns the Models that have not recovered yet.
func (inc *Incident) Pending() []string {
	var out []string
	for _, m := range inc.Models {
		if !slices.Contains(inc.Recovered, m) {
			out = append(out, m)
		}
	}
	return out
}

// Filter selects incidents for Store.List. Zero fields match everything.
type Filter struct {
	// Status keeps incidents with this status.
	Status Status
	// Environment keeps incidents of this environment.
	Environment string
	// Model keeps incidents covering this model.
	Model string
	// Limit caps the number of incidents returned (<= 0: no cap).
	Limit int
}

// Match reports whether inc passes the filter's Status, Environment and
// Model (Limit is not a per-incident condition).
func (f Filter) Match(inc *Incident) bool {
	return (f.Status == "" || inc.Status == f.Status) &&
		(f.Environment == "" || inc.Environment == f.Environment) &&
		(f.Model == "" || inc.Covers(f.Model))
}

// Store keeps incidents. Implementations must be safe for concurrent use and
// must pass incidenttest.RunStoreTests.
type Store interface {
	// Open stores a new incident and returns it with its ID assigned
	// (inc.ID must be empty). An empty Status becomes StatusOpen, a zero
	// OpenedAt the current time and a zero UpdatedAt OpenedAt. Concurrent
	// Opens get distinct IDs.
	Open(ctx context.Context, inc Incident) (Incident, error)
	// Update replaces the stored incident with inc.ID; ErrNotFound if there
	// is none.
	Update(ctx context.Context, inc Incident) error
	// Get returns the incident with the given ID; ErrNotFound if there is
	// none.
	Get(ctx context.Context, id string) (Incident, error)
	// List returns the incidents matching f, newest first (by OpenedAt,
	// then ID).
	List(ctx context.Context, f Filter) ([]Incident, error)
}

// IDPrefix returns the prefix of the IDs of incidents opened on the UTC day
// of t: "INC-20261125-".
func IDPrefix(t time.Time) string {
	return "INC-" + t.UTC().Format("20060102") + "-"
}

// FormatID returns the ID of the seq-th incident opened on the UTC day of t:
// "INC-20261125-0001" for seq 1.
func FormatID(t time.Time, seq int) string {
	return fmt.Sprintf("%s%04d", IDPrefix(t), seq)
}

// ParseID returns the day prefix and sequence number of an ID made by
// FormatID.
func ParseID(id string) (prefix string, seq int, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if !strings.HasPrefix(id, "INC-") || i != len("INC-20060102") {
		return "", 0, false
	}
	if _, err := time.Parse("20060102", id[len("INC-"):i]); err != nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n <= 0 || strings.HasPrefix(id[i+1:], "+") {
		return "", 0, false
	}
	return id[:i+1], n, true
}

// Normalize returns inc as stores return it: times in UTC truncated to the
// microsecond, empty slices as nil, and the slices copied so that the
// caller's and the store's copies do not share memory. Stores use it on the
// way in and out.
func Normalize(inc Incident) Incident {
	inc.OpenedAt = normTime(inc.OpenedAt)
	inc.UpdatedAt = normTime(inc.UpdatedAt)
	inc.LastFailedAt = normTime(inc.LastFailedAt)
	inc.ResolvedAt = normTime(inc.ResolvedAt)
	inc.Models = cloneStrings(inc.Models)
	inc.Recovered = cloneStrings(inc.Recovered)
	if len(inc.Notes) == 0 {
		inc.Notes = nil
	} else {
		notes := make([]Note, len(inc.Notes))
		for i, n := range inc.Notes {
			n.At = normTime(n.At)
			notes[i] = n
		}
		inc.Notes = notes
	}
	return inc
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// PrepareOpen checks an incident passed to Store.Open and fills in its
// defaults (status, OpenedAt from now, UpdatedAt), normalized. Stores call
// it before assigning the ID.
func PrepareOpen(inc Incident, now time.Time) (Incident, error) {
	if inc.ID != "" {
		return Incident{}, fmt.Errorf("open incident: ID %q already set (use Update)", inc.ID)
	}
	if inc.Status == "" {
		inc.Status = StatusOpen
	}
	if !inc.Status.Valid() {
		return Incident{}, fmt.Errorf("open incident: invalid status %q", inc.Status)
	}
	if inc.OpenedAt.IsZero() {
		inc.OpenedAt = now
	}
	if inc.UpdatedAt.IsZero() {
		inc.UpdatedAt = inc.OpenedAt
	}
	return Normalize(inc), nil
}

// CheckUpdate checks an incident passed to Store.Update. Stores call it
// first.
func CheckUpdate(inc Incident) error {
	if inc.ID == "" {
		return errors.New("update incident: empty ID")
	}
	if !inc.Status.Valid() {
		return fmt.Errorf("update incident %s: invalid status %q", inc.ID, inc.Status)
	}
	return nil
}

// AddNote appends a note to incident id's timeline and sets its UpdatedAt
// to now. Like SetRootCause and Resolve it reads and rewrites the incident,
// so concurrent changes to the same incident can overwrite each other.
func AddNote(ctx context.Context, s Store, id, author, text string, now time.Time) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("add note to incident %s: empty text", id)
	}
	inc, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("add note: %w", err)
	}
	inc.Notes = append(inc.Notes, Note{At: now, Author: author, Text: text})
	inc.UpdatedAt = now
	if err := s.Update(ctx, inc); err != nil {
		return fmt.Errorf("add note: %w", err)
	}
	return nil
}

// SetRootCause records the root cause of incident id, replacing any earlier
// one. It does not change UpdatedAt.
func SetRootCause(ctx context.Context, s Store, id, text string) error {
	inc, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("set root cause: %w", err)
	}
	inc.RootCause = text
	if err := s.Update(ctx, inc); err != nil {
		return fmt.Errorf("set root cause: %w", err)
	}
	return nil
}

// Resolve closes incident id by hand: by (a person or a tool) is recorded
// in a "Resolved." note at now, and ResolvedByRun stays empty. Resolving a
// resolved incident returns ErrAlreadyResolved.
func Resolve(ctx context.Context, s Store, id, by string, now time.Time) error {
	inc, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	if inc.Status == StatusResolved {
		return fmt.Errorf("resolve %s: %w", id, ErrAlreadyResolved)
	}
	inc.Status = StatusResolved
	inc.ResolvedAt = now
	inc.UpdatedAt = now
	inc.Notes = append(inc.Notes, Note{At: now, Author: by, Text: "Resolved."})
	if err := s.Update(ctx, inc); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	return nil
}
