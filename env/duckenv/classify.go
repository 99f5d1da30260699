package duckenv

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"strings"
	"syscall"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/vyaparbazaar/dataops/recovery"
)

// Every error the runner (and Open) returns implements recovery.Classified,
// so that a recovery policy retries what may pass on a later attempt (a lock
// held by another process, I/O errors, out of memory, write conflicts) and
// gives up on what needs a change (parser, binder and catalog errors,
// constraint violations, bad configuration), and so that source failures
// are told apart: a missing source, a changed schema, stale and corrupt
// data.

var (
	_ recovery.Classified = (*SQLError)(nil)
	_ recovery.Classified = (*locatedError)(nil)
	_ recovery.Classified = (*classifiedError)(nil)
	_ recovery.Classified = (*sentinelError)(nil)
)

// FailureClass classifies the database error: by DuckDB's error type
// (duckdb.Error.Type) when the driver reports one, else by the message.
// Interrupted statements are ClassTimeout or ClassCancelled after the
// context that interrupted them; errors reading an external source's files
// are ClassCorruptData or ClassSourceMissing.
func (e *SQLError) FailureClass() recovery.Class {
	if e.class != "" {
		return e.class
	}
	return classify(e.Err)
}

// FailureClass classifies the wrapped error; an error that wraps nothing
// is a configuration or project error, ClassPermanent.
func (e *locatedError) FailureClass() recovery.Class {
	if e.class != "" {
		return e.class
	}
	if e.err != nil {
		return classify(e.err)
	}
	return recovery.ClassPermanent
}

// classifiedError gives an error a class without changing its message or
// what it wraps.
type classifiedError struct {
	err   error
	class recovery.Class
}

func (e *classifiedError) Error() string                { return e.err.Error() }
func (e *classifiedError) Unwrap() error                { return e.err }
func (e *classifiedError) FailureClass() recovery.Class { return e.class }

// withClass returns err with its class decided now (nil stays nil).
func withClass(err error) error {
	if err == nil {
		return nil
	}
	return &classifiedError{err: err, class: classify(err)}
}

// sentinelError is an errors.Is target that carries its class, so that any
// error wrapping it is classified too.
type sentinelError struct {
	msg   string
	class recovery.Class
}

func (e *sentinelError) Error() string                { return e.msg }
func (e *sentinelError) FailureClass() recovery.Class { return e.class }

// classify decides the class of err: a cancelled or expired context first,
// then any recovery.Classified in the chain, then DuckDB's error type, then
// the message. Unknown errors are ClassPermanent: retrying what is not
// known to be transient only delays the failure.
func classify(err error) recovery.Class {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return recovery.ClassTimeout
	}
	if errors.Is(err, context.Canceled) {
		return recovery.ClassCancelled
	}
	var c recovery.Classified
	if errors.As(err, &c) {
		if cl := c.FailureClass(); cl != "" {
			return cl
		}
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		if cl := classifyDuckDB(de); cl != "" {
			return cl
		}
		return classifyMessage(de.Msg)
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return recovery.ClassTransient
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// Scratch and target files: a full disk or too many open files may
		// pass; a missing directory or a permission may not.
		for _, errno := range transientErrnos {
			if errors.Is(err, errno) {
				return recovery.ClassTransient
			}
		}
		return recovery.ClassPermanent
	}
	return classifyMessage(err.Error())
}

// transientErrnos are the operating-system errors that may pass on a later
// attempt.
var transientErrnos = []syscall.Errno{
	syscall.ENOSPC, syscall.EAGAIN, syscall.EMFILE, syscall.ENFILE, syscall.EIO, syscall.EBUSY, syscall.EINTR,
}

// classifyDuckDB classifies by DuckDB's error type; "" means the type says
// nothing (invalid or unknown type) and the message decides.
func classifyDuckDB(e *duckdb.Error) recovery.Class {
	switch e.Type {
	case duckdb.ErrorTypeInvalid, duckdb.ErrorTypeUnknownType:
		return ""
	case duckdb.ErrorTypeIO, duckdb.ErrorTypeHTTP:
		if isMissingFileMsg(e.Msg) {
			return recovery.ClassSourceMissing
		}
		if isDeniedMsg(e.Msg) {
			return recovery.ClassPermanent
		}
		return recovery.ClassTransient
	case duckdb.ErrorTypeOutOfMemory,
		duckdb.ErrorTypeInterrupt,
		duckdb.ErrorTypeConnection,
		duckdb.ErrorTypeNetwork,
		duckdb.ErrorTypeTransaction: // write-write conflicts
		return recovery.ClassTransient
	}
	// Parser, Syntax, Binder, Catalog, Constraint, Conversion, InvalidInput,
	// OutOfRange, MismatchType, DivideByZero, NotImplemented, Permission,
	// MissingExtension, AutoLoad, Settings, InvalidConfiguration, Internal,
	// Fatal, ... (ErrorTypeDecimal is not listed: the driver gives it the
	// value of ErrorTypeIndex.)
	return recovery.ClassPermanent
}

// messagePatterns are lower-case message fragments and their classes, for
// errors that carry no DuckDB error type.
var messagePatterns = []struct {
	text  string
	class recovery.Class
}{
	{"no files found that match the pattern", recovery.ClassSourceMissing},
	{"no such file or directory", recovery.ClassSourceMissing},
	{"permission denied", recovery.ClassPermanent},

	{"could not set lock", recovery.ClassTransient},
	{"conflicting lock", recovery.ClassTransient},
	{"database is locked", recovery.ClassTransient},
	{"locked by another process", recovery.ClassTransient},
	{"io error", recovery.ClassTransient},
	{"out of memory", recovery.ClassTransient},
	{"connection error", recovery.ClassTransient},
	{"network error", recovery.ClassTransient},
	{"http error", recovery.ClassTransient},
	{"interrupt", recovery.ClassTransient},
	{"write-write conflict", recovery.ClassTransient},
	{"transactioncontext error", recovery.ClassTransient},
	{"temporarily unavailable", recovery.ClassTransient},
	{"too many open files", recovery.ClassTransient},
	{"no space left", recovery.ClassTransient},
	{"connection refused", recovery.ClassTransient},
	{"connection reset", recovery.ClassTransient},
	{"timed out", recovery.ClassTransient},

	{"parser error", recovery.ClassPermanent},
	{"syntax error", recovery.ClassPermanent},
	{"binder error", recovery.ClassPermanent},
	{"catalog error", recovery.ClassPermanent},
	{"constraint error", recovery.ClassPermanent},
	{"conversion error", recovery.ClassPermanent},
	{"invalid input error", recovery.ClassPermanent},
	{"out of range error", recovery.ClassPermanent},
	{"not implemented", recovery.ClassPermanent},
	{"permission error", recovery.ClassPermanent},
	{"dependency error", recovery.ClassPermanent},
}

// classifyMessage classifies by message when nothing else says: the
// pattern that occurs first wins (so "Binder Error: column "interrupted"
// not found" is permanent), and a message matching none is permanent.
func classifyMessage(msg string) recovery.Class {
	m := strings.ToLower(msg)
	// An I/O or HTTP failure that says what it was: a missing file or a
	// refused access.
	if strings.HasPrefix(m, "io error") || strings.HasPrefix(m, "http error") {
		switch {
		case isMissingFileMsg(m):
			return recovery.ClassSourceMissing
		case isDeniedMsg(m):
			return recovery.ClassPermanent
		}
	}
	class, at := recovery.ClassPermanent, len(m)+1
	for _, p := range messagePatterns {
		if i := strings.Index(m, p.text); i >= 0 && i < at {
			class, at = p.class, i
		}
	}
	return class
}

// isMissingFileMsg reports whether DuckDB says a file it was asked to read
// does not exist.
func isMissingFileMsg(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "no files found that match the pattern") ||
		strings.Contains(m, "no such file or directory") ||
		strings.Contains(m, "http 404") || strings.Contains(m, "404 (not found)") || strings.Contains(m, "404 not found")
}

// isDeniedMsg reports whether DuckDB says access to a file or URL was
// refused: retrying will not help.
func isDeniedMsg(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "permission denied") || strings.Contains(m, "http 401") ||
		strings.Contains(m, "http 403") || strings.Contains(m, "403 (forbidden)") || strings.Contains(m, "401 (unauthorized)")
}
