package duckenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelperRepointThenHang runs in a child process: it publishes (or
// rolls back) and hangs inside the transaction, halfway through
// re-pointing relations, until it is killed.
func TestHelperRepointThenHang(t *testing.T) {
	path, op := os.Getenv("DUCKENV_KILL_DB"), os.Getenv("DUCKENV_KILL_OP")
	if path == "" {
		return // only meaningful as a child of TestKilledDuringPublishOrRollback
	}
	e, err := Open(context.Background(), Config{Path: path})
	require.NoError(t, err)
	testHookRepoint = func() {
		fmt.Println("halfway")
		time.Sleep(time.Minute)
	}
	p := newWAP()
	switch op {
	case "publish":
		mustExec(t, e, "update raw.src set x = x + 1000")
		p.run(t, e, RunnerOptions{})
	case "rollback":
		_, err = e.Rollback(context.Background(), RollbackOptions{To: 1})
		require.NoError(t, err)
	}
	t.Fatal("the parent should have killed this process")
}

// TestKilledDuringPublishOrRollback kills (SIGKILL) a process in the middle
// of the transaction that re-points the relations: the environment is
// exactly as before, and works.
func TestKilledDuringPublishOrRollback(t *testing.T) {
	for _, op := range []string{"publish", "rollback"} {
		t.Run(op, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kill.duckdb")
			e, err := Open(t.Context(), Config{Path: path})
			require.NoError(t, err)
			mustExec(t, e, "create schema raw")
			mustExec(t, e, "create table raw.src (batch int, x int)")
			mustExec(t, e, "insert into raw.src values (1, 1), (1, 2)")
			p := newWAP()
			require.True(t, p.run(t, e, RunnerOptions{}).OK())
			mustExec(t, e, "update raw.src set x = x * 3")
			require.True(t, p.run(t, e, RunnerOptions{}).OK())
			state := func(e *Env) string {
				return fmt.Sprint(rowsOf(t, e, "select x from core.a order by x"), rowsOf(t, e, "select total::bigint from marts.c"),
					scalar[int64](t, e, "select max(id) from _dataops.snapshots"))
			}
			before := state(e)
			require.NoError(t, e.Close())

			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRepointThenHang$", "-test.count=1")
			cmd.Env = append(os.Environ(), "DUCKENV_KILL_DB="+path, "DUCKENV_KILL_OP="+op)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			halfway := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "halfway") {
						halfway <- true
						return
					}
				}
				halfway <- false
			}()
			select {
			case ok := <-halfway:
				require.True(t, ok, "the child exited before re-pointing")
			case <-time.After(2 * time.Minute):
				t.Fatal("the child never reached the transaction")
			}
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()

			e, err = Open(t.Context(), Config{Path: path})
			require.NoError(t, err)
			defer e.Close()
			assert.Equal(t, before, state(e), "the killed %s left the environment exactly as before", op)
			// And it works: a rollback and a publish go through.
			_, err = e.Rollback(t.Context(), RollbackOptions{To: 1})
			require.NoError(t, err)
			assert.Equal(t, [][]any{{int32(1)}, {int32(2)}}, rowsOf(t, e, "select x from core.a order by x"))
			require.True(t, p.run(t, e, RunnerOptions{}).OK())
			assert.Equal(t, rowsOf(t, e, "select x from raw.src order by x"), rowsOf(t, e, "select x from core.a order by x"))
		})
	}
}
