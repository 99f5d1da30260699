package pgserve

import (
	"context"
	"database/sql"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// maxCachedStatements bounds a session's prepared DuckDB statements; the
// cache is emptied when it is full.
const maxCachedStatements = 256

// dbConn is a DuckDB connection of the environment's pool with the
// statements prepared on it. A session keeps one for its lifetime so that
// transaction control and repeated statements are prepared once (a `select
// 1` round trip costs about a quarter of preparing everything each time);
// DuckDB re-binds a prepared statement when the catalog changed, so a
// publish is seen by the next execution.
type dbConn struct {
	conn            *sql.Conn
	begin, rollback bindings.PreparedStatement
	stmts           map[string]bindings.PreparedStatement
	busy            bool
	pinned          bool
}

// txStatements returns the prepared BEGIN TRANSACTION READ ONLY and
// ROLLBACK.
func (d *dbConn) txStatements(rc bindings.Connection) (begin, rollback bindings.PreparedStatement, err error) {
	if d.begin.Ptr == nil {
		if d.begin, err = prepare(rc, "BEGIN TRANSACTION READ ONLY"); err != nil {
			return begin, rollback, err
		}
	}
	if d.rollback.Ptr == nil {
		if d.rollback, err = prepare(rc, "ROLLBACK"); err != nil {
			return begin, rollback, err
		}
	}
	return d.begin, d.rollback, nil
}

// statement returns query prepared on this connection; fresh prepares it
// again (a Parse: its description must be of the catalog as it is now).
func (d *dbConn) statement(rc bindings.Connection, query string, fresh bool) (bindings.PreparedStatement, error) {
	if st, ok := d.stmts[query]; ok {
		if !fresh {
			return st, nil
		}
		bindings.DestroyPrepare(&st)
		delete(d.stmts, query)
	}
	if len(d.stmts) >= maxCachedStatements {
		d.destroyStatements()
	}
	st, err := prepare(rc, query)
	if err != nil {
		return st, err
	}
	if d.stmts == nil {
		d.stmts = map[string]bindings.PreparedStatement{}
	}
	d.stmts[query] = st
	return st, nil
}

func (d *dbConn) destroyStatements() {
	for q, st := range d.stmts {
		bindings.DestroyPrepare(&st)
		delete(d.stmts, q)
	}
}

// close destroys the statements and returns the connection to the pool,
// or drops it when broken.
func (d *dbConn) close(broken bool) {
	d.destroyStatements()
	bindings.DestroyPrepare(&d.begin)
	bindings.DestroyPrepare(&d.rollback)
	if broken {
		_ = d.conn.Raw(discardConn)
	}
	_ = d.conn.Close()
}

// acquire returns the session's connection, or a connection of its own
// for this statement when the session's is busy (a suspended portal still
// streams on it).
func (ss *session) acquire(ctx context.Context) (*dbConn, error) {
	ss.dbMu.Lock()
	defer ss.dbMu.Unlock()
	if ss.closed {
		return nil, context.Canceled
	}
	if ss.db != nil && !ss.db.busy {
		ss.db.busy = true
		return ss.db, nil
	}
	c, err := ss.env.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	d := &dbConn{conn: c, busy: true}
	if ss.db == nil {
		d.pinned = true
		ss.db = d
	}
	return d, nil
}

// release ends a statement's use of a connection.
func (ss *session) release(d *dbConn, broken bool) {
	ss.dbMu.Lock()
	defer ss.dbMu.Unlock()
	d.busy = false
	switch {
	case !d.pinned:
		d.close(broken)
	case broken || ss.closed:
		d.close(broken)
		if ss.db == d {
			ss.db = nil
		}
	}
}

// closeDB releases the session's connection when the client goes.
func (ss *session) closeDB() {
	ss.dbMu.Lock()
	defer ss.dbMu.Unlock()
	ss.closed = true
	if ss.db != nil && !ss.db.busy {
		ss.db.close(false)
		ss.db = nil
	}
}
