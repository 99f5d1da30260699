package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// NewMemoryStore returns an empty Store that keeps incidents in memory, for
// tests and short-lived processes.
func NewMemoryStore() Store {
	return &memoryStore{byID: map[string]Incident{}, lastSeq: map[string]int{}}
}

type memoryStore struct {
	mu      sync.Mutex
	byID    map[string]Incident
	lastSeq map[string]int // by IDPrefix
}

func (s *memoryStore) Open(ctx context.Context, inc Incident) (Incident, error) {
	if err := ctx.Err(); err != nil {
		return Incident{}, err
	}
	inc, err := PrepareOpen(inc, time.Now())
	if err != nil {
		return Incident{}, err
	}
	prefix := IDPrefix(inc.OpenedAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq[prefix]++
	inc.ID = FormatID(inc.OpenedAt, s.lastSeq[prefix])
	s.byID[inc.ID] = inc
	return Normalize(inc), nil
}

func (s *memoryStore) Update(ctx context.Context, inc Incident) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckUpdate(inc); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[inc.ID]; !ok {
		return fmt.Errorf("update incident %s: %w", inc.ID, ErrNotFound)
	}
	s.byID[inc.ID] = Normalize(inc)
	return nil
}

func (s *memoryStore) Get(ctx context.Context, id string) (Incident, error) {
	if err := ctx.Err(); err != nil {
		return Incident{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, ok := s.byID[id]
	if !ok {
		return Incident{}, fmt.Errorf("get incident %s: %w", id, ErrNotFound)
	}
	return Normalize(inc), nil
}

func (s *memoryStore) List(ctx context.Context, f Filter) ([]Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []Incident
	for _, inc := range s.byID {
		if f.Match(&inc) {
			out = append(out, Normalize(inc))
		}
	}
	s.mu.Unlock()
	SortNewestFirst(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// SortNewestFirst sorts incidents in Store.List order: by OpenedAt, newest
// first, then by ID, highest first.
func SortNewestFirst(incs []Incident) {
	slices.SortFunc(incs, func(a, b Incident) int {
		if c := b.OpenedAt.Compare(a.OpenedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}
