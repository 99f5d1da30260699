// Package snapshot records what an environment serves: after every publish
// (and every rollback) a Snapshot maps each model to the physical version
// of its data that readers see. Snapshots make rollback and point-in-time
// restore one transaction that re-points relations, whatever the data size.
//
// Store is the small interface a backend implements; MemoryStore is the
// in-memory one for tests, and env/duckenv keeps snapshots in the database
// they describe (so a publish and its snapshot commit together). Every
// implementation passes the conformance suite in snapshot/snapshottest.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// Kind says how a snapshot came to be.
type Kind string

// Snapshot kinds.
const (
	// KindPublish is a run publishing the models it built.
	KindPublish Kind = "publish"
	// KindRollback is a rollback (or point-in-time restore, or the undo of
	// a rollback) re-pointing models at versions of an earlier snapshot.
	KindRollback Kind = "rollback"
)

// Version is one physical version of a model's data.
type Version struct {
	// ID identifies the version within its environment.
	ID int64 `json:"id"`
	// Model is the node name.
	Model string `json:"model"`
	// Relation is the quoted relation readers query, e.g. "marts"."mart_daily_sales".
	Relation string `json:"relation"`
	// Materialized is table, incremental, view or seed.
	Materialized string `json:"materialized"`
	// Physical is the quoted relation holding the data ("" for views).
	Physical string `json:"physical,omitempty"`
	// RunID is the run that built the version.
	RunID string `json:"run_id,omitempty"`
	// BuiltAt is when the build finished.
	BuiltAt time.Time `json:"built_at"`
	// Rows is the row count at build time (-1 when unknown, e.g. views).
	Rows int64 `json:"rows"`
}

// Snapshot is the state of an environment after a publish or a rollback:
// every model readers can query and the version they see.
type Snapshot struct {
	// ID is assigned by the store: 1, 2, 3, ... per environment.
	ID int64 `json:"id"`
	// CreatedAt is when the snapshot was committed.
	CreatedAt time.Time `json:"created_at"`
	// Environment is the environment's name.
	Environment string `json:"environment"`
	// Kind is publish or rollback.
	Kind Kind `json:"kind"`
	// RunID is the publishing run (publish snapshots).
	RunID string `json:"run_id,omitempty"`
	// Fingerprint is the project's fingerprint (a hash of its files).
	Fingerprint string `json:"fingerprint,omitempty"`
	// GitCommit is the project's git commit, when it is in a repository.
	GitCommit string `json:"git_commit,omitempty"`
	// Actor is who or what published: a user, "scheduler/job", "cli".
	Actor string `json:"actor,omitempty"`
	// Note describes the snapshot ("rollback to #12", "undo of #15").
	Note string `json:"note,omitempty"`
	// RestoredFrom is, for a rollback, the snapshot whose versions it
	// restored (0 otherwise).
	RestoredFrom int64 `json:"restored_from,omitempty"`
	// Models maps every served model to its version: the whole state, not
	// only what changed.
	Models map[string]Version `json:"models"`
}

// Names returns the snapshot's model names, sorted.
func (s Snapshot) Names() []string {
	return slices.Sorted(maps.Keys(s.Models))
}

// Errors stores return; match them with errors.Is.
var (
	// ErrNotFound: no snapshot has the id.
	ErrNotFound = errors.New("snapshot not found")
	// ErrNoSnapshot: there is no snapshot at or before the time asked for
	// (or none at all).
	ErrNoSnapshot = errors.New("no snapshot")
)

// NotFoundError is the error for an unknown snapshot id. It matches
// ErrNotFound.
type NotFoundError struct {
	ID int64
	// Latest is the newest id there is (0 when there is none).
	Latest int64
}

func (e *NotFoundError) Error() string {
	if e.Latest == 0 {
		return fmt.Sprintf("snapshot #%d not found: there are no snapshots yet", e.ID)
	}
	return fmt.Sprintf("snapshot #%d not found (snapshots go up to #%d; `snapshots list` shows them)", e.ID, e.Latest)
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// BeforeFirstError is the error for a time before the first snapshot. It
// matches ErrNoSnapshot.
type BeforeFirstError struct {
	At time.Time
	// First is when the first retained snapshot was taken (zero when there
	// is none).
	First time.Time
}

func (e *BeforeFirstError) Error() string {
	if e.First.IsZero() {
		return fmt.Sprintf("no snapshot at or before %s: there are no snapshots yet", e.At.Format(time.RFC3339))
	}
	return fmt.Sprintf("no snapshot at or before %s: the first retained snapshot is from %s", e.At.Format(time.RFC3339), e.First.Format(time.RFC3339))
}

// Is matches ErrNoSnapshot.
func (e *BeforeFirstError) Is(target error) bool { return target == ErrNoSnapshot }

// Store keeps an environment's snapshots.
type Store interface {
	// Record stores s, assigning the next ID (and CreatedAt when zero),
	// and returns it as stored.
	Record(ctx context.Context, s Snapshot) (Snapshot, error)
	// Get returns the snapshot with the id, or an error matching
	// ErrNotFound.
	Get(ctx context.Context, id int64) (Snapshot, error)
	// List returns snapshots newest first; limit <= 0 means all.
	List(ctx context.Context, limit int) ([]Snapshot, error)
	// At returns the newest snapshot created at or before t, or an error
	// matching ErrNoSnapshot. At(time.Now()) is the current state.
	At(ctx context.Context, t time.Time) (Snapshot, error)
	// Forget deletes the snapshots with the ids (retention); unknown ids
	// are ignored.
	Forget(ctx context.Context, ids []int64) error
}

// ChangeType says how a model differs between two snapshots.
type ChangeType string

// Change types.
const (
	Added   ChangeType = "added"
	Removed ChangeType = "removed"
	Changed ChangeType = "changed"
)

// Change is one model's difference between two snapshots.
type Change struct {
	Model string     `json:"model"`
	Type  ChangeType `json:"type"`
	// From and To are the versions in the older and the newer snapshot
	// (nil when absent).
	From *Version `json:"from,omitempty"`
	To   *Version `json:"to,omitempty"`
}

// RowDelta is To.Rows - From.Rows when both are known.
func (c Change) RowDelta() (int64, bool) {
	if c.From == nil || c.To == nil || c.From.Rows < 0 || c.To.Rows < 0 {
		return 0, false
	}
	return c.To.Rows - c.From.Rows, true
}

// Diff lists the models whose version differs from a to b, sorted by model.
func Diff(a, b Snapshot) []Change {
	var out []Change
	for name, va := range a.Models {
		vb, ok := b.Models[name]
		switch {
		case !ok:
			out = append(out, Change{Model: name, Type: Removed, From: &va})
		case vb.ID != va.ID:
			out = append(out, Change{Model: name, Type: Changed, From: &va, To: &vb})
		}
	}
	for name, vb := range b.Models {
		if _, ok := a.Models[name]; !ok {
			out = append(out, Change{Model: name, Type: Added, To: &vb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}

// Retention says which snapshots to keep: every snapshot younger than
// KeepFor, and at least the KeepLast newest ones. The newest snapshot is
// always kept.
type Retention struct {
	KeepLast int           `json:"keep_last" yaml:"keep_last"`
	KeepFor  time.Duration `json:"keep_for" yaml:"keep_for"`
}

// ProductionRetention is the production default: 7 days and at least the
// last 10 publishes.
var ProductionRetention = Retention{KeepLast: 10, KeepFor: 7 * 24 * time.Hour}

// DevRetention is the default for other environments: 1 day and at least
// the last 3 publishes.
var DevRetention = Retention{KeepLast: 3, KeepFor: 24 * time.Hour}

// DefaultRetention returns ProductionRetention for environments named
// "production" or "prod", DevRetention otherwise.
func DefaultRetention(environment string) Retention {
	switch environment {
	case "production", "prod":
		return ProductionRetention
	}
	return DevRetention
}

// Split divides snaps (any order) into the ones to keep and the ones to
// forget at now, each newest first.
func (r Retention) Split(snaps []Snapshot, now time.Time) (keep, forget []Snapshot) {
	sorted := slices.Clone(snaps)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID > sorted[j].ID })
	for i, s := range sorted {
		if i == 0 || i < r.KeepLast || (r.KeepFor > 0 && now.Sub(s.CreatedAt) < r.KeepFor) {
			keep = append(keep, s)
		} else {
			forget = append(forget, s)
		}
	}
	return keep, forget
}
