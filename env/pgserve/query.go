package pgserve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	bindings "github.com/duckdb/duckdb-go-bindings"
	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
)

// parse turns one client statement into a prepared statement: psql
// compatibility answers (SHOW, harmless SET), the read-only guard, and
// DuckDB's own description of the statement (its type, parameters and
// columns). The DuckDB statement prepared here is closed at once; Execute
// prepares it again inside its read-only transaction.
func (s *Server) parse(ctx context.Context, q wire.Query) (wire.PreparedStatements, error) {
	ss := sessionFrom(ctx)
	if ss == nil {
		return nil, pgError(codes.InvalidAuthorizationSpecification, "not authenticated")
	}
	if s.draining.Load() {
		return nil, pgError(codes.AdminShutdown, "the server is shutting down")
	}
	query := q.Query
	if isBlank(query) {
		return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
			return w.Empty()
		})), nil
	}
	if st, ok, err := s.compat(ctx, ss, query); ok || err != nil {
		return st, err
	}
	query = rewriteCatalog(query, ss)
	if kw := writeKeyword(query); kw != "" {
		// Refused before DuckDB binds it: a write to a view or a missing
		// table is still a write.
		return nil, s.refuse(ctx, ss, q.Query, StateReadOnly, "cannot execute "+kw+" in a read-only transaction")
	}
	if ss.role == env.RoleReader && duckenv.MentionsInternalSchemas(query) {
		return nil, s.refuse(ctx, ss, q.Query, StateInsufficientPrivilege, "the _dataops schemas hold dataops' own tables (run history, versions, incidents), which role reader may not read")
	}
	if err := duckenv.CheckReadOnlySQL(query); err != nil {
		return nil, s.refuse(ctx, ss, q.Query, StateInsufficientPrivilege, err.Error())
	}
	info, err := s.describe(ctx, ss, query)
	if err != nil {
		if st, ok := emptyCatalogResult(query, err); ok {
			return st, nil
		}
		return nil, clientError(err)
	}
	switch info.stmtType {
	case bindings.StatementTypeSelect, bindings.StatementTypeExplain:
	case bindings.StatementTypeInsert, bindings.StatementTypeUpdate, bindings.StatementTypeDelete,
		bindings.StatementTypeCreate, bindings.StatementTypeDrop, bindings.StatementTypeAlter,
		bindings.StatementTypeMergeInto, bindings.StatementTypeCreateFunc, bindings.StatementTypeAnalyze:
		return nil, s.refuse(ctx, ss, q.Query, StateReadOnly, "cannot execute "+statementName(info.stmtType)+" in a read-only transaction")
	default:
		return nil, s.refuse(ctx, ss, q.Query, StateInsufficientPrivilege, "only a single SELECT or EXPLAIN statement may run here")
	}
	oids := info.params
	for i, o := range q.ParameterOIDs {
		if i < len(oids) && o != 0 {
			oids[i] = o
		}
	}
	cols := make(wire.Columns, len(info.columns))
	for i, c := range info.columns {
		cols[i] = wire.Column{Name: c.name, Oid: c.oid, Width: typeWidth(c.oid)}
	}
	run := wrapQuery(query, info.columns)
	display := q.Query
	fn := func(ctx context.Context, w wire.DataWriter, params []wire.Parameter) error {
		return s.execute(ctx, ss, display, run, info.columns, oids, w, params)
	}
	return wire.Prepared(wire.NewStatement(fn, wire.WithColumns(cols), wire.WithParameters(oids))), nil
}

func statementName(t bindings.StatementType) string {
	switch t {
	case bindings.StatementTypeInsert:
		return "INSERT"
	case bindings.StatementTypeUpdate:
		return "UPDATE"
	case bindings.StatementTypeDelete:
		return "DELETE"
	case bindings.StatementTypeCreate, bindings.StatementTypeCreateFunc:
		return "CREATE"
	case bindings.StatementTypeDrop:
		return "DROP"
	case bindings.StatementTypeAlter:
		return "ALTER"
	case bindings.StatementTypeMergeInto:
		return "MERGE"
	case bindings.StatementTypeAnalyze:
		return "ANALYZE"
	}
	return "this statement"
}

func typeWidth(oid uint32) int16 {
	switch oid {
	case pgtype.BoolOID:
		return 1
	case pgtype.Int2OID:
		return 2
	case pgtype.Int4OID, pgtype.Float4OID, pgtype.DateOID:
		return 4
	case pgtype.Int8OID, pgtype.Float8OID, pgtype.TimeOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return 8
	case pgtype.IntervalOID, pgtype.UUIDOID:
		return 16
	}
	return -1
}

// refuse audits and logs a refused statement and returns its error.
func (s *Server) refuse(ctx context.Context, ss *session, query string, code codes.Code, reason string) error {
	s.metrics.refused(ctx, ss.envName, string(code))
	s.audit(ctx, env.AuditEvent{Principal: ss.principal.Name, Environment: ss.envName, Action: actionFor(code), Object: auditText(query), Allowed: false, Result: reason})
	s.log.Info("pgserve: statement refused", "user", ss.principal.Name, "database", ss.envName, "sqlstate", string(code), "reason", reason)
	return pgError(code, "%s", reason)
}

func actionFor(code codes.Code) env.Action {
	if code == StateReadOnly {
		return env.ActionWrite
	}
	return env.ActionRead
}

// auditText bounds the statement text kept in the audit log.
func auditText(q string) string {
	q = strings.TrimSpace(q)
	if len(q) > 2000 {
		q = q[:2000] + "…"
	}
	return q
}

// describe prepares query on the session's connection and describes it.
func (s *Server) describe(ctx context.Context, ss *session, query string) (*statementInfo, error) {
	dc, err := ss.acquire(ctx)
	if err != nil {
		return nil, err
	}
	broken := false
	defer func() { ss.release(dc, broken) }()
	var info *statementInfo
	err = dc.conn.Raw(func(drv any) error {
		rc, err := rawConn(drv)
		if err != nil {
			broken = true
			return err
		}
		// Prepared on the session's connection, where Execute finds it.
		st, err := dc.statement(rc, query, true)
		if err != nil {
			return err
		}
		info = describe(st)
		return nil
	})
	return info, err
}

// execute runs a described statement in a read-only transaction and
// streams its rows to the client.
func (s *Server) execute(ctx context.Context, ss *session, display, run string, cols []column, oids []uint32, w wire.DataWriter, params []wire.Parameter) (err error) {
	start := time.Now()
	var n int64
	if !s.beginQuery() {
		return pgError(codes.AdminShutdown, "the server is shutting down")
	}
	defer s.endQuery()
	defer func() {
		status := "ok"
		if err != nil {
			status = "error"
		}
		s.metrics.query(ctx, ss.envName, status, n, time.Since(start))
		if s.cfg.AuditQueries {
			res := "ok"
			if err != nil {
				res = firstLine(err.Error())
			}
			s.audit(ctx, env.AuditEvent{Principal: ss.principal.Name, Environment: ss.envName, Action: env.ActionRead, Object: auditText(display), Allowed: true, Result: res})
		}
	}()

	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.stopQueries, cancel)
	defer stop()
	if ss.limits.QueryTimeout > 0 {
		var c2 context.CancelFunc
		qctx, c2 = context.WithTimeout(qctx, ss.limits.QueryTimeout)
		defer c2()
	}
	ss.setCancel(cancel)
	defer ss.setCancel(nil)

	if sem := s.roleSem(ss.role, ss.limits.MaxConcurrentQueries); sem != nil {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-qctx.Done():
			return clientError(qctx.Err())
		}
	}

	args := make([]any, len(params))
	for i, p := range params {
		if p.Value() == nil {
			continue
		}
		oid := uint32(pgtype.TextOID)
		if i < len(oids) {
			oid = oids[i]
		}
		v, err := p.Scan(oid)
		if err != nil {
			return pgError(codes.InvalidParameterValue, "parameter $%d: %v", i+1, err)
		}
		args[i] = bindable(v)
	}

	// Rows go out a chunk at a time, batched into 32 KB writes.
	emit := func(rows [][]any) error {
		if max := ss.limits.MaxResultRows; max > 0 && int64(w.Written())+int64(len(rows)) > max {
			return pgError(codes.ProgramLimitExceeded, "the result has more than %d rows, the limit of role %s", max, ss.role)
		}
		return wire.WriteRows(w, rows)
	}
	dc, err := ss.acquire(qctx)
	if err != nil {
		return clientError(err)
	}
	broken := false
	defer func() { ss.release(dc, broken) }()
	// One read-only transaction per statement, on the connection the
	// statement runs on: it sees the last published snapshot as a whole
	// for as long as it streams, and a publish does not wait for it.
	err = dc.conn.Raw(func(drv any) error {
		rc, err := rawConn(drv)
		if err != nil {
			broken = true
			return err
		}
		begin, rollback, err := dc.txStatements(rc)
		if err != nil {
			broken = true
			return err
		}
		if err := execPrepared(begin); err != nil {
			broken = true
			return err
		}
		defer func() {
			if execPrepared(rollback) != nil {
				broken = true
			}
		}()
		st, err := dc.statement(rc, run, false)
		if err != nil {
			return err
		}
		n, err = stream(qctx, rc, st, args, cols, emit)
		return err
	})
	if err != nil {
		if errors.Is(err, wire.ErrSuspendedHandlerClosed) || errors.Is(err, wire.ErrClosedWriter) {
			return err
		}
		if ctx.Err() == nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
			return clientError(context.DeadlineExceeded)
		}
		if qctx.Err() != nil {
			return clientError(context.Canceled)
		}
		return clientError(err)
	}
	return w.Complete(fmt.Sprintf("SELECT %d", n))
}

// bindable converts a decoded parameter to a value DuckDB can bind.
func bindable(v any) any {
	switch x := v.(type) {
	case pgtype.Numeric:
		dv, err := x.Value()
		if err != nil || dv == nil {
			return nil
		}
		return fmt.Sprint(dv)
	case [16]byte:
		return pgtype.UUID{Bytes: x, Valid: true}.String()
	case pgtype.Interval:
		dv, err := x.Value()
		if err != nil || dv == nil {
			return nil
		}
		return fmt.Sprint(dv)
	case pgtype.Time:
		dv, err := x.Value()
		if err != nil || dv == nil {
			return nil
		}
		return fmt.Sprint(dv)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	}
	return v
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// sanitizeForClient is the last filter on every error a client receives:
// no stack traces, no internal errors.
func sanitizeForClient(err error) error {
	if pgerror.GetCode(err) != codes.Uncategorized {
		msg := sanitizeMessage(err.Error())
		if msg == err.Error() {
			return err
		}
		return pgerror.WithCode(errors.New(msg), pgerror.GetCode(err))
	}
	return clientError(err)
}

var writeRe = regexp.MustCompile(`(?i)^(insert|update|delete|merge|create|drop|alter|truncate|comment|grant|revoke)\b`)

// writeKeyword returns the statement's first keyword, upper-cased, when it
// starts a write.
func writeKeyword(q string) string {
	q = skipComments(q)
	for strings.HasPrefix(q, "(") {
		q = skipComments(q[1:])
	}
	m := writeRe.FindString(q)
	if strings.EqualFold(m, "create") {
		// CREATE TEMP is refused by the guard, with its own reason.
		rest := strings.ToLower(strings.Join(strings.Fields(q[len(m):]), " "))
		rest = strings.TrimPrefix(rest, "or replace ")
		if strings.HasPrefix(rest, "temp ") || strings.HasPrefix(rest, "temporary ") || strings.HasPrefix(rest, "secret ") || strings.HasPrefix(rest, "persistent ") {
			return ""
		}
	}
	return strings.ToUpper(m)
}

// skipComments drops leading blanks and comments.
func skipComments(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexAny(q, "\r\n")
			if i < 0 {
				return ""
			}
			q = q[i:]
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return q
			}
			q = q[i+2:]
		default:
			return q
		}
	}
}

// isBlank reports whether a query has nothing but blanks, semicolons and
// comments.
func isBlank(q string) bool {
	for q != "" {
		q = strings.TrimLeft(q, " \t\r\n;")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexAny(q, "\r\n")
			if i < 0 {
				return true
			}
			q = q[i:]
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return false
			}
			q = q[i+2:]
		default:
			return q == ""
		}
	}
	return true
}
