package duckenv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

// HistorySchema is the hidden schema holding dataops' own tables.
const HistorySchema = "_dataops"

// RunRecord is one row of the run history.
type RunRecord struct {
	// RunID identifies the run; recording the same RunID again replaces
	// the row (record "running" at the start and the result at the end).
	RunID string
	// Environment is the environment's name; RecordRun fills it in when
	// empty.
	Environment string
	// StartedAt is when the run started.
	StartedAt time.Time
	// FinishedAt is zero while the run is going on.
	FinishedAt time.Time
	// Status is the run's overall status ("success", "error", ...).
	Status string
	// Invocation describes what was run (a command line, a selector).
	Invocation string
	// NodeCounts counts nodes by status ("success": 10, "error": 1, ...).
	NodeCounts map[string]int
	// Results is the per-node results as JSON (nil for none).
	Results json.RawMessage
}

const historyTable = `"` + HistorySchema + `"."run_history"`

// RecordRun stores r in the run history (`_dataops`.run_history), creating
// the schema and table on first use.
func (e *Env) RecordRun(ctx context.Context, r RunRecord) error {
	if r.RunID == "" {
		return errors.New("record run: empty RunID")
	}
	if r.Environment == "" {
		r.Environment = e.name
	}
	if len(r.Results) > 0 && !json.Valid(r.Results) {
		return fmt.Errorf("record run %s: Results is not valid JSON", r.RunID)
	}
	counts, err := json.Marshal(r.NodeCounts)
	if err != nil {
		return fmt.Errorf("record run %s: %w", r.RunID, err)
	}
	if err := e.ensureHistory(ctx); err != nil {
		return fmt.Errorf("record run %s: %w", r.RunID, err)
	}
	var results any
	if len(r.Results) > 0 {
		results = string(r.Results)
	}
	_, err = e.db.ExecContext(ctx, `INSERT OR REPLACE INTO `+historyTable+`
(run_id, environment, started_at, finished_at, status, invocation, node_counts, results)
VALUES (?, ?, ?, ?, ?, ?, CAST(? AS JSON), CAST(? AS JSON))`,
		r.RunID, r.Environment, nullTime(r.StartedAt), nullTime(r.FinishedAt), r.Status, r.Invocation, string(counts), results)
	if err != nil {
		return fmt.Errorf("record run %s: %w", r.RunID, err)
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func (e *Env) ensureHistory(ctx context.Context) error {
	e.historyMu.Lock()
	defer e.historyMu.Unlock()
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = ? AND table_name = 'node_results'`, HistorySchema).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	if _, err := e.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+HistorySchema+`"`); err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+historyTable+` (
	run_id VARCHAR PRIMARY KEY,
	environment VARCHAR,
	started_at TIMESTAMPTZ,
	finished_at TIMESTAMPTZ,
	status VARCHAR,
	invocation VARCHAR,
	node_counts JSON,
	results JSON
)`)
	if err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+nodeResultsTable+` (
	run_id VARCHAR,
	node VARCHAR,
	status VARCHAR,
	finished_at TIMESTAMPTZ,
	PRIMARY KEY (run_id, node)
)`)
	return err
}

// RunHistory returns the latest limit runs, newest first (limit <= 0: all).
// It returns no records when nothing has been recorded yet.
func (e *Env) RunHistory(ctx context.Context, limit int) ([]RunRecord, error) {
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = ? AND table_name = 'node_results'`, HistorySchema).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	q := `SELECT run_id, environment, started_at, finished_at, status, invocation,
	CAST(node_counts AS VARCHAR), CAST(results AS VARCHAR)
FROM ` + historyTable + ` ORDER BY started_at DESC NULLS LAST, run_id DESC`
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var (
			r                    RunRecord
			envName, status, inv sql.NullString
			started, finished    sql.NullTime
			counts, results      sql.NullString
		)
		if err := rows.Scan(&r.RunID, &envName, &started, &finished, &status, &inv, &counts, &results); err != nil {
			return nil, fmt.Errorf("run history: %w", err)
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
				return nil, fmt.Errorf("run history %s: node_counts: %w", r.RunID, err)
			}
		}
		if results.Valid {
			r.Results = json.RawMessage(results.String)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	return out, nil
}

// hiddenTableExists reports whether the table exists in the hidden schema.
func (e *Env) hiddenTableExists(ctx context.Context, table string) (bool, error) {
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?`, HistorySchema, table).Scan(&n)
	return n > 0, err
}

// ensureHiddenTable creates the hidden schema and the table in it with the
// given column list, under the lock that serialises the schema's DDL.
func (e *Env) ensureHiddenTable(ctx context.Context, table, columns string) error {
	e.historyMu.Lock()
	defer e.historyMu.Unlock()
	ok, err := e.hiddenTableExists(ctx, table)
	if err != nil || ok {
		return err
	}
	if _, err := e.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+HistorySchema+`"`); err != nil {
		return err
	}
	_, err = e.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+sqlident.QuoteQualified(HistorySchema, table)+" "+columns)
	return err
}
