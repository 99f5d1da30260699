package pgserve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/vyaparbazaar/dataops/env"
)

// FileAuditor appends audit events to a file as JSON lines, one event a
// line, synced after each write. It is safe for concurrent use.
type FileAuditor struct {
	mu sync.Mutex
	f  *os.File
}

var _ env.Auditor = (*FileAuditor)(nil)

// OpenFileAuditor opens (creating if needed, mode 0600) path for
// appending.
func OpenFileAuditor(path string) (*FileAuditor, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &FileAuditor{f: f}, nil
}

// Audit implements env.Auditor.
func (a *FileAuditor) Audit(_ context.Context, ev env.AuditEvent) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(line); err != nil {
		return fmt.Errorf("audit log %s: %w", a.f.Name(), err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log %s: %w", a.f.Name(), err)
	}
	return nil
}

// Close closes the file.
func (a *FileAuditor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// MemoryAuditor keeps audit events in memory (tests, embedding services
// that forward them). It is safe for concurrent use.
type MemoryAuditor struct {
	mu     sync.Mutex
	events []env.AuditEvent
}

var _ env.Auditor = (*MemoryAuditor)(nil)

// Audit implements env.Auditor.
func (a *MemoryAuditor) Audit(_ context.Context, ev env.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	return nil
}

// Events returns a copy of the recorded events, oldest first.
func (a *MemoryAuditor) Events() []env.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}
