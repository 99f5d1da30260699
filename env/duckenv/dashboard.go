package duckenv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/snapshot"
)

// RunFilter selects runs of the history for a listing.
type RunFilter struct {
	// Status keeps runs with this status ("" = any).
	Status string
	// Contains keeps runs whose invocation contains the text ("" = any).
	Contains string
	// Limit and Offset page the newest-first list (Limit <= 0: 50).
	Limit, Offset int
}

// RunSummaries returns a page of the run history, newest first, without
// the per-node results (cheap on projects with many nodes), and how many
// runs match the filter in all.
func (e *Env) RunSummaries(ctx context.Context, f RunFilter) ([]RunRecord, int, error) {
	ok, err := e.hiddenTableExists(ctx, "run_history")
	if err != nil || !ok {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	where := ` WHERE (? = '' OR status = ?) AND (? = '' OR contains(invocation, ?))`
	args := []any{f.Status, f.Status, f.Contains, f.Contains}
	var total int
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM `+historyTable+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("run history: %w", err)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT run_id, environment, started_at, finished_at, status, invocation,
	CAST(node_counts AS VARCHAR) FROM `+historyTable+where+`
ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("run history: %w", err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		r, err := scanRunRow(rows, false)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("run history: %w", err)
	}
	return out, total, nil
}

// RunByID returns one run of the history with its per-node results, or
// an error naming the id when there is no such run.
func (e *Env) RunByID(ctx context.Context, id string) (RunRecord, error) {
	ok, err := e.hiddenTableExists(ctx, "run_history")
	if err != nil {
		return RunRecord{}, err
	}
	if ok {
		row := e.db.QueryRowContext(ctx, `SELECT run_id, environment, started_at, finished_at, status, invocation,
	CAST(node_counts AS VARCHAR), CAST(results AS VARCHAR) FROM `+historyTable+` WHERE run_id = ?`, id)
		r, err := scanRunRow(row, true)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return RunRecord{}, err
		}
	}
	return RunRecord{}, fmt.Errorf("run %q: %w", id, ErrNoRun)
}

// ErrNoRun is matched by RunByID's error for an unknown run.
var ErrNoRun = errors.New("no such run in the history")

func scanRunRow(sc rowScanner, withResults bool) (RunRecord, error) {
	var (
		r                    RunRecord
		envName, status, inv sql.NullString
		started, finished    sql.NullTime
		counts, results      sql.NullString
	)
	dest := []any{&r.RunID, &envName, &started, &finished, &status, &inv, &counts}
	if withResults {
		dest = append(dest, &results)
	}
	if err := sc.Scan(dest...); err != nil {
		return r, fmt.Errorf("run history: %w", err)
	}
	r.Environment, r.Status, r.Invocation = envName.String, status.String, inv.String
	if started.Valid {
		r.StartedAt = started.Time
	}
	if finished.Valid {
		r.FinishedAt = finished.Time
	}
	if counts.Valid && counts.String != "null" {
		if err := json.Unmarshal([]byte(counts.String), &r.NodeCounts); err != nil {
			return r, fmt.Errorf("run history %s: node_counts: %w", r.RunID, err)
		}
	}
	if results.Valid {
		r.Results = json.RawMessage(results.String)
	}
	return r, nil
}

// NodeOutcome is one node's result in one recorded run.
type NodeOutcome struct {
	RunID     string
	StartedAt time.Time // the run's start
	Node      string
	Kind      string
	Status    string
	Duration  time.Duration // execution time
	Rows      int64
	Failures  int64 // failing rows of a data test
	Attempts  int
	Error     string
	// Withheld says why a built model was not published ("" when it was).
	Withheld string
}

// NodeHistory returns the outcomes of nodes in the latest runs finished
// runs that ran one of them, newest first, in one query over the history's results (nodes
// empty: every node). It is what a model page's charts and a data-quality
// page read, without a query per node or per run.
func (e *Env) NodeHistory(ctx context.Context, nodes []string, runs int) ([]NodeOutcome, error) {
	return e.nodeOutcomes(ctx, nodes, runs, false)
}

// LatestNodeOutcomes returns each node's most recent outcome within the
// latest runs finished runs (one query), keyed by node.
func (e *Env) LatestNodeOutcomes(ctx context.Context, runs int) (map[string]NodeOutcome, error) {
	list, err := e.nodeOutcomes(ctx, nil, runs, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]NodeOutcome, len(list))
	for _, o := range list {
		out[o.Node] = o
	}
	return out, nil
}

// resultShape is the part of a NodeResult's JSON the node queries read:
// from_json parses each run's results once into typed structs (reading
// fields with ->> parses the JSON again per field, about 5× slower).
const resultShape = `[{"unique_id":"VARCHAR","resource_type":"VARCHAR","status":"VARCHAR","execution_time_ns":"BIGINT",` +
	`"rows_affected":"BIGINT","failures":"BIGINT","attempts":["JSON"],"error":"VARCHAR","withheld":"VARCHAR"}]`

func (e *Env) nodeOutcomes(ctx context.Context, nodes []string, runs int, latestOnly bool) ([]NodeOutcome, error) {
	ok, err := e.hiddenTableExists(ctx, "run_history")
	if err != nil || !ok {
		return nil, err
	}
	if runs <= 0 {
		runs = 30
	}
	filter, pre := "", ""
	var args, preArgs []any
	if len(nodes) > 0 {
		// Only runs whose results name one of the nodes (a cheap text
		// search before parsing), then only the nodes' results.
		var ors []string
		for _, n := range nodes {
			key, _ := json.Marshal(n)
			ors = append(ors, "contains(CAST(results AS VARCHAR), ?)")
			preArgs = append(preArgs, `"unique_id":`+string(key))
			args = append(args, n)
		}
		pre = " AND (" + strings.Join(ors, " OR ") + ")"
		filter = " WHERE node IN (" + placeholders(len(nodes)) + ")"
	}
	args = append(append(preArgs, runs), args...)
	latest := ""
	if latestOnly {
		latest = " QUALIFY row_number() OVER (PARTITION BY node ORDER BY started_at DESC, run_id DESC) = 1"
	}
	q := `WITH recent AS (
	SELECT run_id, started_at, results FROM ` + historyTable + `
	WHERE status <> 'running' AND results IS NOT NULL` + pre + `
	ORDER BY started_at DESC, run_id DESC LIMIT ?
), items AS (
	SELECT run_id, started_at, unnest(from_json(results, '` + resultShape + `')) AS r FROM recent
), flat AS (
	SELECT run_id, started_at, r.unique_id AS node, r.resource_type AS kind, r.status AS status,
		coalesce(r.execution_time_ns, 0) AS dur, coalesce(r.rows_affected, 0) AS nrows,
		coalesce(r.failures, 0) AS failures, coalesce(len(r.attempts), 0) AS attempts,
		coalesce(r.error, '') AS err, coalesce(r.withheld, '') AS withheld
	FROM items
)
SELECT run_id, started_at, node, coalesce(kind, ''), coalesce(status, ''), dur, nrows, failures, attempts, err, withheld
FROM flat` + filter + latest + `
ORDER BY started_at DESC, run_id DESC, node`
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("node history: %w", err)
	}
	defer rows.Close()
	var out []NodeOutcome
	for rows.Next() {
		var o NodeOutcome
		var started sql.NullTime
		var dur int64
		if err := rows.Scan(&o.RunID, &started, &o.Node, &o.Kind, &o.Status, &dur, &o.Rows, &o.Failures, &o.Attempts, &o.Error, &o.Withheld); err != nil {
			return nil, fmt.Errorf("node history: %w", err)
		}
		o.StartedAt, o.Duration = started.Time, time.Duration(dur)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node history: %w", err)
	}
	return out, nil
}

// SnapshotSummary is a snapshot without its models' versions: what a
// listing shows.
type SnapshotSummary struct {
	snapshot.Snapshot
	// Models is how many models the snapshot serves.
	Models int
}

// SnapshotSummaries returns a page of snapshots, newest first, with the
// number of models each serves, in one query (Snapshots().List loads
// every snapshot's versions), and how many snapshots there are.
func (e *Env) SnapshotSummaries(ctx context.Context, limit, offset int) ([]SnapshotSummary, int, error) {
	if err := e.ensureVersions(ctx); err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	var total int
	if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM "+snapshotsTable).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list snapshots: %w", err)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT `+snapshotCols+`,
	(SELECT count(*) FROM `+snapshotModelsTable+` m WHERE m.snapshot_id = s.id)
FROM `+snapshotsTable+` s ORDER BY id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("list snapshots: %w", err)
	}
	defer rows.Close()
	var out []SnapshotSummary
	for rows.Next() {
		var s SnapshotSummary
		var kind string
		sn := &s.Snapshot
		if err := rows.Scan(&sn.ID, &sn.CreatedAt, &sn.Environment, &kind, &sn.RunID, &sn.Fingerprint, &sn.GitCommit, &sn.Actor, &sn.Note, &sn.RestoredFrom, &s.Models); err != nil {
			return nil, 0, fmt.Errorf("list snapshots: %w", err)
		}
		sn.Kind = snapshot.Kind(kind)
		out = append(out, s)
	}
	return out, total, rows.Err()
}
