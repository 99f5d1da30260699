package duckenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

// classOf returns the class of the first recovery.Classified in err's
// chain ("" when there is none).
func classOf(t *testing.T, err error) recovery.Class {
	t.Helper()
	require.Error(t, err)
	var c recovery.Classified
	require.True(t, errors.As(err, &c), "%T does not implement recovery.Classified: %v", err, err)
	return c.FailureClass()
}

func TestClassifyRealDuckDBErrors(t *testing.T) {
	e := openFile(t)
	mustExec(t, e, "create table orders as select range as id from range(3)")
	cases := []struct {
		name, sql string
		typ       duckdb.ErrorType
		want      recovery.Class
	}{
		{"binder", "select nope from orders", duckdb.ErrorTypeBinder, recovery.ClassPermanent},
		{"parser", "selec id from orders", duckdb.ErrorTypeParser, recovery.ClassPermanent},
		{"catalog", "select * from no_such_table", duckdb.ErrorTypeCatalog, recovery.ClassPermanent},
		{"conversion", "select 'x'::integer as v", duckdb.ErrorTypeConversion, recovery.ClassPermanent},
		{"missing file", "select * from read_csv('" + filepath.Join(t.TempDir(), "gone.csv") + "')", duckdb.ErrorTypeIO, recovery.ClassSourceMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, e, RunnerOptions{}, modelNode("m_"+c.name, "models/m.sql", c.sql, "table"))
			var se *SQLError
			require.ErrorAs(t, err, &se)
			var de *duckdb.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, c.typ, de.Type, de.Msg)
			assert.Equal(t, c.want, se.FailureClass())
			assert.Equal(t, c.want, classOf(t, err))
			assert.Equal(t, c.want, recovery.Classify(err))
		})
	}

	// An interrupted statement is a timeout or a cancellation.
	slow := modelNode("slow", "models/slow.sql", "select count(*) as n from range(10000000000) a", "table")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := e.Runner(RunnerOptions{}).Run(ctx, slow)
	assert.Equal(t, recovery.ClassTimeout, classOf(t, err), "%v", err)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = e.Runner(RunnerOptions{}).Run(ctx, slow)
	assert.Equal(t, recovery.ClassCancelled, classOf(t, err), "%v", err)
}

func TestClassifyRunnerErrors(t *testing.T) {
	e := openFile(t)
	r := e.Runner(RunnerOptions{})
	_, err := r.Run(context.Background(), nil)
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err))
	_, err = r.Run(context.Background(), specNode("x", orchestrate.KindTask, 42))
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err))
	_, err = run(t, e, RunnerOptions{}, modelNode("m", "models/m.sql", "select 1", "snapshot"))
	assert.ErrorContains(t, err, "unknown materialization")
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err))

	// A connection that cannot be had because the context is done.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Run(ctx, modelNode("m", "models/m.sql", "select 1", "table"))
	assert.Equal(t, recovery.ClassCancelled, classOf(t, err))

	// A target directory that cannot be made needs a change.
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	_, err = run(t, e, RunnerOptions{TargetDir: blocker}, modelNode("m", "models/m.sql", "select 1", "table"))
	require.Error(t, err)
	assert.Equal(t, recovery.ClassPermanent, classOf(t, err), "%v", err)
}

func TestClassifyDuckDBTypesAndMessages(t *testing.T) {
	types := []struct {
		typ  duckdb.ErrorType
		msg  string
		want recovery.Class
	}{
		{duckdb.ErrorTypeIO, "IO Error: Could not read file", recovery.ClassTransient},
		{duckdb.ErrorTypeIO, `IO Error: No files found that match the pattern "x.csv"`, recovery.ClassSourceMissing},
		{duckdb.ErrorTypeOutOfMemory, "Out of Memory Error: failed to allocate", recovery.ClassTransient},
		{duckdb.ErrorTypeInterrupt, "INTERRUPT Error: Interrupted!", recovery.ClassTransient},
		{duckdb.ErrorTypeConnection, "Connection Error: closed", recovery.ClassTransient},
		{duckdb.ErrorTypeHTTP, "HTTP Error: 503", recovery.ClassTransient},
		{duckdb.ErrorTypeNetwork, "Network Error: reset", recovery.ClassTransient},
		{duckdb.ErrorTypeTransaction, "TransactionContext Error: Catalog write-write conflict", recovery.ClassTransient},
		{duckdb.ErrorTypeParser, "Parser Error: syntax error", recovery.ClassPermanent},
		{duckdb.ErrorTypeBinder, `Binder Error: column "interrupted_at" not found`, recovery.ClassPermanent},
		{duckdb.ErrorTypeCatalog, "Catalog Error: Table with name x does not exist!", recovery.ClassPermanent},
		{duckdb.ErrorTypeConstraint, "Constraint Error: duplicate key", recovery.ClassPermanent},
		{duckdb.ErrorTypeConversion, "Conversion Error: Could not convert", recovery.ClassPermanent},
		{duckdb.ErrorTypeInvalidInput, "Invalid Input Error: read-only", recovery.ClassPermanent},
		{duckdb.ErrorTypeMissingExtension, "Missing Extension Error: httpfs", recovery.ClassPermanent},
		{duckdb.ErrorTypeInternal, "INTERNAL Error: bug", recovery.ClassPermanent},
		// No type: the message decides.
		{duckdb.ErrorTypeInvalid, "IO Error: Could not set lock on file", recovery.ClassTransient},
		{duckdb.ErrorTypeUnknownType, "Error: something odd", recovery.ClassPermanent},
	}
	for _, c := range types {
		err := sqlError(&duckdb.Error{Type: c.typ, Msg: c.msg}, "model", "m", "models/m.sql", nil)
		assert.Equal(t, c.want, classOf(t, err), c.msg)
	}

	messages := []struct {
		err  error
		want recovery.Class
	}{
		{errors.New("Binder Error: column interrupted_at not found"), recovery.ClassPermanent},
		{errors.New("write-write conflict on key"), recovery.ClassTransient},
		{errors.New("boom"), recovery.ClassPermanent},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), recovery.ClassTimeout},
		{fmt.Errorf("wrapped: %w", context.Canceled), recovery.ClassCancelled},
		{&fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, recovery.ClassTransient},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOTDIR}, recovery.ClassPermanent},
		{fmt.Errorf("open: %w", ErrLocked), recovery.ClassTransient},
		{fmt.Errorf("open: %w", ErrConfigConflict), recovery.ClassPermanent},
		{fmt.Errorf("source: %w", ErrRelationNotFound), recovery.ClassSourceMissing},
	}
	for _, c := range messages {
		assert.Equal(t, c.want, classify(c.err), c.err.Error())
		assert.Equal(t, c.want, sqlError(c.err, "model", "m", "", nil).(*SQLError).FailureClass(), c.err.Error())
	}
	loc := nodeLoc{kind: "model", node: "m", path: "models/m.sql"}
	assert.Equal(t, recovery.ClassPermanent, classOf(t, loc.errorf(nil, "bad config")))
	assert.Equal(t, recovery.ClassPermanent, classOf(t, loc.errorf(&fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}, "scratch")))
	assert.Equal(t, recovery.ClassTransient, classOf(t, loc.errorf(&fs.PathError{Op: "write", Path: "x", Err: syscall.EMFILE}, "scratch")))
}

// holdDatabase makes another process (this test binary, running
// TestLockHelperProcess) open path read-write until the returned function
// is called.
func holdDatabase(t *testing.T, path string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	t.Cleanup(release)
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		require.Equal(t, "HOLDING\n", line, "helper process failed")
	case <-time.After(2 * time.Minute):
		t.Fatal("helper process did not open the database")
	}
	return release
}

func TestClassifyLockHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.duckdb")
	release := holdDatabase(t, path)

	// Open reports the lock as transient.
	_, err := Open(context.Background(), Config{Path: path})
	require.ErrorIs(t, err, ErrLocked)
	assert.Equal(t, recovery.ClassTransient, classOf(t, err))
	assert.Equal(t, recovery.ClassTransient, recovery.Classify(err))

	// So does a statement that runs into it (ATTACH from another
	// environment), as an SQLError.
	e := openFile(t)
	_, aerr := e.DB().ExecContext(context.Background(), "ATTACH '"+path+"' AS shared")
	require.Error(t, aerr)
	var de *duckdb.Error
	require.ErrorAs(t, aerr, &de)
	assert.Equal(t, duckdb.ErrorTypeIO, de.Type, de.Msg)
	serr := sqlError(aerr, "model", "m", "models/m.sql", nil)
	assert.Equal(t, recovery.ClassTransient, serr.(*SQLError).FailureClass())
	t.Log(serr)

	// Once the other process lets go, a retry passes.
	release()
	e2, err := Open(context.Background(), Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, e2.Close())
}

func TestClassifyRemoteAndPermissionErrors(t *testing.T) {
	for msg, want := range map[string]recovery.Class{
		`HTTP Error: Unable to connect to URL "https://x/orders.csv": 404 (Not Found)`: recovery.ClassSourceMissing,
		`HTTP Error: HTTP GET error on 'https://x/orders.csv' (HTTP 404)`:              recovery.ClassSourceMissing,
		`HTTP Error: HTTP GET error on 'https://x/orders.csv' (HTTP 403)`:              recovery.ClassPermanent,
		`IO Error: Cannot open file "/data/orders.csv": Permission denied`:             recovery.ClassPermanent,
		`HTTP Error: HTTP GET error on 'https://x/orders.csv' (HTTP 503)`:              recovery.ClassTransient,
		`IO Error: Could not read from file "/data/orders.csv": Input/output error`:    recovery.ClassTransient,
		`IO Error: No files found that match the pattern "/data/orders_*.csv"`:         recovery.ClassSourceMissing,
	} {
		assert.Equal(t, want, recovery.Classify(&SQLError{Msg: msg, Err: errors.New(msg)}), msg)
	}
}
