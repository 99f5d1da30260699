package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vyaparbazaar/dataops/schedule"
)

const scheduleStateTable = `"` + HistorySchema + `"."schedule_state"`

// ScheduleState returns a schedule.StateStore keeping the scheduler's
// per-job state in the database, in `_dataops`.schedule_state (one row per
// job, created on first save), so that a restarted scheduler neither runs a
// due time twice nor forgets one it missed. Times are stored as TIMESTAMPTZ
// (microsecond precision) and read back in UTC.
func (e *Env) ScheduleState() schedule.StateStore { return &scheduleStateStore{e: e} }

type scheduleStateStore struct{ e *Env }

// exists reports whether the table has been created.
func (s *scheduleStateStore) exists(ctx context.Context) (bool, error) {
	return s.e.hiddenTableExists(ctx, "schedule_state")
}

// ensure creates the schema and table if needed, under the lock that
// serialises the hidden schema's DDL.
func (s *scheduleStateStore) ensure(ctx context.Context) error {
	return s.e.ensureHiddenTable(ctx, "schedule_state", `(
	job VARCHAR PRIMARY KEY,
	last_due TIMESTAMPTZ,
	last_start TIMESTAMPTZ,
	last_finish TIMESTAMPTZ,
	last_status VARCHAR,
	last_error VARCHAR,
	last_trigger VARCHAR,
	last_success TIMESTAMPTZ,
	last_deadline_reported TIMESTAMPTZ,
	missed_deadline TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
)`)
}

// Load returns every job's state; none before the first save.
func (s *scheduleStateStore) Load(ctx context.Context) (map[string]schedule.JobState, error) {
	ok, err := s.exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("load schedule state: %w", err)
	}
	out := map[string]schedule.JobState{}
	if !ok {
		return out, nil
	}
	rows, err := s.e.db.QueryContext(ctx, `SELECT job, last_due, last_start, last_finish, last_status, last_error,
	last_trigger, last_success, last_deadline_reported, missed_deadline FROM `+scheduleStateTable)
	if err != nil {
		return nil, fmt.Errorf("load schedule state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			st                                  schedule.JobState
			due, start, finish, success, dl, md sql.NullTime
			status, msg, trigger                sql.NullString
		)
		if err := rows.Scan(&st.Job, &due, &start, &finish, &status, &msg, &trigger, &success, &dl, &md); err != nil {
			return nil, fmt.Errorf("load schedule state: %w", err)
		}
		st.LastDue, st.LastStart, st.LastFinish = utcTime(due), utcTime(start), utcTime(finish)
		st.LastSuccess, st.LastDeadlineReported, st.MissedDeadline = utcTime(success), utcTime(dl), utcTime(md)
		st.LastStatus, st.LastError, st.LastTrigger = status.String, msg.String, trigger.String
		out[st.Job] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load schedule state: %w", err)
	}
	return out, nil
}

// Save stores st, replacing the job's row.
func (s *scheduleStateStore) Save(ctx context.Context, st schedule.JobState) error {
	if st.Job == "" {
		return errors.New("save schedule state: empty job name")
	}
	if err := s.ensure(ctx); err != nil {
		return fmt.Errorf("save schedule state of %s: %w", st.Job, err)
	}
	_, err := s.e.db.ExecContext(ctx, `INSERT OR REPLACE INTO `+scheduleStateTable+`
(job, last_due, last_start, last_finish, last_status, last_error, last_trigger, last_success,
	last_deadline_reported, missed_deadline, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)`,
		st.Job, nullTime(st.LastDue), nullTime(st.LastStart), nullTime(st.LastFinish), st.LastStatus, st.LastError,
		st.LastTrigger, nullTime(st.LastSuccess), nullTime(st.LastDeadlineReported), nullTime(st.MissedDeadline))
	if err != nil {
		return fmt.Errorf("save schedule state of %s: %w", st.Job, err)
	}
	return nil
}

// utcTime returns t's time in UTC, or the zero time for NULL.
func utcTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
