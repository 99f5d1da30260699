package duckenv

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ErrRefused is matched by the error Query returns when it refuses a
// statement before running it.
var ErrRefused = errors.New("refused in a read-only query")

// QueryResult is the result of Query.
type QueryResult struct {
	// Columns are the result's column names.
	Columns []string
	// Rows are the result's rows, values as the driver returns them.
	Rows [][]any
}

// Query runs one read-only statement and returns all its rows. It runs in
// a `BEGIN TRANSACTION READ ONLY` transaction on a single connection, which
// is always rolled back, and refuses, before running anything, what a
// read-only transaction still lets through: several statements, COPY,
// EXPORT, IMPORT, ATTACH, DETACH, SET, RESET, LOAD, INSTALL, PRAGMA, CALL,
// CREATE TEMP, CHECKPOINT, USE, transaction control, and table functions or
// FROM clauses that read local files (read_csv, read_parquet, read_json,
// read_text, read_blob, glob, sniff_csv, FROM 'file.csv', ...). A refused
// statement's error matches ErrRefused and says why.
func (e *Env) Query(ctx context.Context, query string) (*QueryResult, error) {
	if err := checkReadOnlySQL(query); err != nil {
		return nil, err
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	broken := false
	defer func() {
		if broken {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := conn.ExecContext(rctx, "ROLLBACK"); err != nil {
			broken = true
		}
	}()
	// Second line of defence: DuckDB's own parser must see exactly one
	// SELECT (or EXPLAIN) statement.
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return nil
		}
		st, err := c.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return nil
		}
		typ, err := ds.StatementType()
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		if typ != duckdb.STATEMENT_TYPE_SELECT && typ != duckdb.STATEMENT_TYPE_EXPLAIN {
			return refuse("only a single SELECT or EXPLAIN statement may run here")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	e.log.Debug("query", "env", e.name, "sql", query)
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	res := &QueryResult{Columns: cols, Rows: [][]any{}}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return res, nil
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// Statements refused by their first keyword, with the reason.
var refusedStatements = map[string]string{
	"copy":       "COPY reads and writes files",
	"export":     "EXPORT DATABASE writes files",
	"import":     "IMPORT DATABASE reads files and writes the database",
	"attach":     "ATTACH opens other databases",
	"detach":     "DETACH changes the attached databases",
	"set":        "SET changes settings",
	"reset":      "RESET changes settings",
	"load":       "LOAD loads extensions",
	"install":    "INSTALL installs extensions",
	"force":      "FORCE INSTALL/CHECKPOINT change the installation or the database file",
	"pragma":     "PRAGMA can change settings",
	"call":       "CALL runs table functions and pragmas",
	"checkpoint": "CHECKPOINT writes the database file",
	"use":        "USE changes the default database and schema",
	"vacuum":     "VACUUM changes the database",
	"begin":      "transaction control is not allowed (the query runs in its own read-only transaction)",
	"start":      "transaction control is not allowed (the query runs in its own read-only transaction)",
	"commit":     "transaction control is not allowed (the query runs in its own read-only transaction)",
	"end":        "transaction control is not allowed (the query runs in its own read-only transaction)",
	"rollback":   "transaction control is not allowed (the query runs in its own read-only transaction)",
	"abort":      "transaction control is not allowed (the query runs in its own read-only transaction)",
	"prepare":    "PREPARE/EXECUTE/DEALLOCATE are not allowed",
	"execute":    "PREPARE/EXECUTE/DEALLOCATE are not allowed",
	"deallocate": "PREPARE/EXECUTE/DEALLOCATE are not allowed",
}

// Functions refused anywhere in a statement, with the reason.
var refusedFunctions = map[string]string{
	"glob":                        "lists local files",
	"sniff_csv":                   "reads files",
	"checkpoint":                  "writes the database file",
	"force_checkpoint":            "writes the database file",
	"query":                       "runs other SQL",
	"query_table":                 "can read files",
	"json_execute_serialized_sql": "runs other SQL",
	"getenv":                      "reads the process environment",
	"delta_scan":                  "reads files",
	"load_extension":              "loads extensions",
	"truncate_duckdb_logs":        "changes the database's logs",
	"check_peg_parser":            "changes parser settings",
}

// Function name prefixes refused anywhere in a statement.
var refusedFunctionPrefixes = map[string]string{
	"read_":     "reads files",
	"parquet_":  "reads files",
	"iceberg_":  "reads files",
	"ducklake_": "reads files",
	"sqlite_":   "opens other databases",
	"postgres_": "opens other databases",
	"mysql_":    "opens other databases",
	"enable_":   "changes settings (logging, profiling, parser)",
	"disable_":  "changes settings (logging, profiling, parser)",
	"arrow_":    "reads raw memory",
}

// refusedFunction returns why the function name is refused, or "".
func refusedFunction(name string) string {
	if why := refusedFunctions[name]; why != "" {
		return why
	}
	for p, why := range refusedFunctionPrefixes {
		if strings.HasPrefix(name, p) {
			return why
		}
	}
	return ""
}

// File name extensions that make an unquoted dotted name in a FROM clause
// (FROM data.csv) a file read.
var fileExtensions = map[string]bool{
	"csv": true, "tsv": true, "txt": true, "parquet": true, "json": true, "jsonl": true,
	"ndjson": true, "gz": true, "zst": true, "bz2": true, "xz": true, "lz4": true, "xlsx": true,
	"arrow": true, "avro": true, "db": true, "duckdb": true, "sqlite": true, "ipc": true, "feather": true,
}

// Words after which a table reference follows.
var tableRefWords = map[string]bool{
	"from": true, "join": true, "describe": true, "summarize": true, "show": true,
	"table": true, "pivot": true, "unpivot": true, "pivot_wider": true, "pivot_longer": true,
}

// Words that end a FROM list at the same nesting level.
var fromEnders = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true, "offset": true,
	"qualify": true, "window": true, "union": true, "except": true, "intersect": true,
	"select": true, "returning": true, "fetch": true,
}

// checkReadOnlySQL refuses what a read-only transaction would still let
// through (see Query).
func checkReadOnlySQL(query string) error {
	toks, err := lexSQL(query)
	if err != nil {
		return refuse("%v", err)
	}
	// Split into statements.
	var stmts [][]token
	var cur []token
	for _, t := range toks {
		if t.kind == tokPunct && t.text == ";" {
			if len(cur) > 0 {
				stmts = append(stmts, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		stmts = append(stmts, cur)
	}
	switch len(stmts) {
	case 0:
		return refuse("empty query")
	case 1:
	default:
		return refuse("%d statements: a query must be a single statement", len(stmts))
	}
	st := stmts[0]

	// The leading keyword (after parentheses and EXPLAIN [ANALYZE]).
	i := 0
	for i < len(st) && st[i].isPunct("(") {
		i++
	}
	if i < len(st) && st[i].isWord("explain") {
		i++
		if i < len(st) && st[i].isWord("analyze") {
			i++
		}
		if i < len(st) && st[i].isPunct("(") {
			for i < len(st) && !st[i].isPunct(")") {
				i++
			}
			i++
		}
		for i < len(st) && st[i].isPunct("(") {
			i++
		}
	}
	if i < len(st) && st[i].kind == tokWord {
		w := st[i].text
		if why, ok := refusedStatements[w]; ok {
			return refuse("%s", why)
		}
		switch w {
		case "create":
			j := i + 1
			for j < len(st) && (st[j].isWord("or") || st[j].isWord("replace")) {
				j++
			}
			if j < len(st) && (st[j].isWord("temp") || st[j].isWord("temporary")) {
				return refuse("CREATE TEMP creates session objects, which a read-only transaction allows")
			}
			if j < len(st) && (st[j].isWord("secret") || st[j].isWord("persistent")) {
				return refuse("CREATE SECRET stores credentials")
			}
		case "update":
			if i+1 < len(st) && st[i+1].isWord("extensions") {
				return refuse("UPDATE EXTENSIONS changes the installed extensions")
			}
		case "drop":
			if i+1 < len(st) && st[i+1].isWord("secret") {
				return refuse("DROP SECRET changes stored credentials")
			}
		}
	}

	// Function calls and file references anywhere in the statement.
	type level struct{ inFrom bool }
	levels := []level{{}}
	expectTable := false
	for k := 0; k < len(st); k++ {
		t := st[k]
		next := func(off int) *token {
			if k+off < len(st) {
				return &st[k+off]
			}
			return nil
		}
		if expectTable {
			expectTable = false
			if err := checkTableRef(st, k); err != nil {
				return err
			}
		}
		switch {
		case t.kind == tokWord || t.kind == tokQuoted:
			if nt := next(1); nt != nil && nt.isPunct("(") {
				if why := refusedFunction(strings.ToLower(t.text)); why != "" {
					return refuse("function %s %s", t.text, why)
				}
			}
			if t.kind == tokWord {
				if tableRefWords[t.text] {
					expectTable = true
					if t.text == "from" {
						levels[len(levels)-1].inFrom = true
					}
				} else if fromEnders[t.text] {
					levels[len(levels)-1].inFrom = false
				}
			}
		case t.isPunct("("):
			levels = append(levels, level{})
		case t.isPunct(")"):
			if len(levels) > 1 {
				levels = levels[:len(levels)-1]
			}
		case t.isPunct(","):
			if levels[len(levels)-1].inFrom {
				expectTable = true
			}
		}
	}
	return nil
}

// checkTableRef refuses a table reference at st[k] that DuckDB would
// resolve by reading a file: a string literal, a quoted name that looks
// like a path, or an unquoted dotted name ending in a file extension.
func checkTableRef(st []token, k int) error {
	t := st[k]
	switch t.kind {
	case tokString:
		return refuse("FROM %s reads a file", quoteForMsg(t.text))
	case tokQuoted:
		if strings.ContainsAny(t.text, "./\\:*?") {
			return refuse("FROM %q reads a file", t.text)
		}
	case tokWord:
		// Walk a dotted name: a.b.c
		j := k
		last := t.text
		for j+2 < len(st) && st[j+1].isPunct(".") && (st[j+2].kind == tokWord || st[j+2].kind == tokQuoted) {
			j += 2
			last = strings.ToLower(st[j].text)
			if st[j].kind == tokQuoted && strings.ContainsAny(st[j].text, "./\\:*?") {
				return refuse("FROM %q reads a file", st[j].text)
			}
		}
		if j > k && fileExtensions[last] {
			return refuse("FROM a name ending in .%s reads a file", last)
		}
	}
	return nil
}

func quoteForMsg(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ---- lexer --------------------------------------------------------------

type tokKind int

const (
	tokWord   tokKind = iota // unquoted identifier or keyword, lower-cased
	tokQuoted                // "quoted identifier", unescaped
	tokString                // string literal, unescaped
	tokNumber
	tokPunct // one character of punctuation or an operator character
)

type token struct {
	kind tokKind
	text string
}

func (t token) isWord(w string) bool  { return t.kind == tokWord && t.text == w }
func (t token) isPunct(p string) bool { return t.kind == tokPunct && t.text == p }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

// lexSQL splits DuckDB SQL into tokens, skipping comments and blanks.
func lexSQL(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			// DuckDB ends a line comment at \n or \r.
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 0
			j := i
			for j < len(s) {
				if s[j] == '/' && j+1 < len(s) && s[j+1] == '*' {
					depth++
					j += 2
					continue
				}
				if s[j] == '*' && j+1 < len(s) && s[j+1] == '/' {
					depth--
					j += 2
					if depth == 0 {
						break
					}
					continue
				}
				j++
			}
			if depth != 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i = j
		case c == '\'':
			text, n, err := lexQuoted(s[i:], '\'', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, text})
			i += n
		case c == '"':
			text, n, err := lexQuoted(s[i:], '"', false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokQuoted, text})
			i += n
		case c == '$':
			// $tag$ ... $tag$ or $$ ... $$ strings; $1 parameters.
			j := i + 1
			for j < len(s) && (isIdentStart(s[j]) || (s[j] >= '0' && s[j] <= '9')) && s[j] != '$' {
				j++
			}
			if j < len(s) && s[j] == '$' && (j == i+1 || isIdentStart(s[i+1])) {
				tag := s[i : j+1]
				end := strings.Index(s[j+1:], tag)
				if end < 0 {
					return nil, errors.New("unterminated dollar-quoted string")
				}
				toks = append(toks, token{tokString, s[j+1 : j+1+end]})
				i = j + 1 + end + len(tag)
				continue
			}
			toks = append(toks, token{tokPunct, "$"})
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentChar(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := s[i:j]
			// Prefixed strings: E'..' (backslash escapes), X'..', B'..', N'..'.
			if j < len(s) && s[j] == '\'' && len(word) == 1 && strings.ContainsAny(word, "eExXbBnN") {
				text, n, err := lexQuoted(s[j:], '\'', word == "e" || word == "E")
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tokString, text})
				i = j + n
				continue
			}
			toks = append(toks, token{tokWord, strings.ToLower(word)})
			i = j
		default:
			toks = append(toks, token{tokPunct, string(c)})
			i++
		}
	}
	return toks, nil
}

// lexQuoted reads a quoted string starting at s[0] == q, with doubled quotes
// (and backslash escapes when backslash is set), returning its text and
// length.
func lexQuoted(s string, q byte, backslash bool) (string, int, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		if backslash && c == '\\' && i+1 < len(s) {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		if c == q {
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(c)
		i++
	}
	if q == '"' {
		return "", 0, errors.New("unterminated quoted identifier")
	}
	return "", 0, errors.New("unterminated string literal")
}
