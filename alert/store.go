package alert

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is returned for an unknown alert or silence ID.
var ErrNotFound = errors.New("not found")

// Record is the state of one alert (one fingerprint) kept by a Store.
type Record struct {
	// ID is the alert's fingerprint.
	ID    string
	Alert Alert
	// FirstSeen is when it started firing this time; LastSeen when it was
	// last reported; Count how often it was reported.
	FirstSeen, LastSeen time.Time
	Count               int
	// LastNotified is when a notification about it last went out (zero:
	// never, e.g. silenced).
	LastNotified time.Time
	// AckedBy and AckedAt record an acknowledgement; acknowledged alerts
	// are not escalated.
	AckedBy string
	AckedAt time.Time
	// EscalatedAt is when it went to the team's secondary contact.
	EscalatedAt time.Time
}

// Open reports whether the alert still fires.
func (r Record) Open() bool { return !r.Alert.Resolved() }

// Acknowledged reports whether somebody acknowledged it.
func (r Record) Acknowledged() bool { return r.AckedBy != "" }

// Filter selects records for Store.Alerts.
type Filter struct {
	// Open keeps only firing alerts.
	Open bool
	// Limit bounds the number of records (0: all).
	Limit int
}

// Silence mutes the alerts its matchers match between StartsAt and EndsAt.
type Silence struct {
	ID        string
	Matchers  Matchers
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
}

// Active reports whether the silence applies at now.
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Mutes reports whether the silence applies to a at now.
func (s Silence) Mutes(a Alert, now time.Time) bool {
	return s.Active(now) && len(s.Matchers) > 0 && s.Matchers.Matches(a.AllLabels())
}

// Validate reports a silence without matchers or with an end before its
// start.
func (s Silence) Validate() error {
	if len(s.Matchers) == 0 {
		return errors.New("silence: at least one matcher is required")
	}
	if !s.EndsAt.After(s.StartsAt) {
		return fmt.Errorf("silence: ends at %s, not after its start %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	return nil
}

// Store keeps alert records, acknowledgements and silences across
// processes. Implementations are safe for concurrent use; the memory store
// is NewMemoryStore, the DuckDB one duckenv.Env.Alerts, and both pass
// alerttest.RunStoreTests.
type Store interface {
	// SaveAlert inserts or replaces the record with r.ID. Within one
	// firing episode (a stored record with the same FirstSeen) it never
	// clears an acknowledgement or escalation already stored: empty
	// AckedBy, AckedAt and EscalatedAt in r keep the stored values.
	SaveAlert(ctx context.Context, r Record) error
	// Alert returns the record with the ID, or ErrNotFound.
	Alert(ctx context.Context, id string) (Record, error)
	// Alerts returns records, most recently seen first.
	Alerts(ctx context.Context, f Filter) ([]Record, error)
	// Ack records who acknowledged the alert and when; ErrNotFound for an
	// unknown ID.
	Ack(ctx context.Context, id, by string, at time.Time) (Record, error)
	// AddSilence stores s, assigning an ID when s.ID is empty.
	AddSilence(ctx context.Context, s Silence) (Silence, error)
	// Silences returns every silence, newest start first.
	Silences(ctx context.Context) ([]Silence, error)
	// ExpireSilence ends the silence at at; ErrNotFound for an unknown ID.
	ExpireSilence(ctx context.Context, id string, at time.Time) error
}

// NewSilenceID returns a random silence ID.
func NewSilenceID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "s-" + hex.EncodeToString(b)
}

// MemoryStore is a Store in memory, for tests and single processes.
type MemoryStore struct {
	mu       sync.Mutex
	alerts   map[string]Record
	silences map[string]Silence
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{alerts: map[string]Record{}, silences: map[string]Silence{}}
}

// SaveAlert implements Store.
func (m *MemoryStore) SaveAlert(_ context.Context, r Record) error {
	if r.ID == "" {
		return errors.New("save alert: empty ID")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r.Alert = r.Alert.clone()
	m.alerts[r.ID] = KeepAck(m.alerts[r.ID], r)
	return nil
}

// KeepAck returns r with the acknowledgement and escalation of stored
// filled in where r has none, when both are the same firing episode (the
// same FirstSeen): what Store.SaveAlert does.
func KeepAck(stored, r Record) Record {
	if stored.ID != r.ID || !stored.FirstSeen.Equal(r.FirstSeen) {
		return r
	}
	if r.AckedBy == "" {
		r.AckedBy = stored.AckedBy
	}
	if r.AckedAt.IsZero() {
		r.AckedAt = stored.AckedAt
	}
	if r.EscalatedAt.IsZero() {
		r.EscalatedAt = stored.EscalatedAt
	}
	return r
}

// Alert implements Store.
func (m *MemoryStore) Alert(_ context.Context, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.alerts[id]
	if !ok {
		return Record{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	r.Alert = r.Alert.clone()
	return r, nil
}

// Alerts implements Store.
func (m *MemoryStore) Alerts(_ context.Context, f Filter) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.alerts {
		if f.Open && !r.Open() {
			continue
		}
		r.Alert = r.Alert.clone()
		out = append(out, r)
	}
	SortRecords(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// SortRecords orders records most recently seen first, then by ID.
func SortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Ack implements Store.
func (m *MemoryStore) Ack(_ context.Context, id, by string, at time.Time) (Record, error) {
	if strings.TrimSpace(by) == "" {
		return Record{}, errors.New("ack: say who acknowledges")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.alerts[id]
	if !ok {
		return Record{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	r.AckedBy, r.AckedAt = by, at
	m.alerts[id] = r
	r.Alert = r.Alert.clone()
	return r, nil
}

// AddSilence implements Store.
func (m *MemoryStore) AddSilence(_ context.Context, s Silence) (Silence, error) {
	if err := s.Validate(); err != nil {
		return Silence{}, err
	}
	if s.ID == "" {
		s.ID = NewSilenceID()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Matchers = slices.Clone(s.Matchers)
	m.silences[s.ID] = s
	return s, nil
}

// Silences implements Store.
func (m *MemoryStore) Silences(_ context.Context) ([]Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Silence, 0, len(m.silences))
	for _, s := range m.silences {
		s.Matchers = slices.Clone(s.Matchers)
		out = append(out, s)
	}
	SortSilences(out)
	return out, nil
}

// SortSilences orders silences newest start first, then by ID.
func SortSilences(ss []Silence) {
	slices.SortFunc(ss, func(a, b Silence) int {
		return cmp.Or(b.StartsAt.Compare(a.StartsAt), strings.Compare(a.ID, b.ID))
	})
}

// ExpireSilence implements Store.
func (m *MemoryStore) ExpireSilence(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.silences[id]
	if !ok {
		return fmt.Errorf("silence %s: %w", id, ErrNotFound)
	}
	if at.Before(s.EndsAt) {
		s.EndsAt = at
		if s.EndsAt.Before(s.StartsAt) {
			s.StartsAt = s.EndsAt
		}
	}
	m.silences[id] = s
	return nil
}
