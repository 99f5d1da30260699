package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/env"
)

const (
	manifestTable    = `"` + HistorySchema + `"."manifest"`
	approvalsTable   = `"` + HistorySchema + `"."approvals"`
	deploymentsTable = `"` + HistorySchema + `"."deployments"`
)

var deployTablesOnce sync.Mutex

func (e *Env) ensureDeployTables(ctx context.Context) error {
	deployTablesOnce.Lock()
	defer deployTablesOnce.Unlock()
	if err := e.ensureHistory(ctx); err != nil {
		return err
	}
	for table, cols := range map[string]string{
		"manifest":    "node VARCHAR NOT NULL, kind VARCHAR, own VARCHAR NOT NULL, full_fp VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL",
		"approvals":   "plan VARCHAR NOT NULL, environment VARCHAR NOT NULL, approver VARCHAR NOT NULL, approved_at TIMESTAMPTZ NOT NULL, comment VARCHAR",
		"deployments": "id VARCHAR NOT NULL, environment VARCHAR, plan VARCHAR, project VARCHAR, git_commit VARCHAR, deployer VARCHAR, approver VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, outcome VARCHAR, detail VARCHAR, run_id VARCHAR, snapshot_before BIGINT, snapshot_after BIGINT",
	} {
		if err := e.ensureHiddenTable(ctx, table, "("+cols+")"); err != nil {
			return err
		}
	}
	return nil
}

// DeployedManifest returns the environment's manifest: the fingerprint of
// every node as last deployed or built here, or nil when nothing was
// recorded yet.
func (e *Env) DeployedManifest(ctx context.Context) (map[string]env.Fingerprint, error) {
	if err := e.ensureDeployTables(ctx); err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, "SELECT node, coalesce(kind, ''), own, full_fp FROM "+manifestTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out map[string]env.Fingerprint
	for rows.Next() {
		var name string
		var f env.Fingerprint
		if err := rows.Scan(&name, &f.Kind, &f.Own, &f.Full); err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]env.Fingerprint{}
		}
		out[name] = f
	}
	return out, rows.Err()
}

// UpdateManifest records the fingerprints of nodes now deployed (set) and
// forgets removed ones, in one transaction.
func (e *Env) UpdateManifest(ctx context.Context, set map[string]env.Fingerprint, removed []string) error {
	if err := e.ensureDeployTables(ctx); err != nil {
		return err
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	names := append(slices.Collect(maps.Keys(set)), removed...)
	if len(names) > 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+manifestTable+" WHERE list_contains(?::VARCHAR[], node)", names); err != nil {
			return fmt.Errorf("update manifest: %w", err)
		}
	}
	now := e.clock().UTC()
	for _, name := range slices.Sorted(maps.Keys(set)) {
		f := set[name]
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+manifestTable+" VALUES (?, ?, ?, ?, ?)", name, f.Kind, f.Own, f.Full, now); err != nil {
			return fmt.Errorf("update manifest: %w", err)
		}
	}
	return tx.Commit()
}

// RecordApproval stores an approval of a plan.
func (e *Env) RecordApproval(ctx context.Context, a env.Approval) error {
	if err := e.ensureDeployTables(ctx); err != nil {
		return err
	}
	if a.At.IsZero() {
		a.At = e.clock()
	}
	_, err := e.db.ExecContext(ctx, "INSERT INTO "+approvalsTable+" VALUES (?, ?, ?, ?, NULLIF(?, ''))", a.Plan, a.Environment, a.Approver, a.At.UTC(), a.Comment)
	return err
}

// ApprovalOf returns the latest approval of the plan in environment.
func (e *Env) ApprovalOf(ctx context.Context, environment, plan string) (env.Approval, bool, error) {
	if err := e.ensureDeployTables(ctx); err != nil {
		return env.Approval{}, false, err
	}
	a := env.Approval{Plan: plan, Environment: environment}
	var comment sql.NullString
	err := e.db.QueryRowContext(ctx, "SELECT approver, approved_at, comment FROM "+approvalsTable+
		" WHERE environment = ? AND plan = ? ORDER BY approved_at DESC LIMIT 1", environment, plan).Scan(&a.Approver, &a.At, &comment)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	a.Comment = comment.String
	return a, err == nil, err
}

// RecordDeployment inserts or replaces (by ID) a deployment record.
func (e *Env) RecordDeployment(ctx context.Context, d env.Deployment) error {
	if err := e.ensureDeployTables(ctx); err != nil {
		return err
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+deploymentsTable+" WHERE id = ?", d.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+deploymentsTable+" VALUES (?, ?, ?, ?, NULLIF(?, ''), ?, NULLIF(?, ''), ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, 0), NULLIF(?, 0))",
		d.ID, d.Environment, d.Plan, d.Project, d.Commit, d.Deployer, d.Approver, d.StartedAt.UTC(), nullTime(d.FinishedAt),
		d.Outcome, d.Detail, d.RunID, d.SnapshotBefore, d.SnapshotAfter); err != nil {
		return err
	}
	return tx.Commit()
}

// Deployments returns deployment records, newest first (limit <= 0: all).
func (e *Env) Deployments(ctx context.Context, limit int) ([]env.Deployment, error) {
	if err := e.ensureDeployTables(ctx); err != nil {
		return nil, err
	}
	q := `SELECT id, environment, plan, project, coalesce(git_commit, ''), deployer, coalesce(approver, ''), started_at, finished_at,
outcome, coalesce(detail, ''), coalesce(run_id, ''), coalesce(snapshot_before, 0), coalesce(snapshot_after, 0)
FROM ` + deploymentsTable + ` ORDER BY started_at DESC`
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []env.Deployment
	for rows.Next() {
		var d env.Deployment
		var fin sql.NullTime
		if err := rows.Scan(&d.ID, &d.Environment, &d.Plan, &d.Project, &d.Commit, &d.Deployer, &d.Approver, &d.StartedAt, &fin,
			&d.Outcome, &d.Detail, &d.RunID, &d.SnapshotBefore, &d.SnapshotAfter); err != nil {
			return nil, err
		}
		if fin.Valid {
			d.FinishedAt = fin.Time
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// deployMu serializes deploys within a process (other processes are kept
// out by DuckDB's file lock).
var deployMu sync.Map // env path → *sync.Mutex

// TryLockDeploy takes the environment's deploy lock within this process;
// it returns false when another deploy holds it. Call the returned
// function to release it.
func (e *Env) TryLockDeploy() (func(), bool) {
	m, _ := deployMu.LoadOrStore(e.path+"\x00"+e.name, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	if !mu.TryLock() {
		return nil, false
	}
	return mu.Unlock, true
}

// LatestSnapshotID is the environment's newest snapshot id (0 when none).
func (e *Env) LatestSnapshotID(ctx context.Context) (int64, error) {
	if err := e.ensureVersions(ctx); err != nil {
		return 0, err
	}
	return e.Snapshots().latestID(ctx)
}

// Now is the environment's clock.
func (e *Env) Now() time.Time { return e.clock() }
