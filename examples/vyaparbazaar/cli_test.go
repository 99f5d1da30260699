package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeProject writes files (path → content) under a new project folder.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return dir
}

func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const projectYML = "name: shop\nversion: '1.0'\nprofile: shop\n"

// shop is a small valid project: a seed, a source-free staging model, a
// table and an incremental model, with tests.
func shop() map[string]string {
	return map[string]string{
		"dbt_project.yml":               projectYML + "models:\n  shop:\n    marts:\n      +materialized: table\n      +schema: marts\n",
		"seeds/customers.csv":           "id,name,city\n1,Asha,Pune\n2,Ravi,Delhi\n3,Meera,Chennai\n",
		"seeds/orders.csv":              "id,customer_id,amount\n10,1,250.00\n11,2,99.50\n12,1,10.00\n",
		"models/staging/stg_orders.sql": "select id as order_id, customer_id, amount\nfrom {{ ref('orders') }}\n",
		"models/marts/customer_revenue.sql": "select c.id as customer_id, c.name, coalesce(sum(o.amount), 0) as revenue\n" +
			"from {{ ref('customers') }} c\nleft join {{ ref('stg_orders') }} o on o.customer_id = c.id\ngroup by 1, 2\n",
		"models/marts/schema.yml": `version: 2
models:
  - name: customer_revenue
    columns:
      - name: customer_id
        tests: [unique, not_null]
  - name: stg_orders
    columns:
      - name: order_id
        tests: [unique]
      - name: customer_id
        tests:
          - relationships:
              to: ref('customers')
              field: id
`,
	}
}

func queryOne(t *testing.T, db string, q string) string {
	t.Helper()
	code, out, errOut := cliRun(t, "query", "--database", db, "--format", "csv", q)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	return lines[1]
}

func TestBuildProjectAndQuery(t *testing.T) {
	dir := writeProject(t, shop())
	code, out, errOut := cliRun(t, "build", "--project", dir, "--threads", "2")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "OK customer_revenue")
	assert.Contains(t, out, "PASS unique_customer_revenue_customer_id")
	assert.Regexp(t, `\d+ of \d+ OK customer_revenue \.+ \[\d+\.\d\ds, 3 rows`, out)
	assert.Contains(t, out, "ERROR=0 FAIL=0 SKIP=0")

	db := filepath.Join(dir, "target", "dev.duckdb")
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where name = 'Asha'"))

	// run_results.json and the run history were written.
	data, err := os.ReadFile(filepath.Join(dir, "target", "run_results.json"))
	require.NoError(t, err)
	var rr struct {
		Status  string `json:"status"`
		Results []struct {
			ID     string `json:"unique_id"`
			Status string `json:"status"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(data, &rr))
	assert.Equal(t, "success", rr.Status)
	assert.NotEmpty(t, rr.Results)
	code, out, _ = cliRun(t, "history", "--project", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "vyaparbazaar build")

	// Nothing but target/ was written into the project.
	var extra []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if rel == "target" {
			return filepath.SkipDir
		}
		if _, ok := shop()[filepath.ToSlash(rel)]; !ok && !d.IsDir() {
			extra = append(extra, rel)
		}
		return nil
	}))
	assert.Empty(t, extra)
}

func TestSelectorsLsGraphCompile(t *testing.T) {
	dir := writeProject(t, shop())
	code, out, errOut := cliRun(t, "ls", "--project", dir, "--select", "+customer_revenue", "--exclude", "resource_type:test")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, []string{"customers", "orders", "stg_orders", "customer_revenue"}, strings.Fields(out))

	code, out, _ = cliRun(t, "graph", "--project", dir, "--format", "dot")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "digraph")
	assert.Contains(t, out, "stg_orders")

	code, out, errOut = cliRun(t, "compile", "--project", dir, "-s", "customer_revenue", "--exclude", "resource_type:test")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"main"."customers"`)
	_, err := os.Stat(filepath.Join(dir, "target", "compiled", "models", "marts", "customer_revenue.sql"))
	assert.NoError(t, err)

	code, _, errOut = cliRun(t, "ls", "--project", dir, "--select", "nosuchmethod:x")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "nosuchmethod")
}

func TestRunTestSeedCommandsSelectKinds(t *testing.T) {
	dir := writeProject(t, shop())
	code, out, errOut := cliRun(t, "seed", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "OK customers")
	assert.NotContains(t, out, "stg_orders")
	code, out, _ = cliRun(t, "run", "--project", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "OK customer_revenue")
	assert.NotContains(t, out, "PASS unique")
	code, out, _ = cliRun(t, "test", "--project", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "PASS unique_customer_revenue_customer_id")
	assert.NotContains(t, out, "OK customer_revenue")
}

// badInput runs build on a project and returns exit code and stderr+stdout.
func badInput(t *testing.T, files map[string]string) (int, string) {
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir)
	return code, out + errOut
}

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

func TestBadInputsGiveOneClearError(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
		not   []string
	}{
		{"cycle", with(shop(),
			"models/a.sql", "select * from {{ ref('b') }}",
			"models/b.sql", "select * from {{ ref('c') }}",
			"models/c.sql", "select * from {{ ref('a') }}"),
			// Arrows follow the data: c reads a, b reads c, a reads b.
			[]string{"dependency cycle: a → c → b → a"}, nil},
		{"unknown ref", with(shop(),
			"models/x.sql", "select 1 as id\nunion all\nselect * from {{ ref('stg_ordrs') }}"),
			[]string{"models/x.sql:3", "stg_ordrs", `did you mean "stg_orders"`}, []string{"cycle"}},
		{"unknown ref inside a cycle is not a cycle", with(shop(),
			"models/a.sql", "select * from {{ ref('b') }} join {{ ref('nope') }} using (id)",
			"models/b.sql", "select * from {{ ref('a') }}"),
			[]string{"models/a.sql:1", `"nope"`}, []string{"cycle"}},
		{"duplicate model", with(shop(),
			"models/one/dup.sql", "select 1 as id",
			"models/two/dup.sql", "select 2 as id"),
			[]string{"dup", "models/one/dup.sql", "models/two/dup.sql"}, nil},
		{"malformed yaml", with(shop(),
			"models/marts/schema.yml", "version: 2\nmodels:\n  - name: customer_revenue\n    columns: [\n"),
			[]string{"models/marts/schema.yml:"}, nil},
		{"jinja syntax error", with(shop(),
			"models/j.sql", "select 1 as id\n{% if true %}\nwhere 1=1\n"),
			[]string{"models/j.sql"}, nil},
		{"missing seed file", with(shop(), "seeds/orders.csv", ""),
			[]string{"models/staging/stg_orders.sql:2", `"orders"`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := badInput(t, tc.files)
			assert.Equal(t, 1, code, out)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, out, n)
			}
		})
	}
}

func TestSQLErrorPointsAtModelLineAndKeepsLastGoodData(t *testing.T) {
	dir := writeProject(t, shop())
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	// Break the mart: line 3 names a column that does not exist.
	bad := "select c.id as customer_id, c.name,\n  coalesce(sum(o.amount), 0) as revenue,\n  o.no_such_column\n" +
		"from {{ ref('customers') }} c\nleft join {{ ref('stg_orders') }} o on o.customer_id = c.id\ngroup by 1, 2\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "customer_revenue.sql"), []byte(bad), 0o644))
	code, out, errOut = cliRun(t, "build", "--project", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "models/marts/customer_revenue.sql:3:")
	assert.Contains(t, out, "no_such_column")
	assert.Contains(t, out, "ERROR customer_revenue")
	assert.Contains(t, out, "UPSTREAM FAILED") // its tests are skipped
	// The last good table still serves.
	db := filepath.Join(dir, "target", "dev.duckdb")
	assert.Equal(t, "3", queryOne(t, db, "select count(*) from marts.customer_revenue"))
	assert.Equal(t, "0", queryOne(t, db, "select count(*) from information_schema.tables where table_name like '__dataops_tmp_%'"))
}

func TestFailingTestSkipsDownstream(t *testing.T) {
	files := with(shop(),
		"seeds/customers.csv", "id,name,city\n1,Asha,Pune\n1,Ravi,Delhi\n",
		"models/marts/schema.yml", "version: 2\nseeds:\n  - name: customers\n    columns:\n      - name: id\n        tests: [unique]\n")
	code, out := badInput(t, files)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAIL unique_customers_id")
	assert.Contains(t, out, "UPSTREAM FAILED customer_revenue")
}

func TestQueryIsReadOnly(t *testing.T) {
	dir := writeProject(t, shop())
	code, _, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, errOut)
	db := filepath.Join(dir, "target", "dev.duckdb")
	code, _, errOut = cliRun(t, "query", "--database", db, "drop table marts.customer_revenue")
	assert.Equal(t, 1, code)
	assert.Contains(t, strings.ToLower(errOut), "read-only")
	code, _, errOut = cliRun(t, "query", "--database", db, "copy marts.customer_revenue to '/tmp/x.csv'")
	assert.Equal(t, 1, code)
	assert.NotEmpty(t, errOut)
	code, out, _ := cliRun(t, "query", "--database", db, "--format", "json", "select name from marts.customer_revenue order by customer_id limit 1")
	assert.Equal(t, 0, code)
	assert.JSONEq(t, `{"name":"Asha"}`, strings.TrimSpace(out))
}

// holdLock is run in a child process: it opens the database read-write and
// waits to be killed.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv("VYAPARBAZAAR_HOLD_LOCK")
	if path == "" {
		return // only meaningful as a child process of TestLockedDatabase
	}
	db, err := sql.Open("duckdb", path)
	require.NoError(t, err)
	_, err = db.Exec("create table if not exists held as select 1 as x")
	require.NoError(t, err)
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
}

// holdLock starts a child process that holds db open read-write until the
// test ends, and returns once it does.
func holdLock(t *testing.T, db string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "VYAPARBAZAAR_HOLD_LOCK="+db)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	buf := make([]byte, 7)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "locked\n", string(buf))
	return cmd
}

func TestLockedDatabaseIsAClearError(t *testing.T) {
	dir := writeProject(t, shop())
	db := filepath.Join(dir, "target", "dev.duckdb")
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o755))
	cmd := holdLock(t, db)

	code, out, errOut := cliRun(t, "build", "--project", dir, "--lock-retries", "2")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "retrying in")
	assert.Contains(t, errOut, "gave up after 2 attempts")
	assert.Contains(t, errOut, "locked by another process")
	assert.Contains(t, errOut, "dev.duckdb")
	assert.Contains(t, errOut, fmt.Sprintf("PID %d", cmd.Process.Pid), "the holder is named")
}

// TestKilledBuildLosesNothing builds the CLI, kills it with SIGKILL while a
// slow table model is being built, and checks that the previous version of
// the table is intact and that the next build succeeds.
func TestKilledBuildLosesNothing(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vyaparbazaar")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	files := with(shop(), "models/marts/big.sql", "select range as id from range(1000)")
	dir := writeProject(t, files)
	out, err := exec.Command(bin, "build", "--project", dir).CombinedOutput()
	require.NoError(t, err, string(out))

	// Make big slow (a large cross join), start the build and kill it mid-way.
	slow := "select a.range as id from {{ ref('stg_orders') }} o, range(100000) a, range(100000) b order by hash(a.range * b.range + o.order_id)"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "big.sql"), []byte(slow), 0o644))
	killWhenPrinted(t, exec.Command(bin, "build", "--project", dir, "--select", "+big", "--threads", "1", "--verbose"), "START big")

	db := filepath.Join(dir, "target", "dev.duckdb")
	assert.Equal(t, "1000", queryOne(t, db, "select count(*) from marts.big"))
	// Restore a fast model: retry knows the killed run never published
	// (the run was recorded as pending before it started) and rebuilds
	// what it selected.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "big.sql"), []byte("select range as id from range(5)"), 0o644))
	out, err = exec.Command(bin, "retry", "--project", dir).CombinedOutput()
	require.NoError(t, err, string(out))
	// Everything the killed run selected: what it built before the kill
	// was never published.
	assert.Regexp(t, `Retrying ([4-9]) of ([4-9]) nodes`, string(out))
	assert.Contains(t, string(out), "OK stg_orders")
	assert.Contains(t, string(out), "OK big")
	assert.Equal(t, "5", queryOne(t, db, "select count(*) from marts.big"))
	assert.Equal(t, "0", queryOne(t, db, "select count(*) from information_schema.tables where table_name like '__dataops_tmp_%'"))
}

func TestUsageErrors(t *testing.T) {
	code, _, errOut := cliRun(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown command")
	code, _, _ = cliRun(t, "build", "--threads", "0")
	assert.Equal(t, 2, code)
	code, out, _ := cliRun(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage")
}

func TestVarsOverrideProjectVars(t *testing.T) {
	files := with(shop(),
		"dbt_project.yml", projectYML+"vars:\n  min_amount: 50\n",
		"models/big_orders.sql", "{{ config(materialized='table') }}\nselect count(*) as n, {{ var('min_amount') }} as threshold\nfrom {{ ref('stg_orders') }}\nwhere amount >= {{ var('min_amount') }}\n")
	dir := writeProject(t, files)
	db := filepath.Join(dir, "target", "dev.duckdb")
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "2,50", queryOne(t, db, "select n, threshold from big_orders"))
	code, out, errOut = cliRun(t, "build", "--project", dir, "-s", "big_orders", "--vars", "{min_amount: 10}")
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "3,10", queryOne(t, db, "select n, threshold from big_orders"))
	code, _, errOut = cliRun(t, "build", "--project", dir, "--vars", "{not yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--vars")
}

func TestCriticalModelFallsBackAndItsMartKeepsServing(t *testing.T) {
	files := with(shop(),
		"models/marts/schema.yml", "version: 2\nmodels:\n  - name: customer_revenue\n    meta: {critical: true, owner: finance}\n",
		"models/marts/top_customer.sql", "select name from {{ ref('customer_revenue') }} order by revenue desc limit 1\n")
	dir := writeProject(t, files)
	db := filepath.Join(dir, "target", "dev.duckdb")
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "Asha", queryOne(t, db, "select name from marts.top_customer"))

	// The critical model breaks: it falls back, its mart is skipped, and
	// both keep serving the previous run's data.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "customer_revenue.sql"),
		[]byte("select c.id as customer_id, c.name, sum(o.amount) as revenue, o.nope\nfrom {{ ref('customers') }} c join {{ ref('stg_orders') }} o on o.customer_id = c.id\ngroup by 1, 2\n"), 0o644))
	code, out, _ = cliRun(t, "build", "--project", dir, "--no-retry")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FALLBACK customer_revenue")
	assert.Contains(t, out, "still serving the version built by run")
	assert.Contains(t, out, "SKIP top_customer")
	assert.Contains(t, out, "upstream fell back: customer_revenue")
	assert.Equal(t, "Asha", queryOne(t, db, "select name from marts.top_customer"))
	assert.Equal(t, "3", queryOne(t, db, "select count(*) from marts.customer_revenue"))
	data, err := os.ReadFile(filepath.Join(dir, "target", "run_results.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"status": "fallback"`)
	assert.Contains(t, string(data), `"serving": {`)
	assert.Contains(t, string(data), `"class": "permanent"`)
}

// shopWithBrokenStaging writes the shop project with stg_orders naming a
// column that does not exist; it returns the project, the model's path and
// its good content.
func shopWithBrokenStaging(t *testing.T) (dir, path string, good []byte) {
	t.Helper()
	dir = writeProject(t, shop())
	path = filepath.Join(dir, "models", "staging", "stg_orders.sql")
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("select id as order_id, customer_id, amount, nope\nfrom {{ ref('orders') }}\n"), 0o644))
	return dir, path, good
}

func TestRetryRerunsOnlyWhatFailed(t *testing.T) {
	dir, path, good := shopWithBrokenStaging(t)
	code, out, _ := cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "ERROR stg_orders")

	require.NoError(t, os.WriteFile(path, good, 0o644))
	code, out, errOut := cliRun(t, "retry", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Retrying")
	assert.Contains(t, out, "OK stg_orders")
	assert.Contains(t, out, "OK customer_revenue")
	assert.NotContains(t, out, "OK customers", "seeds that passed are not re-run")

	code, out, _ = cliRun(t, "retry", "--project", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Nothing to retry")
}

func TestLockedDatabaseIsRetriedUntilReleased(t *testing.T) {
	dir := writeProject(t, shop())
	db := filepath.Join(dir, "target", "dev.duckdb")
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o755))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "VYAPARBAZAAR_HOLD_LOCK="+db)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 7)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	// Release the lock while the CLI waits between attempts.
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		var out bytes.Buffer
		done <- Main(t.Context(), []string{"build", "--project", dir}, &out, &stderr)
	}()
	for !strings.Contains(stderr.String(), "retrying in") {
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	assert.Equal(t, 0, <-done, stderr.String())
	assert.Contains(t, stderr.String(), "locked by another process; retrying in")
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTimeoutIsInterruptedClassifiedAndRetried(t *testing.T) {
	files := with(shop(),
		"dbt_project.yml", projectYML+"models:\n  shop:\n    +retries: {attempts: 2, initial_delay: 10ms}\n",
		"models/slow.sql", "{{ config(materialized='table', timeout='300ms') }}\n"+
			"select a.range as id from range(100000) a, range(100000) b order by hash(a.range * b.range)\n")
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir, "-s", "slow")
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "RETRY slow")
	assert.Contains(t, out, "ERROR slow")
	assert.Contains(t, out, "2 attempts, timeout")
	assert.Contains(t, out, "timed out after 300ms")
	data, err := os.ReadFile(filepath.Join(dir, "target", "run_results.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"class": "timeout"`)
}

func TestIncidentLifecycle(t *testing.T) {
	dir, path, good := shopWithBrokenStaging(t)
	code, out, _ := cliRun(t, "build", "--project", dir)
	require.Equal(t, 1, code)
	require.Contains(t, out, "Opened incident INC-")
	id := strings.Fields(out[strings.Index(out, "Opened incident ")+len("Opened incident "):])[0]

	code, out, errOut := cliRun(t, "incidents", "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, id)
	assert.Contains(t, out, "open")
	assert.Contains(t, out, "permanent")
	code, _, errOut = cliRun(t, "incidents", "note", id, "nope column was renamed upstream", "--project", dir)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cliRun(t, "incidents", "root-cause", id, "a column rename in the orders extract", "--project", dir)
	require.Equal(t, 0, code, errOut)
	code, out, errOut = cliRun(t, "incidents", "show", id, "--project", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "# ")
	assert.Contains(t, out, "stg_orders")
	assert.Contains(t, out, "nope column was renamed upstream")
	assert.Contains(t, out, "a column rename in the orders extract")
	assert.Contains(t, out, "Binder Error")

	require.NoError(t, os.WriteFile(path, good, 0o644))
	code, out, _ = cliRun(t, "retry", "--project", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "Resolved incident "+id)
	code, out, _ = cliRun(t, "incidents", "--project", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "resolved")
}

func TestExternalSourceFailuresAreNamedAndLoseNothing(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("order_id,customer_id,amount\n")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&csv, "%d,%d,%d.50\n", i, i%3+1, i*10)
	}
	files := map[string]string{
		"dbt_project.yml": projectYML,
		"data/orders.csv": csv.String(),
		"models/sources.yml": `version: 2
sources:
  - name: ext
    tables:
      - name: orders
        meta: {external_location: data/orders.csv, max_rejected_share: 0.05}
        columns:
          - {name: order_id, data_type: INTEGER}
          - {name: customer_id, data_type: INTEGER}
          - {name: amount, data_type: 'DECIMAL(10,2)'}
`,
		"models/order_totals.sql": "select count(*) as n, sum(amount) as total from {{ source('ext', 'orders') }}\n",
	}
	dir := writeProject(t, files)
	db := filepath.Join(dir, "target", "dev.duckdb")
	code, out, errOut := cliRun(t, "build", "--project", dir, "--no-retry")
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "50", queryOne(t, db, "select n from order_totals"))

	// Two malformed rows of 52: under 5%, loaded, the rejects kept.
	bad := csv.String() + "51,x,10.00\n52,2,not-a-number\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "orders.csv"), []byte(bad), 0o644))
	code, out, errOut = cliRun(t, "build", "--project", dir, "--no-retry")
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "2", queryOne(t, db, "select count(*) from ext.orders__rejects"))

	// A dropped column is named; the last good data stays.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "orders.csv"), []byte("order_id,amount\n1,5.00\n"), 0o644))
	code, out, _ = cliRun(t, "build", "--project", dir, "--no-retry")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `column "customer_id" is missing`)
	assert.Contains(t, out, "schema_change")
	assert.Equal(t, "50", queryOne(t, db, "select n from order_totals"))

	// The file disappears: named, classified, nothing lost.
	require.NoError(t, os.Remove(filepath.Join(dir, "data", "orders.csv")))
	code, out, _ = cliRun(t, "build", "--project", dir, "--no-retry")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "data/orders.csv does not exist")
	assert.Contains(t, out, "source_missing")
	assert.Equal(t, "50", queryOne(t, db, "select n from order_totals"))
	assert.Equal(t, "50", queryOne(t, db, "select count(*) from ext.orders"))
}

func TestBadSettingsFileNamesTheLine(t *testing.T) {
	dir := writeProject(t, with(shop(), "dataops.yml", "retries:\n  default:\n    attempts: 0\n"))
	code, _, errOut := cliRun(t, "build", "--project", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "dataops.yml")
	assert.Contains(t, errOut, "line 3")
	assert.Contains(t, errOut, "attempts")
}

func TestServeRunsTheTimetableOverHTTP(t *testing.T) {
	files := with(shop(), "schedules.yml", `timezone: Asia/Kolkata
max_concurrency: 1
jobs:
  - name: revenue
    schedule: "0 3 * * *"
    select: ["+customer_revenue"]
    priority: high
  - name: backup
    operation: backup
    schedule: "15 0 * * *"
`)
	dir := writeProject(t, files)
	d := startServe(t, "serve", "--project", dir, "--addr", "127.0.0.1:0")
	base, stdout, stderr := d.base, d.stdout, d.stderr

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := get("/healthz")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"status":"ok"`)
	code, body = get("/jobs")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"job": "revenue"`)
	assert.Contains(t, body, `"schedule": "0 3 * * *"`)
	assert.Contains(t, body, `"priority": "high"`)
	assert.Contains(t, body, `"job": "backup"`)

	// Run both jobs now; the run goes through the engine into the history.
	for _, job := range []string{"revenue", "backup"} {
		resp, err := http.Post(base+"/jobs/"+job+"/run", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	resp, err := http.Post(base+"/jobs/nope/run", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	succeeded := func(body, job string) bool {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "dataops_job_runs_total{") && strings.Contains(line, `job="`+job+`"`) && strings.Contains(line, `status="success"`) {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool {
		_, body := get("/metrics")
		return succeeded(body, "revenue") && succeeded(body, "backup")
	}, 60*time.Second, 50*time.Millisecond, stdout.String())
	_, body = get("/metrics")
	assert.NotContains(t, body, `status="error"`, stdout.String())
	// Node metrics of the job's run, and the freshness of what it published.
	assert.Contains(t, body, `dataops_nodes_total{environment="dev",kind="model"`)
	assert.Contains(t, body, `dataops_node_duration_seconds_bucket{environment="dev",kind="model",node="customer_revenue"`)
	assert.Contains(t, body, `dataops_model_freshness_lag_seconds{environment="dev",model="customer_revenue"`)
	backups, _ := filepath.Glob(filepath.Join(dir, "target", "backups", "dev-*.duckdb"))
	assert.Len(t, backups, 1)

	assert.Equal(t, 0, d.stop(), stderr.String())
	assert.Contains(t, stdout.String(), "OK customer_revenue")
	code2, out, _ := cliRun(t, "history", "--project", dir)
	assert.Equal(t, 0, code2)
	assert.Contains(t, out, "job revenue")
}

func TestServeRefusesABadTimetableAtStart(t *testing.T) {
	files := with(shop(), "schedules.yml", `timezone: Asia/Kolkata
jobs:
  - name: broken-cron
    schedule: "61 * * * *"
    select: ["customer_revenue"]
  - name: night-only
    schedule: "0 12 * * *"
    select: ["customer_revenue"]
    windows: [night]
time_intervals:
  - name: night
    time_intervals:
      - times: [{start_time: "01:00", end_time: "05:00"}]
`)
	dir := writeProject(t, files)
	code, _, errOut := cliRun(t, "serve", "--project", dir, "--addr", "127.0.0.1:0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "schedules.yml:4")
	assert.Contains(t, errOut, "broken-cron")
	assert.Contains(t, errOut, "never run")

	dir = writeProject(t, with(shop(), "schedules.yml", `timezone: Asia/Kolkata
jobs:
  - name: unknown-model
    schedule: "0 3 * * *"
    select: ["mart_nope"]
  - name: unknown-operation
    schedule: "0 3 * * *"
    operation: reticulate-splines
`))
	code, _, errOut = cliRun(t, "serve", "--project", dir, "--addr", "127.0.0.1:0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "mart_nope")
	assert.Contains(t, errOut, `unknown operation "reticulate-splines"`)
}

// killWhenPrinted starts cmd, waits until it prints a line containing
// marker, lets it work a moment longer (into the query it started) and
// kills it with SIGKILL.
func killWhenPrinted(t *testing.T, cmd *exec.Cmd, marker string) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), marker) {
				close(started)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%q was never printed", marker)
	}
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
}

// testDaemon is a `serve` process started in the test by startServe.
type testDaemon struct {
	base           string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

// startServe runs Main("serve", args...) until the test stops it, and
// returns once it serves HTTP (base is its http:// address).
func startServe(t *testing.T, args ...string) *testDaemon {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &testDaemon{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { d.done <- Main(ctx, args, d.stdout, d.stderr) }()
	require.Eventually(t, func() bool {
		out := d.stdout.String()
		i := strings.Index(out, "http://")
		if i < 0 {
			return false
		}
		d.base = strings.Fields(out[i:])[0]
		return true
	}, 30*time.Second, 10*time.Millisecond, d.stderr.String())
	return d
}

// stop cancels the daemon and returns its exit code.
func (d *testDaemon) stop() int {
	d.cancel()
	return <-d.done
}
