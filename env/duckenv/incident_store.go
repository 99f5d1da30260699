package duckenv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/recovery/incident"
)

const incidentsTable = `"` + HistorySchema + `"."incidents"`

// openIncidentAttempts bounds the retries of an Open whose transaction lost
// a race for the next ID.
const openIncidentAttempts = 100

// openIncidentMu serialises incident Opens in this process, across Envs (two
// Envs may share one database file), so that they do not have to retry.
var openIncidentMu sync.Mutex

// Incidents returns the environment's incident log, kept in the database in
// `_dataops`.incidents (created on first write). Incident IDs are numbered
// per day over the whole table, so they are unique in the database; with one
// environment per database that is per environment. Notes, Models and
// Recovered are stored as JSON.
func (e *Env) Incidents() incident.Store { return &incidentStore{e: e} }

type incidentStore struct{ e *Env }

// incidentColumns are the table's columns in the order incidentRow and
// scanIncident use.
const incidentColumns = `id, environment, status, opened_at, updated_at, last_failed_at, resolved_at,
	models, recovered, class, first_error, last_error, attempts, occurrences,
	run_id, last_run_id, resolved_by_run, owner, severity, notes, root_cause`

func (s *incidentStore) ensure(ctx context.Context) error {
	return s.e.ensureHiddenTable(ctx, "incidents", `(
	id VARCHAR PRIMARY KEY,
	environment VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	opened_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ,
	last_failed_at TIMESTAMPTZ,
	resolved_at TIMESTAMPTZ,
	models JSON,
	recovered JSON,
	class VARCHAR,
	first_error VARCHAR,
	last_error VARCHAR,
	attempts INTEGER,
	occurrences INTEGER,
	run_id VARCHAR,
	last_run_id VARCHAR,
	resolved_by_run VARCHAR,
	owner VARCHAR,
	severity VARCHAR,
	notes JSON,
	root_cause VARCHAR
)`)
}

// exists reports whether the incidents table has been created.
func (s *incidentStore) exists(ctx context.Context) (bool, error) {
	return s.e.hiddenTableExists(ctx, "incidents")
}

// incidentRow returns inc's column values, in incidentColumns order.
func incidentRow(inc *incident.Incident) ([]any, error) {
	models, err := jsonList(inc.Models)
	if err != nil {
		return nil, err
	}
	recovered, err := jsonList(inc.Recovered)
	if err != nil {
		return nil, err
	}
	notes, err := jsonList(inc.Notes)
	if err != nil {
		return nil, err
	}
	return []any{
		inc.ID, inc.Environment, string(inc.Status), inc.OpenedAt.UTC(), nullTime(inc.UpdatedAt),
		nullTime(inc.LastFailedAt), nullTime(inc.ResolvedAt),
		models, recovered, inc.Class, inc.FirstError, inc.LastError, inc.Attempts, inc.Occurrences,
		inc.RunID, inc.LastRunID, inc.ResolvedByRun, inc.Owner, inc.Severity, notes, inc.RootCause,
	}, nil
}

// jsonList encodes a slice as a JSON array ("[]" for none).
func jsonList[T any](v []T) (string, error) {
	if v == nil {
		v = []T{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// selectIncidents is the SELECT list matching scanIncident.
const selectIncidents = `SELECT id, environment, status, opened_at, updated_at, last_failed_at, resolved_at,
	CAST(models AS VARCHAR), CAST(recovered AS VARCHAR), class, first_error, last_error, attempts, occurrences,
	run_id, last_run_id, resolved_by_run, owner, severity, CAST(notes AS VARCHAR), root_cause
FROM ` + incidentsTable

type rowScanner interface{ Scan(dest ...any) error }

func scanIncident(r rowScanner) (incident.Incident, error) {
	var (
		inc                                        incident.Incident
		status                                     string
		opened                                     time.Time
		updated, failed, resolved                  sql.NullTime
		models, recovered, notes                   sql.NullString
		class, firstErr, lastErr, run, lastRun, by sql.NullString
		owner, severity, rootCause                 sql.NullString
		attempts, occurrences                      sql.NullInt64
	)
	err := r.Scan(&inc.ID, &inc.Environment, &status, &opened, &updated, &failed, &resolved,
		&models, &recovered, &class, &firstErr, &lastErr, &attempts, &occurrences,
		&run, &lastRun, &by, &owner, &severity, &notes, &rootCause)
	if err != nil {
		return incident.Incident{}, err
	}
	inc.Status = incident.Status(status)
	inc.OpenedAt = opened
	inc.UpdatedAt, inc.LastFailedAt, inc.ResolvedAt = updated.Time, failed.Time, resolved.Time
	inc.Class, inc.FirstError, inc.LastError = class.String, firstErr.String, lastErr.String
	inc.RunID, inc.LastRunID, inc.ResolvedByRun = run.String, lastRun.String, by.String
	inc.Owner, inc.Severity, inc.RootCause = owner.String, severity.String, rootCause.String
	inc.Attempts, inc.Occurrences = int(attempts.Int64), int(occurrences.Int64)
	for _, c := range []struct {
		name string
		src  sql.NullString
		dst  any
	}{{"models", models, &inc.Models}, {"recovered", recovered, &inc.Recovered}, {"notes", notes, &inc.Notes}} {
		if !c.src.Valid || c.src.String == "" {
			continue
		}
		if err := json.Unmarshal([]byte(c.src.String), c.dst); err != nil {
			return incident.Incident{}, fmt.Errorf("incident %s: %s: %w", inc.ID, c.name, err)
		}
	}
	return incident.Normalize(inc), nil
}

// Open stores inc with the next ID of its day. The ID is computed and the
// row inserted in one transaction; a transaction that loses the race to
// another writer (a write conflict or a duplicate key) is retried. Opens in
// this process are also serialised, so they seldom need to be.
func (s *incidentStore) Open(ctx context.Context, inc incident.Incident) (incident.Incident, error) {
	inc, err := incident.PrepareOpen(inc, time.Now())
	if err != nil {
		return incident.Incident{}, err
	}
	if s.e.readOnly {
		return incident.Incident{}, errors.New("open incident: the database is read-only")
	}
	if err := s.ensure(ctx); err != nil {
		return incident.Incident{}, fmt.Errorf("open incident: %w", err)
	}
	openIncidentMu.Lock()
	defer openIncidentMu.Unlock()
	return s.insert(ctx, inc)
}

// insert assigns inc its ID and inserts it, retrying lost races.
func (s *incidentStore) insert(ctx context.Context, inc incident.Incident) (incident.Incident, error) {
	prefix := incident.IDPrefix(inc.OpenedAt)
	for attempt := 1; ; attempt++ {
		got, err := s.tryOpen(ctx, inc, prefix)
		if err == nil {
			return got, nil
		}
		if ctx.Err() != nil || attempt >= openIncidentAttempts || !isConflict(err) {
			return incident.Incident{}, fmt.Errorf("open incident: %w", err)
		}
	}
}

func (s *incidentStore) tryOpen(ctx context.Context, inc incident.Incident, prefix string) (_ incident.Incident, err error) {
	tx, err := s.e.db.BeginTx(ctx, nil)
	if err != nil {
		return incident.Incident{}, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM `+incidentsTable+` WHERE starts_with(id, ?)`, prefix)
	if err != nil {
		return incident.Incident{}, err
	}
	last := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return incident.Incident{}, err
		}
		if p, n, ok := incident.ParseID(id); ok && p == prefix {
			last = max(last, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return incident.Incident{}, err
	}
	inc.ID = incident.FormatID(inc.OpenedAt, last+1)
	row, err := incidentRow(&inc)
	if err != nil {
		return incident.Incident{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+incidentsTable+` (`+incidentColumns+`)
VALUES (`+placeholders(len(row))+`)`, row...); err != nil {
		return incident.Incident{}, err
	}
	if err := tx.Commit(); err != nil {
		return incident.Incident{}, err
	}
	return incident.Normalize(inc), nil
}

// isConflict reports whether err is DuckDB refusing a transaction because a
// concurrent one got there first.
func isConflict(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "onflict") || strings.Contains(msg, "Duplicate key") ||
		strings.Contains(msg, "PRIMARY KEY or UNIQUE constraint")
}

func (s *incidentStore) Update(ctx context.Context, inc incident.Incident) error {
	if err := incident.CheckUpdate(inc); err != nil {
		return err
	}
	inc = incident.Normalize(inc)
	ok, err := s.exists(ctx)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", inc.ID, err)
	}
	if !ok {
		return fmt.Errorf("update incident %s: %w", inc.ID, incident.ErrNotFound)
	}
	row, err := incidentRow(&inc)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", inc.ID, err)
	}
	cols := strings.Split(incidentColumns, ",")
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		set = append(set, strings.TrimSpace(c)+" = ?")
	}
	res, err := s.e.db.ExecContext(ctx, `UPDATE `+incidentsTable+` SET `+strings.Join(set, ", ")+` WHERE id = ?`,
		append(row[1:], inc.ID)...)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", inc.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update incident %s: %w", inc.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update incident %s: %w", inc.ID, incident.ErrNotFound)
	}
	return nil
}

func (s *incidentStore) Get(ctx context.Context, id string) (incident.Incident, error) {
	ok, err := s.exists(ctx)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	if !ok {
		return incident.Incident{}, fmt.Errorf("get incident %s: %w", id, incident.ErrNotFound)
	}
	inc, err := scanIncident(s.e.db.QueryRowContext(ctx, selectIncidents+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Incident{}, fmt.Errorf("get incident %s: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return incident.Incident{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	return inc, nil
}

func (s *incidentStore) List(ctx context.Context, f incident.Filter) ([]incident.Incident, error) {
	ok, err := s.exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Environment != "" {
		where = append(where, "environment = ?")
		args = append(args, f.Environment)
	}
	if f.Model != "" {
		where = append(where, "list_contains(CAST(models AS VARCHAR[]), ?)")
		args = append(args, f.Model)
	}
	q := selectIncidents
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY opened_at DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := s.e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []incident.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}
