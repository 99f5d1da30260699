package env

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileAuditor appends audit events to a file as JSON lines. It is safe for
// concurrent use and across processes (each event is one append).
type FileAuditor struct {
	Path string
	mu   sync.Mutex
}

// Audit implements Auditor.
func (a *FileAuditor) Audit(_ context.Context, ev AuditEvent) error {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC()
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.Path), 0o755); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(a.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("audit log: %w", werr)
	}
	return nil
}

// ReadAuditLog reads the events of a JSON-lines audit file, oldest first.
func ReadAuditLog(path string) ([]AuditEvent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []AuditEvent
	start := 0
	for i, b := range data {
		if b != '\n' {
			continue
		}
		var ev AuditEvent
		if err := json.Unmarshal(data[start:i], &ev); err != nil {
			return out, fmt.Errorf("%s: line %d: %w", path, len(out)+1, err)
		}
		out = append(out, ev)
		start = i + 1
	}
	return out, nil
}

// MemoryAuditor keeps audit events in memory (tests).
type MemoryAuditor struct {
	mu     sync.Mutex
	events []AuditEvent
}

// Audit implements Auditor.
func (m *MemoryAuditor) Audit(_ context.Context, ev AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return nil
}

// Events returns a copy of the recorded events.
func (m *MemoryAuditor) Events() []AuditEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]AuditEvent(nil), m.events...)
}

// Check authorizes p for a in environment and records the decision with
// auditor (when not nil). It returns the authorizer's refusal, or the
// auditor's error when the decision could not be recorded (an action that
// cannot be audited does not proceed).
func Check(ctx context.Context, authz Authorizer, auditor Auditor, p Principal, environment string, a Action, object, via string) error {
	err := authz.Authorize(ctx, p, environment, a)
	ev := AuditEvent{Time: time.Now(), Principal: p.Name, Environment: environment, Action: a, Object: object, Allowed: err == nil, Result: "allowed", Via: via}
	if err != nil {
		ev.Result = err.Error()
	}
	if auditor != nil {
		if aerr := auditor.Audit(ctx, ev); aerr != nil && err == nil {
			return aerr
		}
	}
	return err
}
