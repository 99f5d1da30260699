package snapshot

import (
	"context"
	"maps"
	"sort"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for tests and for environments that
// need no history across processes. The zero value is ready to use.
type MemoryStore struct {
	mu    sync.Mutex
	snaps []Snapshot // ascending ID
	next  int64
	// Now stamps CreatedAt when a recorded snapshot has none; nil means
	// time.Now.
	Now func() time.Time
}

var _ Store = (*MemoryStore)(nil)

func clone(s Snapshot) Snapshot {
	s.Models = maps.Clone(s.Models)
	if s.Models == nil {
		s.Models = map[string]Version{}
	}
	return s
}

// Record implements Store.
func (m *MemoryStore) Record(_ context.Context, s Snapshot) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	s = clone(s)
	s.ID = m.next
	if s.CreatedAt.IsZero() {
		now := time.Now
		if m.Now != nil {
			now = m.Now
		}
		s.CreatedAt = now()
	}
	m.snaps = append(m.snaps, s)
	return clone(s), nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, id int64) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := sort.Search(len(m.snaps), func(i int) bool { return m.snaps[i].ID >= id })
	if i < len(m.snaps) && m.snaps[i].ID == id {
		return clone(m.snaps[i]), nil
	}
	var latest int64
	if len(m.snaps) > 0 {
		latest = m.snaps[len(m.snaps)-1].ID
	}
	return Snapshot{}, &NotFoundError{ID: id, Latest: latest}
}

// List implements Store.
func (m *MemoryStore) List(_ context.Context, limit int) ([]Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Snapshot{}
	for i := len(m.snaps) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		out = append(out, clone(m.snaps[i]))
	}
	return out, nil
}

// At implements Store.
func (m *MemoryStore) At(_ context.Context, t time.Time) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *Snapshot
	for i := range m.snaps {
		s := &m.snaps[i]
		if !s.CreatedAt.After(t) && (best == nil || s.CreatedAt.After(best.CreatedAt) || (s.CreatedAt.Equal(best.CreatedAt) && s.ID > best.ID)) {
			best = s
		}
	}
	if best == nil {
		e := &BeforeFirstError{At: t}
		for _, s := range m.snaps {
			if e.First.IsZero() || s.CreatedAt.Before(e.First) {
				e.First = s.CreatedAt
			}
		}
		return Snapshot{}, e
	}
	return clone(*best), nil
}

// Forget implements Store.
func (m *MemoryStore) Forget(_ context.Context, ids []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	drop := map[int64]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	kept := m.snaps[:0]
	for _, s := range m.snaps {
		if !drop[s.ID] {
			kept = append(kept, s)
		}
	}
	m.snaps = kept
	return nil
}
