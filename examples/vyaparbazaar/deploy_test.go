package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
)

// environmentsYML configures staging (automatic deploys) and production
// (approval, a window, post-deployment tests) for the shop project.
const environmentsYML = `environments:
  dev: {}
  staging:
    database: staging.duckdb
  production:
    database: production.duckdb
    deploy:
      approval: true
      window: deploys
principals:
  "*": {groups: [analytics-engineers]}
  ci: {groups: [deployment]}
  rm: {groups: [release-managers]}
  dba: {groups: [dba]}
  ravi: {groups: [business-users]}
`

// schedulesWithWindow has a deploys window that is open (today, all day)
// or closed (only on tomorrow's weekday) now, whatever the time of day.
func schedulesWithWindow(open bool) string {
	day := time.Now().UTC()
	if !open {
		day = day.Add(24 * time.Hour)
	}
	return fmt.Sprintf(`timezone: UTC
time_intervals:
  - name: deploys
    time_intervals:
      - weekdays: [%s]
jobs: []
`, strings.ToLower(day.Weekday().String()))
}

func deployProject(t *testing.T, windowOpen bool) string {
	t.Helper()
	return writeProject(t, with(shop(), "environments.yml", environmentsYML, "schedules.yml", schedulesWithWindow(windowOpen)))
}

var planRE = regexp.MustCompile(`Plan ([0-9a-f]{16}) for`)

func planOf(t *testing.T, out string) string {
	t.Helper()
	m := planRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

func TestDeployToStagingBuildsOnlyWhatChanged(t *testing.T) {
	dir := deployProject(t, true)
	db := filepath.Join(dir, "target", "staging.duckdb")
	code, out, errOut := cliRun(t, "deploy", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "first deploy: every node is built")
	assert.Regexp(t, `Deployment \S+: deployed`, out)
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))

	code, out, _ = cliRun(t, "deploy", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Nothing to deploy")

	// Reformatting a model changes nothing; changing it rebuilds it and its
	// downstream only.
	stg := filepath.Join(dir, "models", "staging", "stg_orders.sql")
	require.NoError(t, os.WriteFile(stg, []byte("-- orders, staged\nselect  id as order_id,\n        customer_id,\n        amount\nfrom {{ ref('orders') }}\n"), 0o644))
	code, out, _ = cliRun(t, "plan", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "no changes", "formatting only")
	require.NoError(t, os.WriteFile(stg, []byte("select id as order_id, customer_id, amount * 2 as amount\nfrom {{ ref('orders') }}\n"), 0o644))
	code, out, _ = cliRun(t, "plan", "--project", dir, "--target", "staging", "--format", "json")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"modified": [
    "stg_orders"
  ]`)
	assert.Contains(t, out, `"customer_revenue"`, "rebuilt downstream")
	code, out, errOut = cliRun(t, "deploy", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "OK stg_orders")
	assert.Contains(t, out, "OK customer_revenue")
	assert.NotContains(t, out, "OK orders", "unchanged seeds are not rebuilt")
	assert.Equal(t, "520", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
	assert.FileExists(t, filepath.Join(dir, "target", "plan.json"))
	assert.FileExists(t, filepath.Join(dir, "target", "manifest.json"))

	code, out, _ = cliRun(t, "deployments", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code)
	assert.Equal(t, 2, strings.Count(out, " deployed "), out)

	// The audit log has each decision and how the command ended.
	events, err := env.ReadAuditLog(filepath.Join(dir, "target", "staging.audit.jsonl"))
	require.NoError(t, err)
	var results []string
	for _, ev := range events {
		if ev.Object == "deploy" {
			results = append(results, ev.Result)
		}
	}
	assert.Equal(t, []string{"allowed", "completed", "allowed", "completed", "allowed", "completed"}, results)
}

func TestProductionDeployNeedsApprovalWindowAndRole(t *testing.T) {
	dir := deployProject(t, true)
	db := filepath.Join(dir, "target", "production.duckdb")
	run := func(args ...string) (int, string, string) {
		return cliRun(t, append(args[:1:1], append([]string{"--project", dir, "--target", "production"}, args[1:]...)...)...)
	}

	// An analytics engineer may not write production; the refusal is audited.
	code, _, errOut := run("deploy")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "permission denied")
	events, err := env.ReadAuditLog(filepath.Join(dir, "target", "production.audit.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.False(t, last.Allowed)
	assert.Equal(t, env.ActionWrite, last.Action)

	// The pipeline may, but not without an approval of the exact plan.
	code, out, errOut := run("deploy", "--as", "ci")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "has no approval")
	fp := planOf(t, out)
	code, _, errOut = run("approve", "--as", "ci", "--plan", fp)
	assert.Equal(t, 1, code, "the deployer may not approve its own plan")
	assert.Contains(t, errOut, "permission denied")
	code, _, errOut = run("approve", "--as", "rm", "--plan", "0123456789abcdef")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no longer matches the code")
	code, out, errOut = run("approve", "--as", "rm", "--plan", fp)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Approved plan "+fp)

	// The code changed after the approval: refused, nothing built.
	stg := filepath.Join(dir, "models", "staging", "stg_orders.sql")
	good, err := os.ReadFile(stg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(stg, []byte("select id as order_id, customer_id, amount + 1 as amount\nfrom {{ ref('orders') }}\n"), 0o644))
	code, _, errOut = run("deploy", "--as", "ci")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "has no approval")
	_, err = os.Stat(db)
	if err == nil {
		assert.Equal(t, "0", queryOne(t, db, "select count(*) from information_schema.tables where table_schema = 'marts'"))
	}
	require.NoError(t, os.WriteFile(stg, good, 0o644))

	code, out, errOut = run("deploy", "--as", "ci", "--plan", fp)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Approved by rm")
	assert.Regexp(t, `Deployment \S+: deployed`, out)
	assert.Contains(t, out, "Post-deployment tests")
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
	code, out, _ = run("deployments", "--as", "ravi")
	require.Equal(t, 0, code)
	assert.Contains(t, out, " deployed ")
	assert.Contains(t, out, " ci ")
	assert.Contains(t, out, " rm ")
}

func TestProductionDeployOutsideTheWindowIsRefused(t *testing.T) {
	dir := deployProject(t, false)
	code, out, errOut := cliRun(t, "deploy", "--project", dir, "--target", "production", "--as", "ci")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, `outside the deploy window "deploys" (it opens next at`)
}

// TestFailedPostDeploymentTestsRollBack deploys, then deploys new data that
// a test not attached to any changed model catches only after publishing:
// the environment is rolled back to the previous snapshot automatically.
func TestFailedPostDeploymentTestsRollBack(t *testing.T) {
	dir := deployProject(t, true)
	db := filepath.Join(dir, "target", "production.duckdb")
	deploy := func() (int, string, string) {
		code, out, _ := cliRun(t, "plan", "--project", dir, "--target", "production")
		require.Equal(t, 0, code)
		fp := planOf(t, out)
		code, _, errOut := cliRun(t, "approve", "--project", dir, "--target", "production", "--as", "dba", "--plan", fp)
		require.Equal(t, 0, code, errOut)
		return cliRun(t, "deploy", "--project", dir, "--target", "production", "--as", "ci")
	}
	code, out, errOut := deploy()
	require.Equal(t, 0, code, out+errOut)
	// A singular test that reads the published mart by name: it passes
	// against what is published before this deploy, fails after it.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tests"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tests", "assert_no_whale_customers.sql"),
		[]byte(`select * from "marts"."customer_revenue" where revenue > 1000`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "seeds", "orders.csv"), []byte("id,customer_id,amount\n10,1,5000.00\n"), 0o644))
	code, out, errOut = deploy()
	assert.Equal(t, 1, code, out+errOut)
	assert.Contains(t, out, "post-deployment tests failed: assert_no_whale_customers")
	assert.Regexp(t, `rolled_back .*rolled back to snapshot #1`, out)
	// The alert channels (here the log, no Slack or SMTP configured) are told.
	assert.Regexp(t, `msg="alert: Deployment \S+ to production: rolled_back" type=deployment severity=high`, errOut)
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
	code, out, _ = cliRun(t, "deployments", "--project", dir, "--target", "production", "--as", "ravi")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "rolled_back")
	// Production runs the old code again: the plan still has the change.
	code, out, _ = cliRun(t, "plan", "--project", dir, "--target", "production")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "no changes")
	assert.Contains(t, out, "orders")
}

// TestKilledDeployLeavesProductionOnItsSnapshot kills the CLI (SIGKILL)
// while a deploy is building: production still serves its previous
// snapshot, and the next deploy succeeds.
func TestKilledDeployLeavesProductionOnItsSnapshot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vyaparbazaar")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	dir := writeProject(t, with(shop(), "environments.yml", strings.Replace(environmentsYML, "      approval: true\n      window: deploys\n", "      approval: false\n", 1)))
	db := filepath.Join(dir, "target", "production.duckdb")
	out, err := exec.Command(bin, "deploy", "--project", dir, "--target", "production", "--as", "ci").CombinedOutput()
	require.NoError(t, err, string(out))

	slow := "select c.id as customer_id, c.name, coalesce(sum(o.amount), 0) + count(*) * 0 as revenue from {{ ref('customers') }} c " +
		"left join {{ ref('stg_orders') }} o on o.customer_id = c.id, range(60000) a, range(60000) b group by 1, 2"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "customer_revenue.sql"), []byte(slow), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "seeds", "orders.csv"), []byte("id,customer_id,amount\n10,1,1.00\n"), 0o644))
	killWhenPrinted(t, exec.Command(bin, "deploy", "--project", dir, "--target", "production", "--as", "ci", "--verbose", "--threads", "1"), "START customer_revenue")

	// The seed and staging model of the killed deploy were built but never
	// published: readers see the first deploy, whole.
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
	assert.Equal(t, "3", queryOne(t, db, "select count(*) from main.stg_orders"))
	assert.Equal(t, "1", queryOne(t, db, "select max(id) from _dataops.snapshots"))
	code, outS, _ := cliRun(t, "deployments", "--project", dir, "--target", "production", "--as", "ravi")
	require.Equal(t, 0, code)
	assert.Contains(t, outS, " running ", "the killed deploy's record says it never finished")

	// The next deploy closes the interrupted one (nothing was published, so
	// nothing to roll back) and deploys.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "customer_revenue.sql"), []byte(shop()["models/marts/customer_revenue.sql"]), 0o644))
	code, outS, errS := cliRun(t, "deploy", "--project", dir, "--target", "production", "--as", "ci")
	require.Equal(t, 0, code, outS+errS)
	assert.Contains(t, outS, "was interrupted: interrupted: the deploying process died")
	assert.Equal(t, "1", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
}

// TestDatabaseFlagCannotReachAnotherEnvironment: with environments
// configured, --database must be the target environment's own file, so
// the policy of the environment that owns the data applies.
func TestDatabaseFlagCannotReachAnotherEnvironment(t *testing.T) {
	dir := deployProject(t, true)
	prod := filepath.Join(dir, "target", "production.duckdb")
	code, _, errOut := cliRun(t, "build", "--project", dir, "--target", "dev", "--database", prod)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "is the database of environment production, not dev")
	_, err := os.Stat(prod)
	assert.True(t, os.IsNotExist(err), "nothing was built")
}

func TestDeployWhileAnotherProcessHoldsTheEnvironment(t *testing.T) {
	dir := deployProject(t, true)
	db := filepath.Join(dir, "target", "staging.duckdb")
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o755))
	cmd := holdLock(t, db)
	code, _, errOut := cliRun(t, "deploy", "--project", dir, "--target", "staging", "--lock-retries", "1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "another process (a deploy, a build or the daemon) holds the environment")
	assert.Contains(t, errOut, fmt.Sprintf("PID %d", cmd.Process.Pid))
}

// TestPerfFailsAboveTheBaseline records three past runs in which the
// critical model took 1 ms, then makes it take far longer (a large join):
// perf fails and names it. Models without enough history are reported, not
// failed.
func TestPerfFailsAboveTheBaseline(t *testing.T) {
	files := with(shop(), "models/marts/schema.yml", strings.Replace(shop()["models/marts/schema.yml"],
		"  - name: customer_revenue\n", "  - name: customer_revenue\n    meta: {critical: true}\n", 1))
	dir := writeProject(t, files)
	code, out, errOut := cliRun(t, "build", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	code, out, errOut = cliRun(t, "perf", "--project", dir)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "no baseline yet")

	db := filepath.Join(dir, "target", "dev.duckdb")
	e, err := duckenv.Open(t.Context(), duckenv.Config{Path: db})
	require.NoError(t, err)
	for i := range 3 {
		at := time.Now().Add(-time.Duration(3-i) * time.Hour)
		res := fmt.Sprintf(`[{"unique_id":"customer_revenue","resource_type":"model","status":"success","finished_at":%q,"execution_time_ns":1000000,"rows_affected":3}]`, at.Format(time.RFC3339Nano))
		require.NoError(t, e.RecordRun(t.Context(), duckenv.RunRecord{RunID: fmt.Sprintf("past-%d", i), StartedAt: at, FinishedAt: at, Status: "success", Results: []byte(res)}))
	}
	require.NoError(t, e.Close())
	slow := "select c.id as customer_id, c.name, coalesce(sum(o.amount), 0) + min(a.range * 0) as revenue from {{ ref('customers') }} c " +
		"left join {{ ref('stg_orders') }} o on o.customer_id = c.id, range(3000) a, range(3000) b group by 1, 2"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models", "marts", "customer_revenue.sql"), []byte(slow), 0o644))
	code, out, errOut = cliRun(t, "perf", "--project", dir)
	assert.Equal(t, 1, code, out)
	assert.Regexp(t, `customer_revenue\s+\S+\s+1ms\s+[0-9.]+\s+SLOWER than 150%`, out)
	assert.Contains(t, errOut, "perf: 1 model above 150% of the baseline: [customer_revenue]")
}

// TestCommandsWithTheirOwnFlagsAreAuthorizedToo: alerts, status and report
// parse their own flags; they are checked and audited like the others.
func TestCommandsWithTheirOwnFlagsAreAuthorizedToo(t *testing.T) {
	dir := deployProject(t, true)
	code, _, errOut := cliRun(t, "alerts", "ack", "1", "--project", dir, "--target", "production", "--as", "ravi")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "permission denied: ravi may not write in production")
	code, _, errOut = cliRun(t, "status", "--project", dir, "--target", "staging", "--as", "ravi")
	assert.Equal(t, 1, code, "business users have no role in staging")
	assert.Contains(t, errOut, "permission denied")
	events, err := env.ReadAuditLog(filepath.Join(dir, "target", "production.audit.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, events)
	assert.Equal(t, "alerts ack 1", events[len(events)-1].Object)
	assert.False(t, events[len(events)-1].Allowed)
}

// TestReadersDoNotReadDataopsOwnTables: a business user queries published
// marts, not the run history, approvals or versions.
func TestReadersDoNotReadDataopsOwnTables(t *testing.T) {
	dir2 := deployProject(t, true)
	code, _, errOut := cliRun(t, "build", "--project", dir2, "--target", "dev")
	require.Equal(t, 0, code, errOut)
	// In dev, engineers may read everything; a reader of production may not
	// read _dataops tables there.
	code, out, errOut := cliRun(t, "query", "--project", dir2, "--target", "dev", "select count(*) from _dataops.run_history")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "1")
	prodDB := filepath.Join(dir2, "target", "production.duckdb")
	require.NoError(t, os.Rename(filepath.Join(dir2, "target", "dev.duckdb"), prodDB))
	code, _, errOut = cliRun(t, "query", "--project", dir2, "--target", "production", "--as", "ravi", "select count(*) from _dataops.run_history")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "which a reader of production may not read")
	code, out, errOut = cliRun(t, "query", "--project", dir2, "--target", "production", "--as", "ravi", "select revenue from marts.customer_revenue where customer_id = 1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "260")
}

// TestClaimingAnotherPrincipalNeedsOSUsers: once environments.yml names the
// OS accounts of the pipeline, nobody else can claim to be it.
func TestClaimingAnotherPrincipalNeedsOSUsers(t *testing.T) {
	strict := strings.Replace(environmentsYML, "  ci: {groups: [deployment]}\n", "  ci: {groups: [deployment], os_users: [svc-deploy-only]}\n", 1)
	dir := writeProject(t, with(shop(), "environments.yml", strict, "schedules.yml", schedulesWithWindow(true)))
	code, _, errOut := cliRun(t, "deploy", "--project", dir, "--target", "staging", "--as", "ci")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "may not act as ci (ci does not list OS user")
	events, err := env.ReadAuditLog(filepath.Join(dir, "target", "staging.audit.jsonl"))
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, env.Action("act as ci"), events[0].Action)
	assert.False(t, events[0].Allowed)
}

// TestDeployStopsServingRemovedModels: a model deleted from the project is
// no longer served after the deploy; a rollback brings it back.
func TestDeployStopsServingRemovedModels(t *testing.T) {
	dir := deployProject(t, true)
	db := filepath.Join(dir, "target", "staging.duckdb")
	code, out, errOut := cliRun(t, "deploy", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)
	require.NoError(t, os.Remove(filepath.Join(dir, "models", "marts", "customer_revenue.sql")))
	schema := filepath.Join(dir, "models", "marts", "schema.yml")
	require.NoError(t, os.WriteFile(schema, []byte(strings.Replace(shop()["models/marts/schema.yml"],
		"  - name: customer_revenue\n    columns:\n      - name: customer_id\n        tests: [unique, not_null]\n", "", 1)), 0o644))
	code, out, errOut = cliRun(t, "deploy", "--project", dir, "--target", "staging")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "- customer_revenue")
	assert.Contains(t, out, "no longer served (removed from the project): customer_revenue")
	assert.Equal(t, "0", queryOne(t, db, "select count(*) from information_schema.tables where table_name = 'customer_revenue'"))
	code, out, errOut = cliRun(t, "snapshots", "--project", dir, "--target", "staging", "--as", "dba", "rollback", "1")
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "260", queryOne(t, db, "select revenue from marts.customer_revenue where customer_id = 1"))
}
