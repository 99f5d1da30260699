package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSnapshotsCLI builds twice with different data, then lists, shows,
// diffs, rolls back (a selection, then everything), undoes, restores as of
// a time, collects garbage, backs up, restores and compacts.
func TestSnapshotsCLI(t *testing.T) {
	dir := writeProject(t, shop())
	db := filepath.Join(dir, "target", "dev.duckdb")
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Published ")
	assert.Contains(t, out, " as snapshot #1")
	revenue := func() string {
		return queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1")
	}
	assert.Equal(t, "260", revenue())

	orders := filepath.Join(dir, "seeds", "orders.csv")
	require.NoError(t, os.WriteFile(orders, []byte("id,customer_id,amount\n10,1,1000.00\n11,2,99.50\n"), 0o644))
	code, out, errOut = cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "1000", revenue())

	snap := func(args ...string) (int, string, string) {
		return cliRun(t, append([]string{"snapshots", "--project", dir}, args...)...)
	}
	code, out, _ = snap("list")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^2\s+\S+ \S+\s+publish\s+4\s`, out)
	code, out, _ = snap("show", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Snapshot #1")
	assert.Regexp(t, `customer_revenue\s+"marts"."customer_revenue"\s+table`, out)
	code, out, _ = snap("diff", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "From #1")
	assert.Regexp(t, `~ orders\s+version \d+ → \d+ \(run \S+\), rows 3 → 2 \(-1\)`, out)

	// Roll back only the mart: staging keeps the new data.
	code, out, errOut = snap("rollback", "1", "-s", "customer_revenue")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Rolled back 1 model to snapshot #1")
	assert.Equal(t, "260", revenue())
	assert.Equal(t, "2", queryOne(t, db, "select count(*) from main.stg_orders"))
	code, out, _ = snap("rollback", "--undo")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "1000", revenue())

	// A selection that matches nothing changes nothing.
	code, _, errOut = snap("rollback", "1", "-s", "no_such_model")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "matches no model; nothing was changed")
	assert.Equal(t, "1000", revenue())

	// Bad ids and times.
	code, _, errOut = snap("rollback", "42")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "snapshot #42 not found")
	code, _, errOut = snap("show", "x'; drop table marts.customer_revenue; --")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "is not a snapshot id")
	code, _, errOut = snap("restore-at", "2001-01-01 00:00:00")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no snapshot at or before 2001-01-01")
	assert.Equal(t, "1000", revenue())

	// Everything as of now-ish is the latest state; as of snapshot 1's time
	// is the first build.
	code, out, errOut = snap("rollback", "1")
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "260", revenue())
	assert.Equal(t, "3", queryOne(t, db, "select count(*) from main.stg_orders"))

	// Back up, then restore into a new file and compare.
	backup := filepath.Join(t.TempDir(), "bk")
	code, out, errOut = snap("backup", backup)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Backed up ")
	restored := filepath.Join(t.TempDir(), "restored.duckdb")
	code, out, errOut = cliRun(t, "snapshots", "restore", backup, "--database", restored)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "verified against the manifest")
	assert.Equal(t, "260", queryOne(t, restored, "select revenue from marts.customer_revenue where customer_id = 1"))
	code, _, errOut = cliRun(t, "snapshots", "restore", backup, "--database", restored)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "already exists")
	code, _, errOut = cliRun(t, "snapshots", "restore", backup, "--database", restored, "--force")
	assert.Equal(t, 0, code, errOut)

	// GC keeping only the newest snapshot: what it references stays.
	code, out, errOut = snap("gc", "--keep-last", "1", "--keep-for", "0s")
	require.Equal(t, 0, code, out+errOut)
	assert.Regexp(t, `Kept 1 snapshots, forgot \d+\. Dropped [1-9]\d* relations`, out)
	assert.Equal(t, "260", revenue())
	code, out, _ = snap("rollback", "2")
	assert.Equal(t, 1, code, out)

	code, out, errOut = snap("compact")
	require.Equal(t, 0, code, out+errOut)
	assert.True(t, strings.HasPrefix(out, "Compacted "), out)
	assert.Equal(t, "260", revenue())
}
