package duckenv

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

const nodeResultsTable = `"` + HistorySchema + `"."node_results"`

// NodeRecorder is an orchestrate.Observer that records each node's final
// status in `_dataops`.node_results while the run goes on, so that after a
// crash `retry` knows which nodes finished and LastGood knows which version
// each relation holds. Writes are batched: a crash loses at most the last
// flush interval (200 ms) of records, and re-running those nodes is safe.
// Close it after the run.
type NodeRecorder struct {
	env   *Env
	runID string
	mu    sync.Mutex
	batch []nodeRow
	err   error
	stop  chan struct{}
	done  chan struct{}
}

type nodeRow struct {
	node, status string
	at           time.Time
}

// flushInterval bounds how long a finished node waits to be recorded.
const flushInterval = 200 * time.Millisecond

// NodeRecorder starts recording the nodes of run runID.
func (e *Env) NodeRecorder(ctx context.Context, runID string) (*NodeRecorder, error) {
	if err := e.ensureHistory(ctx); err != nil {
		return nil, err
	}
	r := &NodeRecorder{env: e, runID: runID, stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r, nil
}

// OnEvent queues finished nodes.
func (r *NodeRecorder) OnEvent(ev orchestrate.Event) {
	if ev.Type != orchestrate.NodeFinished || ev.Result == nil {
		return
	}
	at := ev.Result.FinishedAt
	if at.IsZero() {
		at = ev.Time
	}
	r.mu.Lock()
	r.batch = append(r.batch, nodeRow{node: ev.Result.Node, status: string(ev.Result.Status), at: at})
	r.mu.Unlock()
}

func (r *NodeRecorder) loop() {
	defer close(r.done)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.flush()
		case <-r.stop:
			r.flush()
			return
		}
	}
}

func (r *NodeRecorder) flush() {
	r.mu.Lock()
	rows := r.batch
	r.batch = nil
	r.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("INSERT OR REPLACE INTO " + nodeResultsTable + " (run_id, node, status, finished_at) VALUES ")
	args := make([]any, 0, 4*len(rows))
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, r.runID, row.node, row.status, row.at)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := r.env.db.ExecContext(ctx, b.String(), args...); err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
}

// Close writes what is queued and stops the recorder; it returns the first
// write error.
func (r *NodeRecorder) Close() error {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// NodeResults returns the statuses recorded for the nodes of run runID.
func (e *Env) NodeResults(ctx context.Context, runID string) (map[string]string, error) {
	if err := e.ensureHistory(ctx); err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, "SELECT node, status FROM "+nodeResultsTable+" WHERE run_id = ?", runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var node, status string
		if err := rows.Scan(&node, &status); err != nil {
			return nil, err
		}
		out[node] = status
	}
	return out, rows.Err()
}
