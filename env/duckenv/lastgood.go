package duckenv

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// LastGood returns the run that last built node successfully and when that
// node finished, read from the run history and the node results recorded
// while runs go on (see NodeRecorder), so a run that died after building
// the node counts too. ok is false when no recorded
// run built it. It serves orchestrate.Options.LastGood: after a failure the
// relation still holds that version, because a failed build never replaces
// it.
//
// For models published through snapshots (write–audit–publish), the
// answer is the version readers see now: the run that built it and when.
func (e *Env) LastGood(ctx context.Context, node string) (runID string, builtAt time.Time, ok bool, err error) {
	if err := e.ensureVersions(ctx); err != nil {
		return "", time.Time{}, false, err
	}
	if v, found, err := e.publishedVersion(ctx, e.db, node); err != nil {
		return "", time.Time{}, false, err
	} else if found {
		return v.RunID, v.BuiltAt, true, nil
	}
	// Finished runs hold their results in run_history; nodes of a run
	// still going, or of one that died, are in node_results.
	row := e.db.QueryRowContext(ctx, `SELECT run_id, finished_at FROM (
	SELECT h.run_id, r.finished_at
	FROM `+historyTable+` h,
	     unnest(from_json(h.results, '[{"unique_id":"VARCHAR","status":"VARCHAR","finished_at":"TIMESTAMPTZ"}]')) AS t(r)
	WHERE r.unique_id = ? AND r.status IN ('success', 'pass', 'warn')
	UNION ALL
	SELECT run_id, finished_at FROM `+nodeResultsTable+`
	WHERE node = ? AND status IN ('success', 'pass', 'warn')
)
ORDER BY finished_at DESC
LIMIT 1`, node, node)
	if err := row.Scan(&runID, &builtAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", time.Time{}, false, nil
		}
		return "", time.Time{}, false, err
	}
	return runID, builtAt, true, nil
}
