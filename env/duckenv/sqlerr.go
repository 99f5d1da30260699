package duckenv

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
)

// SQLError is a database error while running a node, located in the node's
// own file: "models/staging/stg_orders.sql:7: model stg_orders: Binder
// Error: ...". It wraps the driver's error (and the context's error when the
// statement was interrupted), and implements recovery.Classified.
type SQLError struct {
	// Kind is "model", "seed", "test" or "source".
	Kind string
	// Node is the node's name.
	Node string
	// Path is the project-relative file ("" for nodes declared in Go).
	Path string
	// Line is the 1-based line in Path, 0 when unknown.
	Line int
	// Msg is DuckDB's message with its LINE references mapped to Path.
	Msg string
	// Err is the original error.
	Err error

	// class, when set, overrides the classification of Err (a malformed
	// external file is corrupt data, not a bad statement).
	class recovery.Class
}

// Error returns "path:line: kind node: message".
func (e *SQLError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Kind)
	b.WriteByte(' ')
	b.WriteString(e.Node)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the original error.
func (e *SQLError) Unwrap() error { return e.Err }

// selectLineOffset is how many lines wrapSelect puts before the SELECT.
const selectLineOffset = 1

// wrapSelect returns head followed by the SELECT in parentheses, the SELECT
// starting on a line of its own so that DuckDB's "LINE n" minus
// selectLineOffset is a line of the SELECT. head must be one line.
func wrapSelect(head, sel string) string {
	return head + " (\n" + trimSelect(sel) + "\n)"
}

// trimSelect removes trailing blanks and semicolons (leading text is kept
// so that line numbers do not move).
func trimSelect(sel string) string {
	return strings.TrimRight(sel, " \t\r\n;")
}

var lineRef = regexp.MustCompile(`LINE (\d+):`)

// sqlError builds the located error for a failed statement. When c is
// non-nil the statement was built with wrapSelect around c.SQL and DuckDB's
// LINE references are mapped back through c.
func sqlError(err error, kind, node, path string, c *project.Compiled) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var de *duckdb.Error
	if errors.As(err, &de) {
		msg = de.Msg
	}
	if isCancel(err) && !strings.Contains(msg, "context ") {
		ctxMsg := context.Canceled.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			ctxMsg = context.DeadlineExceeded.Error()
		}
		msg = ctxMsg + ": " + msg
	}
	se := &SQLError{Kind: kind, Node: node, Path: path, Err: err}
	if c != nil {
		if c.Path != "" {
			se.Path = c.Path
		}
		msg, se.Line = mapLines(msg, *c)
	}
	se.Msg = msg
	return se
}

// mapLines rewrites "LINE n:" references of a wrapped statement to lines of
// the source file, keeping the caret under the error position. It returns
// the first mapped line.
func mapLines(msg string, c project.Compiled) (string, int) {
	selLines := strings.Count(trimSelect(c.SQL), "\n") + 1
	first := 0
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		m := lineRef.FindStringSubmatchIndex(l)
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(l[m[2]:m[3]])
		if err != nil {
			continue
		}
		n -= selectLineOffset
		if n < 1 || n > selLines {
			continue
		}
		src := c.Line(n)
		if first == 0 {
			first = src
		}
		old := l[m[0]:m[1]]
		repl := "LINE " + strconv.Itoa(src) + ":"
		lines[i] = l[:m[0]] + repl + l[m[1]:]
		// Keep the caret line (spaces then ^) aligned.
		if d := len(repl) - len(old); d != 0 && i+1 < len(lines) && strings.TrimLeft(lines[i+1], " ") == "^" {
			pad := len(lines[i+1]) - 1 + d
			if pad < 0 {
				pad = 0
			}
			lines[i+1] = strings.Repeat(" ", pad) + "^"
		}
	}
	return strings.Join(lines, "\n"), first
}
