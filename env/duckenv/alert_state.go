package duckenv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	"github.com/vyaparbazaar/dataops/internal/sqlident"
)

const (
	alertsTable   = `"` + HistorySchema + `"."alerts"`
	silencesTable = `"` + HistorySchema + `"."alert_silences"`
)

// Alerts returns the environment's alert store: alert records with their
// acknowledgements in `_dataops`.alerts and silences in
// `_dataops`.alert_silences (created on first write), so that `alerts
// ack` in one process stops the escalation of a daemon in another.
// Labels, links and matchers are stored as JSON.
func (e *Env) Alerts() alert.Store { return &alertStore{e: e} }

type alertStore struct{ e *Env }

const alertColumns = `id, type, severity, title, body, labels, runbook, links, starts_at, ends_at,
	first_seen, last_seen, count, last_notified, acked_by, acked_at, escalated_at`

func (s *alertStore) ensure(ctx context.Context) error {
	if err := s.e.ensureHiddenTable(ctx, "alerts", `(
	id VARCHAR PRIMARY KEY,
	type VARCHAR NOT NULL,
	severity VARCHAR,
	title VARCHAR,
	body VARCHAR,
	labels JSON,
	runbook VARCHAR,
	links JSON,
	starts_at TIMESTAMPTZ,
	ends_at TIMESTAMPTZ,
	first_seen TIMESTAMPTZ,
	last_seen TIMESTAMPTZ,
	count INTEGER,
	last_notified TIMESTAMPTZ,
	acked_by VARCHAR,
	acked_at TIMESTAMPTZ,
	escalated_at TIMESTAMPTZ
)`); err != nil {
		return err
	}
	return s.e.ensureHiddenTable(ctx, "alert_silences", `(
	id VARCHAR PRIMARY KEY,
	matchers JSON NOT NULL,
	starts_at TIMESTAMPTZ NOT NULL,
	ends_at TIMESTAMPTZ NOT NULL,
	created_by VARCHAR,
	comment VARCHAR
)`)
}

// SaveAlert implements alert.Store.
func (s *alertStore) SaveAlert(ctx context.Context, r alert.Record) error {
	if r.ID == "" {
		return errors.New("save alert: empty ID")
	}
	labels, err := json.Marshal(r.Alert.Labels)
	if err != nil {
		return fmt.Errorf("save alert %s: %w", r.ID, err)
	}
	links, err := json.Marshal(r.Alert.Links)
	if err != nil {
		return fmt.Errorf("save alert %s: %w", r.ID, err)
	}
	if err := s.ensure(ctx); err != nil {
		return fmt.Errorf("save alert %s: %w", r.ID, err)
	}
	a := r.Alert
	var ackedBy any
	if r.AckedBy != "" {
		ackedBy = r.AckedBy
	}
	// The whole row is replaced, except that within one firing episode
	// (the same first_seen) an acknowledgement or escalation already
	// stored is never cleared: `alerts ack` in another process, or an
	// ack racing the dispatcher's next save, must not be lost.
	_, err = s.e.db.ExecContext(ctx, `INSERT INTO `+alertsTable+` (`+alertColumns+`)
VALUES (?, ?, ?, ?, ?, CAST(? AS JSON), ?, CAST(? AS JSON), ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	type = excluded.type, severity = excluded.severity, title = excluded.title, body = excluded.body,
	labels = excluded.labels, runbook = excluded.runbook, links = excluded.links,
	starts_at = excluded.starts_at, ends_at = excluded.ends_at,
	last_seen = excluded.last_seen, count = excluded.count, last_notified = excluded.last_notified,
	acked_by = CASE WHEN first_seen IS NOT DISTINCT FROM excluded.first_seen
		THEN COALESCE(excluded.acked_by, acked_by) ELSE excluded.acked_by END,
	acked_at = CASE WHEN first_seen IS NOT DISTINCT FROM excluded.first_seen
		THEN COALESCE(excluded.acked_at, acked_at) ELSE excluded.acked_at END,
	escalated_at = CASE WHEN first_seen IS NOT DISTINCT FROM excluded.first_seen
		THEN COALESCE(excluded.escalated_at, escalated_at) ELSE excluded.escalated_at END,
	first_seen = excluded.first_seen`,
		r.ID, string(a.Type), string(a.Severity), a.Title, a.Body, string(labels), a.Runbook, string(links),
		nullTime(a.StartsAt), nullTime(a.EndsAt), nullTime(r.FirstSeen), nullTime(r.LastSeen), r.Count,
		nullTime(r.LastNotified), ackedBy, nullTime(r.AckedAt), nullTime(r.EscalatedAt))
	if err != nil {
		return fmt.Errorf("save alert %s: %w", r.ID, err)
	}
	return nil
}

func scanAlert(sc rowScanner) (alert.Record, error) {
	var (
		r                                          alert.Record
		typ, sev, title, body, runbook, acked      sql.NullString
		labels, links                              sql.NullString
		starts, ends, first, last, notified, ackAt sql.NullTime
		escalated                                  sql.NullTime
		count                                      sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &typ, &sev, &title, &body, &labels, &runbook, &links, &starts, &ends,
		&first, &last, &count, &notified, &acked, &ackAt, &escalated); err != nil {
		return r, err
	}
	r.Alert = alert.Alert{Type: alert.Type(typ.String), Severity: alert.Severity(sev.String), Title: title.String,
		Body: body.String, Runbook: runbook.String, StartsAt: utcTime(starts), EndsAt: utcTime(ends)}
	if labels.Valid && labels.String != "null" {
		if err := json.Unmarshal([]byte(labels.String), &r.Alert.Labels); err != nil {
			return r, fmt.Errorf("alert %s: labels: %w", r.ID, err)
		}
	}
	if links.Valid && links.String != "null" {
		if err := json.Unmarshal([]byte(links.String), &r.Alert.Links); err != nil {
			return r, fmt.Errorf("alert %s: links: %w", r.ID, err)
		}
	}
	r.FirstSeen, r.LastSeen, r.Count = utcTime(first), utcTime(last), int(count.Int64)
	r.LastNotified, r.AckedBy, r.AckedAt, r.EscalatedAt = utcTime(notified), acked.String, utcTime(ackAt), utcTime(escalated)
	return r, nil
}

const alertSelect = `SELECT id, type, severity, title, body, CAST(labels AS VARCHAR), runbook, CAST(links AS VARCHAR),
	starts_at, ends_at, first_seen, last_seen, count, last_notified, acked_by, acked_at, escalated_at FROM ` + alertsTable

// Alert implements alert.Store.
func (s *alertStore) Alert(ctx context.Context, id string) (alert.Record, error) {
	ok, err := s.e.hiddenTableExists(ctx, "alerts")
	if err != nil {
		return alert.Record{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if !ok {
		return alert.Record{}, fmt.Errorf("alert %s: %w", id, alert.ErrNotFound)
	}
	r, err := scanAlert(s.e.db.QueryRowContext(ctx, alertSelect+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return alert.Record{}, fmt.Errorf("alert %s: %w", id, alert.ErrNotFound)
	}
	if err != nil {
		return alert.Record{}, fmt.Errorf("alert %s: %w", id, err)
	}
	return r, nil
}

// Alerts implements alert.Store.
func (s *alertStore) Alerts(ctx context.Context, f alert.Filter) ([]alert.Record, error) {
	ok, err := s.e.hiddenTableExists(ctx, "alerts")
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("alerts: %w", err)
		}
		return nil, err
	}
	q := alertSelect
	if f.Open {
		q += ` WHERE ends_at IS NULL`
	}
	q += ` ORDER BY last_seen DESC NULLS LAST, id`
	if f.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	rows, err := s.e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Record
	for rows.Next() {
		r, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return out, nil
}

// Ack implements alert.Store.
func (s *alertStore) Ack(ctx context.Context, id, by string, at time.Time) (alert.Record, error) {
	if strings.TrimSpace(by) == "" {
		return alert.Record{}, errors.New("ack: say who acknowledges")
	}
	if _, err := s.Alert(ctx, id); err != nil {
		return alert.Record{}, err
	}
	if _, err := s.e.db.ExecContext(ctx, `UPDATE `+alertsTable+` SET acked_by = ?, acked_at = ? WHERE id = ?`, by, at.UTC(), id); err != nil {
		return alert.Record{}, fmt.Errorf("ack alert %s: %w", id, err)
	}
	return s.Alert(ctx, id)
}

// AddSilence implements alert.Store.
func (s *alertStore) AddSilence(ctx context.Context, sil alert.Silence) (alert.Silence, error) {
	if err := sil.Validate(); err != nil {
		return alert.Silence{}, err
	}
	if sil.ID == "" {
		sil.ID = alert.NewSilenceID()
	}
	ms := make([]string, len(sil.Matchers))
	for i, m := range sil.Matchers {
		ms[i] = m.String()
	}
	data, err := json.Marshal(ms)
	if err != nil {
		return alert.Silence{}, err
	}
	if err := s.ensure(ctx); err != nil {
		return alert.Silence{}, fmt.Errorf("add silence: %w", err)
	}
	if _, err := s.e.db.ExecContext(ctx, `INSERT OR REPLACE INTO `+silencesTable+` (id, matchers, starts_at, ends_at, created_by, comment)
VALUES (?, CAST(? AS JSON), ?, ?, ?, ?)`, sil.ID, string(data), sil.StartsAt.UTC(), sil.EndsAt.UTC(), sil.CreatedBy, sil.Comment); err != nil {
		return alert.Silence{}, fmt.Errorf("add silence: %w", err)
	}
	return sil, nil
}

// Silences implements alert.Store.
func (s *alertStore) Silences(ctx context.Context) ([]alert.Silence, error) {
	ok, err := s.e.hiddenTableExists(ctx, "alert_silences")
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("silences: %w", err)
		}
		return nil, err
	}
	rows, err := s.e.db.QueryContext(ctx, `SELECT id, CAST(matchers AS VARCHAR), starts_at, ends_at, created_by, comment FROM `+silencesTable+` ORDER BY starts_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	defer rows.Close()
	var out []alert.Silence
	for rows.Next() {
		var (
			sil         alert.Silence
			matchers    string
			start, end  sql.NullTime
			by, comment sql.NullString
		)
		if err := rows.Scan(&sil.ID, &matchers, &start, &end, &by, &comment); err != nil {
			return nil, fmt.Errorf("silences: %w", err)
		}
		var ms []string
		if err := json.Unmarshal([]byte(matchers), &ms); err != nil {
			return nil, fmt.Errorf("silence %s: matchers: %w", sil.ID, err)
		}
		for _, m := range ms {
			pm, err := alert.ParseMatcher(m)
			if err != nil {
				return nil, fmt.Errorf("silence %s: %w", sil.ID, err)
			}
			sil.Matchers = append(sil.Matchers, pm)
		}
		sil.StartsAt, sil.EndsAt, sil.CreatedBy, sil.Comment = utcTime(start), utcTime(end), by.String, comment.String
		out = append(out, sil)
	}
	return out, rows.Err()
}

// ExpireSilence implements alert.Store.
func (s *alertStore) ExpireSilence(ctx context.Context, id string, at time.Time) error {
	ok, err := s.e.hiddenTableExists(ctx, "alert_silences")
	if err != nil {
		return fmt.Errorf("expire silence %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("silence %s: %w", id, alert.ErrNotFound)
	}
	res, err := s.e.db.ExecContext(ctx, `UPDATE `+silencesTable+`
SET ends_at = CASE WHEN ? < ends_at THEN ? ELSE ends_at END,
    starts_at = CASE WHEN ? < starts_at THEN ? ELSE starts_at END
WHERE id = ?`, at.UTC(), at.UTC(), at.UTC(), at.UTC(), id)
	if err != nil {
		return fmt.Errorf("expire silence %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("silence %s: %w", id, alert.ErrNotFound)
	}
	return nil
}

// AlertHistory returns the run history as the monitors read it: runs newest
// first with their node results (finished runs only).
func (e *Env) AlertHistory() monitor.History { return alertHistory{e} }

type alertHistory struct{ e *Env }

func (h alertHistory) Runs(ctx context.Context, limit int) ([]monitor.RunSummary, error) {
	recs, err := h.e.RunHistory(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.RunSummary, 0, len(recs))
	for _, r := range recs {
		if r.Status == "running" {
			continue
		}
		nodes, err := monitor.ParseResults(r.Results)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.RunID, err)
		}
		out = append(out, monitor.RunSummary{RunID: r.RunID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status, Nodes: nodes})
	}
	return out, nil
}

// LoadedAt returns the newest value of column in schema.table (ok false
// when the table is empty), for source lag.
func (e *Env) LoadedAt(ctx context.Context, schema, table, column string) (time.Time, bool, error) {
	var t sql.NullTime
	q := `SELECT max(CAST(` + sqlident.Quote(column) + ` AS TIMESTAMPTZ)) FROM ` + sqlident.QuoteQualified(schema, table)
	if err := e.db.QueryRowContext(ctx, q).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("loaded-at of %s.%s.%s: %w", schema, table, column, err)
	}
	return utcTime(t), t.Valid, nil
}
