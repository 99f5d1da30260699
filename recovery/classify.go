package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Classes returns every failure class, in the order of their declaration.
func Classes() []Class {
	return []Class{ClassTransient, ClassTimeout, ClassPermanent, ClassTestFailure, ClassSchemaChange,
		ClassSourceMissing, ClassStaleSource, ClassCorruptData, ClassCancelled}
}

// ParseClass returns the class named s (case-insensitive; "-" and " " may
// stand for "_", so "Schema-Change" is ClassSchemaChange). An unknown name
// is an error listing the known ones.
func ParseClass(s string) (Class, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	norm = strings.NewReplacer("-", "_", " ", "_").Replace(norm)
	for _, c := range Classes() {
		if string(c) == norm {
			return c, nil
		}
	}
	names := make([]string, 0, len(Classes()))
	for _, c := range Classes() {
		names = append(names, string(c))
	}
	return "", fmt.Errorf("unknown failure class %q (want one of %s)", s, strings.Join(names, ", "))
}

// Retryable reports whether failures of class c may pass on a later
// attempt: transient failures, timeouts, and a source file or table that
// is not there (yet: extracts are often delivered late). It is the default
// of Policy.RetryOn.
func (c Class) Retryable() bool {
	return c == ClassTransient || c == ClassTimeout || c == ClassSourceMissing
}

// label names the class in decision reasons.
func (c Class) label() string {
	switch c {
	case ClassTransient:
		return "transient failure"
	case ClassTimeout:
		return "timeout"
	case ClassPermanent:
		return "permanent failure"
	case ClassTestFailure:
		return "test failure"
	case ClassSchemaChange:
		return "schema change"
	case ClassSourceMissing:
		return "missing source"
	case ClassStaleSource:
		return "stale source"
	case ClassCorruptData:
		return "corrupt data"
	case ClassCancelled:
		return "cancelled"
	case "":
		return "failure"
	}
	return strings.ReplaceAll(string(c), "_", " ") + " failure"
}

// Classify tells what kind of failure err is:
//
//   - nil gives "";
//   - an error in err's chain implementing Classified (with a non-empty
//     class) wins;
//   - context.DeadlineExceeded gives ClassTimeout, context.Canceled
//     ClassCancelled;
//   - then the message is matched, case-insensitively, against DuckDB's
//     error types and common operating-system errors: a lock held by
//     another process, IO, out of memory, connection, HTTP, interrupt,
//     EAGAIN, a full disk, too many open files and write-write conflicts are
//     ClassTransient; parser, binder, catalog, constraint, conversion,
//     invalid input, not implemented, dependency and syntax errors are
//     ClassPermanent. When several patterns occur, the first in the message
//     wins, so that "Binder Error: column "interrupted_at" not found" is
//     permanent;
//   - anything else is ClassPermanent: an unrecognised failure is not
//     retried by default, because retrying a real bug only delays its
//     report. Wrap such errors in a type implementing Classified (or set
//     Failure.Class) to retry them.
func Classify(err error) Class {
	c, _ := classify(err)
	return c
}

// A messagePattern maps a fragment of an error message to a class.
type messagePattern struct {
	text  string // lower case
	class Class
	// duckdb marks DuckDB error types ("IO Error"), used to name the
	// failure in reasons.
	duckdb bool
}

var messagePatterns = []messagePattern{
	// Transient: DuckDB.
	{"could not set lock", ClassTransient, false},
	{"conflicting lock", ClassTransient, false},
	{"io error", ClassTransient, true},
	{"out of memory error", ClassTransient, true},
	{"out of memory", ClassTransient, false},
	{"connection error", ClassTransient, true},
	{"http error", ClassTransient, true},
	{"interrupt error", ClassTransient, true},
	{"interrupt", ClassTransient, false},
	{"write-write conflict", ClassTransient, false},
	// Transient: operating system.
	{"resource temporarily unavailable", ClassTransient, false},
	{"no space left", ClassTransient, false},
	{"too many open files", ClassTransient, false},
	// Permanent.
	{"parser error", ClassPermanent, true},
	{"binder error", ClassPermanent, true},
	{"catalog error", ClassPermanent, true},
	{"constraint error", ClassPermanent, true},
	{"conversion error", ClassPermanent, true},
	{"invalid input error", ClassPermanent, true},
	{"not implemented error", ClassPermanent, true},
	{"not implemented", ClassPermanent, false},
	{"dependency error", ClassPermanent, true},
	{"syntax error", ClassPermanent, true},
}

// duckdbErrorTypes are DuckDB's other error types, used only to name a
// failure in reasons.
var duckdbErrorTypes = []string{
	"out of range error", "transactioncontext error", "serialization error", "permission error",
	"internal error", "fatal error", "invalid configuration error", "invalid type error",
	"invalid error", "missing extension error", "network error", "executor error",
	"planner error", "optimizer error", "sequence error", "index error", "expression error",
	"divide by zero error", "mismatch type error", "settings error",
}

// classify returns err's class and a short detail naming the failure: the
// DuckDB error type as written in the message ("IO Error"), else the
// matched pattern, else "".
func classify(err error) (Class, string) {
	if err == nil {
		return "", ""
	}
	msg := err.Error()
	var cl Classified
	if errors.As(err, &cl) {
		if c := cl.FailureClass(); c != "" {
			return c, duckdbType(msg)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout, "deadline exceeded"
	}
	if errors.Is(err, context.Canceled) {
		return ClassCancelled, "context canceled"
	}
	lower := asciiLower(msg)
	best, bestAt := -1, len(lower)+1
	for i, p := range messagePatterns {
		if at := indexWord(lower, p.text); at >= 0 && at < bestAt {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		if t := duckdbType(msg); t != "" {
			return ClassPermanent, t
		}
		return ClassPermanent, "unrecognised error"
	}
	detail := duckdbType(msg)
	if detail == "" {
		detail = messagePatterns[best].text
	}
	return messagePatterns[best].class, detail
}

// duckdbType returns the first DuckDB error type in msg, as written there
// ("IO Error", "Binder Error"), or "".
func duckdbType(msg string) string {
	lower := asciiLower(msg)
	at, n := -1, 0
	try := func(text string) {
		if i := indexWord(lower, text); i >= 0 && (at < 0 || i < at) {
			at, n = i, len(text)
		}
	}
	for _, p := range messagePatterns {
		if p.duckdb {
			try(p.text)
		}
	}
	for _, t := range duckdbErrorTypes {
		try(t)
	}
	if at < 0 {
		return ""
	}
	return msg[at : at+n]
}

// indexWord is strings.Index(s, sub) for occurrences starting a word (not
// preceded by a letter or digit), so that "io error" does not match
// "ratio error".
func indexWord(s, sub string) int {
	from := 0
	for {
		i := strings.Index(s[from:], sub)
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || !isWordByte(s[i-1]) {
			return i
		}
		from = i + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
}

// asciiLower lowers ASCII letters only, keeping byte offsets valid in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
