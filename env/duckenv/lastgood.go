package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// LastGood returns the run that last built node successfully and when that
// node finished, read from the run history. ok is false when no recorded
// run built it. It serves orchestrate.Options.LastGood: after a failure the
// relation still holds that version, because a failed build never replaces
// it.
func (e *Env) LastGood(ctx context.Context, node string) (runID string, builtAt time.Time, ok bool, err error) {
	if err := e.ensureHistory(ctx); err != nil {
		return "", time.Time{}, false, err
	}
	row := e.db.QueryRowContext(ctx, `SELECT h.run_id, r.finished_at
FROM `+historyTable+` h,
     unnest(from_json(h.results, '[{"unique_id":"VARCHAR","status":"VARCHAR","finished_at":"TIMESTAMPTZ"}]')) AS t(r)
WHERE r.unique_id = ? AND r.status IN ('success', 'pass', 'warn')
ORDER BY r.finished_at DESC
LIMIT 1`, node)
	if err := row.Scan(&runID, &builtAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", time.Time{}, false, nil
		}
		return "", time.Time{}, false, err
	}
	return runID, builtAt, true, nil
}
