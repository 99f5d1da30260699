package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery"
)

// classedError is an error that knows its class.
type classedError struct {
	class recovery.Class
	msg   string
}

func (e *classedError) Error() string                { return e.msg }
func (e *classedError) FailureClass() recovery.Class { return e.class }

// timeoutError mimics orchestrate.TimeoutError.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return "node x timed out after 1s: " + e.err.Error() }
func (e *timeoutError) Unwrap() []error { return []error{e.err, context.DeadlineExceeded} }

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want recovery.Class
	}{
		{"nil", nil, ""},

		// Classified implementers win, even when wrapped, and over the message.
		{"classified", &classedError{recovery.ClassSchemaChange, "column amount is gone"}, recovery.ClassSchemaChange},
		{"classified wrapped", fmt.Errorf("stg_orders: %w", &classedError{recovery.ClassStaleSource, "no new rows"}), recovery.ClassStaleSource},
		{"classified over message", &classedError{recovery.ClassTransient, "Binder Error: flaky"}, recovery.ClassTransient},
		{"classified over context", fmt.Errorf("%w: %w", context.Canceled, &classedError{recovery.ClassSourceMissing, "x"}), recovery.ClassSourceMissing},
		{"classified in a join", errors.Join(errors.New("Binder Error: x"), &classedError{recovery.ClassCorruptData, "bad rows"}), recovery.ClassCorruptData},
		{"classified with no class falls through", &classedError{"", "IO Error: disk"}, recovery.ClassTransient},

		// Context errors.
		{"deadline", context.DeadlineExceeded, recovery.ClassTimeout},
		{"deadline wrapped", fmt.Errorf("run stg_orders: %w", context.DeadlineExceeded), recovery.ClassTimeout},
		{"executor timeout error", &timeoutError{errors.New("INTERRUPT Error: Interrupted!")}, recovery.ClassTimeout},
		{"canceled", context.Canceled, recovery.ClassCancelled},
		{"canceled wrapped", fmt.Errorf("query: %w", context.Canceled), recovery.ClassCancelled},

		// DuckDB: transient.
		{"lock", errors.New(`IO Error: Could not set lock on file "target/dev.duckdb": Conflicting lock is held in /usr/bin/vyaparbazaar (PID 123) by user ops. See also https://duckdb.org/docs/stable/connect/concurrency`), recovery.ClassTransient},
		{"lock wrapped", fmt.Errorf("open database: %w", errors.New(`could not set lock on file "x.duckdb"`)), recovery.ClassTransient},
		{"conflicting lock alone", errors.New(`Conflicting lock is held in /usr/bin/x (PID 123)`), recovery.ClassTransient},
		{"io error", errors.New(`IO Error: Could not write file "target/tmp/x.tmp": No space left on device`), recovery.ClassTransient},
		{"out of memory", errors.New(`Out of Memory Error: could not allocate block of size 256.0 KiB (1.9 GiB/2.0 GiB used)`), recovery.ClassTransient},
		{"connection", errors.New(`Connection Error: Connection was closed`), recovery.ClassTransient},
		{"http", errors.New(`HTTP Error: HTTP GET error on 'https://example.com/orders.parquet' (HTTP 503)`), recovery.ClassTransient},
		{"interrupt", errors.New(`INTERRUPT Error: Interrupted!`), recovery.ClassTransient},
		{"write-write conflict", errors.New(`TransactionContext Error: Catalog write-write conflict on create with "stg_orders"`), recovery.ClassTransient},

		// Operating system: transient.
		{"EAGAIN", fmt.Errorf("read pipe: %w", syscall.EAGAIN), recovery.ClassTransient},
		{"ENOSPC", &fs.PathError{Op: "write", Path: "target/run_results.json", Err: syscall.ENOSPC}, recovery.ClassTransient},
		{"EMFILE", &os.PathError{Op: "open", Path: "seeds/pincodes.csv", Err: syscall.EMFILE}, recovery.ClassTransient},
		{"mixed case", errors.New("RESOURCE TEMPORARILY UNAVAILABLE"), recovery.ClassTransient},

		// DuckDB: permanent.
		{"parser", errors.New(`Parser Error: syntax error at or near "form"`), recovery.ClassPermanent},
		{"binder", errors.New(`Binder Error: Referenced column "x" not found in FROM clause!`), recovery.ClassPermanent},
		{"binder wrapped", fmt.Errorf("model stg_orders: %w", errors.New(`Binder Error: Referenced column "x" not found in FROM clause!
Candidate bindings: "order_id"`)), recovery.ClassPermanent},
		{"catalog", errors.New(`Catalog Error: Table with name raw_orders does not exist!
Did you mean "raw.orders"?`), recovery.ClassPermanent},
		{"constraint", errors.New(`Constraint Error: Duplicate key "order_id: 42" violates primary key constraint.`), recovery.ClassPermanent},
		{"conversion", errors.New(`Conversion Error: Could not convert string 'abc' to INT32`), recovery.ClassPermanent},
		{"invalid input", errors.New(`Invalid Input Error: CSV Error on Line: 12`), recovery.ClassPermanent},
		{"not implemented", errors.New(`Not implemented Error: Unsupported type`), recovery.ClassPermanent},
		{"dependency", errors.New(`Dependency Error: Cannot drop entry "stg_orders" because there are entries that depend on it.`), recovery.ClassPermanent},
		{"syntax", errors.New(`syntax error at end of input`), recovery.ClassPermanent},

		// The first pattern in the message wins, and patterns start words.
		{"binder naming an interrupt column", errors.New(`Binder Error: Referenced column "interrupted_at" not found in FROM clause!`), recovery.ClassPermanent},
		{"catalog naming an io_error table", errors.New(`Catalog Error: Table with name "io error log" does not exist!`), recovery.ClassPermanent},
		{"io error about a syntax_error file", errors.New(`IO Error: No files found that match the pattern "syntax error.csv"`), recovery.ClassTransient},
		{"ratio is not io", errors.New(`ratio error: 3 > 2`), recovery.ClassPermanent},
		{"uninterruptible is not interrupt", errors.New(`uninterruptible sleep`), recovery.ClassPermanent},

		// Unknown failures are permanent.
		{"unknown", errors.New("something odd happened"), recovery.ClassPermanent},
		{"other duckdb type", errors.New("Out of Range Error: Overflow in multiplication of INT32"), recovery.ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, recovery.Classify(tt.err))
		})
	}
}

func TestClassRetryable(t *testing.T) {
	for _, c := range recovery.Classes() {
		// A missing source file or attached database may be delivered late.
		want := c == recovery.ClassTransient || c == recovery.ClassTimeout || c == recovery.ClassSourceMissing
		assert.Equal(t, want, c.Retryable(), c)
	}
	assert.False(t, recovery.Class("").Retryable())
}

func TestParseClass(t *testing.T) {
	for _, c := range recovery.Classes() {
		got, err := recovery.ParseClass(string(c))
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	got, err := recovery.ParseClass(" Schema-Change ")
	require.NoError(t, err)
	assert.Equal(t, recovery.ClassSchemaChange, got)

	_, err = recovery.ParseClass("flaky")
	require.EqualError(t, err, `unknown failure class "flaky" (want one of transient, timeout, permanent, test_failure, schema_change, source_missing, stale_source, corrupt_data, cancelled)`)
}
