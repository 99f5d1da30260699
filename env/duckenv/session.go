package duckenv

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
)

// cleanupTimeout bounds rollbacks and drops that run after the node's
// context is done.
const cleanupTimeout = 30 * time.Second

// session is one dedicated connection used for one node attempt. Every
// statement goes through it so that it is logged and recorded for
// TargetDir/run.
type session struct {
	env    *Env
	node   string
	conn   *sql.Conn
	inTx   bool
	broken bool
	ran    []string
}

func (e *Env) session(ctx context.Context, node string) (*session, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, withClass(fmt.Errorf("%s: get connection: %w", node, err))
	}
	return &session{env: e, node: node, conn: conn}, nil
}

// exec runs one statement.
func (s *session) exec(ctx context.Context, query string, args ...any) error {
	s.record(query)
	_, err := s.conn.ExecContext(ctx, query, args...)
	return err
}

// queryInt runs a query returning a single integer.
func (s *session) queryInt(ctx context.Context, query string, args ...any) (int64, error) {
	s.env.log.Debug("query", "env", s.env.name, "node", s.node, "sql", query)
	var n sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n.Int64, nil
}

func (s *session) record(query string) {
	s.ran = append(s.ran, query)
	s.env.log.Debug("exec", "env", s.env.name, "node", s.node, "sql", query)
}

func (s *session) begin(ctx context.Context) error {
	if err := s.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	s.inTx = true
	return nil
}

func (s *session) commit(ctx context.Context) error {
	if err := s.exec(ctx, "COMMIT"); err != nil {
		s.rollback()
		return err
	}
	s.inTx = false
	return nil
}

// rollback ends the open transaction, if any, even when the node's context
// is already cancelled. A connection whose rollback fails is discarded.
func (s *session) rollback() {
	if !s.inTx {
		return
	}
	s.inTx = false
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	s.record("ROLLBACK")
	if _, err := s.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		s.env.log.Warn("rollback failed; discarding connection", "env", s.env.name, "node", s.node, "error", err)
		s.broken = true
	}
}

// tx runs fn in one transaction on the session's connection.
func (s *session) tx(ctx context.Context, fn func() error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := fn(); err != nil {
		s.rollback()
		return err
	}
	return s.commit(ctx)
}

// dropQuiet drops a scratch relation after a failure, on a fresh context.
func (s *session) dropQuiet(quoted string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	q := "DROP TABLE IF EXISTS " + quoted
	var err error
	if s.broken {
		_, err = s.env.db.ExecContext(ctx, q)
	} else {
		s.record(q)
		_, err = s.conn.ExecContext(ctx, q)
	}
	if err != nil {
		s.env.log.Warn("drop scratch table failed", "env", s.env.name, "node", s.node, "table", quoted, "error", err)
	}
}

// close returns the connection to the pool, or discards it when its state
// is unknown.
func (s *session) close() {
	s.rollback()
	if s.broken {
		_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = s.conn.Close()
}

// runSQL is the statements the session ran, for TargetDir/run.
func (s *session) runSQL() string {
	if len(s.ran) == 0 {
		return ""
	}
	return strings.Join(s.ran, ";\n\n") + ";\n"
}

// isCancel reports whether err comes from a cancelled or expired context.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
