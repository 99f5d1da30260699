package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefreshStagingAndDevFromProduction generates production data for the
// embedded demo, refreshes staging (anonymized) and dev (a sample) from it,
// and builds both.
func TestRefreshStagingAndDevFromProduction(t *testing.T) {
	t.Setenv("DATAOPS_ANON_KEY", "test-key-0123456789abcdef")
	tp := t.TempDir()
	code, out, errOut := cliRun(t, "generate", "--target-path", tp, "--target", "production", "--scale", "0.002", "--as", "ci")
	require.Equal(t, 0, code, out+errOut)
	prod := filepath.Join(tp, "production.duckdb")
	staging := filepath.Join(tp, "staging_env.duckdb")

	code, out, errOut = cliRun(t, "refresh", "--target-path", tp, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Leak check: PASS")
	assert.Contains(t, out, "Replaced 11 tables")
	// Same shape, no original e-mail address, joins intact.
	assert.Equal(t, queryOne(t, prod, "select count(*) from raw.orders"), queryOne(t, staging, "select count(*) from raw.orders"))
	code, out, errOut = cliRun(t, "query", "--database", prod, "--format", "csv", "select email from raw.customers limit 1")
	require.Equal(t, 0, code, errOut)
	email := out[len("email\n"):]
	assert.Equal(t, "0", queryOne(t, staging, "select count(*) from raw.customers where email = '"+email[:len(email)-1]+"'"))
	assert.Equal(t, "0", queryOne(t, staging, "select count(*) from raw.orders o anti join raw.customers c using (customer_id)"))
	code, out, errOut = cliRun(t, "build", "--target-path", tp, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)

	// Dev: a consistent sample — fewer customers, every order's customer there.
	code, out, errOut = cliRun(t, "refresh", "--target-path", tp, "--target", "dev")
	require.Equal(t, 0, code, out+errOut)
	dev := filepath.Join(tp, "dev.duckdb")
	n, err := strconv.Atoi(queryOne(t, dev, "select count(*) from raw.customers"))
	require.NoError(t, err)
	all, err := strconv.Atoi(queryOne(t, prod, "select count(*) from raw.customers"))
	require.NoError(t, err)
	assert.Less(t, n, all/10)
	assert.Equal(t, "0", queryOne(t, dev, "select count(*) from raw.orders o anti join raw.customers c using (customer_id)"))
	code, out, errOut = cliRun(t, "build", "--target-path", tp, "--target", "dev")
	require.Equal(t, 0, code, out+errOut)

	// Production holds full data: it is never refreshed.
	code, _, errOut = cliRun(t, "refresh", "--target-path", tp, "--target", "production", "--as", "ci")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "environment production has no refresh")
}

// TestRefreshRefusesPIIWithoutARule: a policy that misses a PII column
// refuses the refresh and leaves staging as it was.
func TestRefreshRefusesPIIWithoutARule(t *testing.T) {
	t.Setenv("DATAOPS_ANON_KEY", "test-key-0123456789abcdef")
	dir := writeProject(t, with(shop(),
		"environments.yml", `environments:
  staging: {database: stg_env.duckdb, refresh: {from: production}}
  production: {database: production.duckdb}
principals:
  "*": {groups: [analytics-engineers]}
  ci: {groups: [deployment]}
`,
		"anonymize.yml", "schemas: [crm]\ntables:\n  crm.people:\n    primary_key: id\n"))
	tp := filepath.Join(dir, "target")
	require.NoError(t, os.MkdirAll(tp, 0o755))
	prod := filepath.Join(tp, "production.duckdb")
	e := openForTest(t, prod)
	_, err := e.Exec("create schema crm; create table crm.people as select 1 as id, 'asha.k@example.in' as contact, '9876543210' as phone")
	require.NoError(t, err)
	require.NoError(t, e.Close())
	code, out, errOut := cliRun(t, "refresh", "--project", dir, "--target", "staging")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "refresh refused, staging unchanged")
	assert.Contains(t, errOut, "crm.people.contact")
	_, err = os.Stat(filepath.Join(tp, "stg_env.duckdb"))
	assert.True(t, os.IsNotExist(err), "nothing was written to staging")
}

// openForTest opens a DuckDB file directly, for arranging test data.
func openForTest(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	require.NoError(t, err)
	return db
}
