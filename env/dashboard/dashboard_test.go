package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/dashboard"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/schedule"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// shop is a small project: a seed, a staging view and a mart with tests.
func shop(martSQL string) fstest.MapFS {
	return fstest.MapFS{
		"dbt_project.yml":       {Data: []byte("name: shop\nversion: '1.0'\nmodels:\n  shop:\n    +materialized: table\n")},
		"seeds/orders.csv":      {Data: []byte("id,amount\n1,10\n2,20\n2,30\n")},
		"models/stg_orders.sql": {Data: []byte("select id as order_id, amount from {{ ref('orders') }}\n")},
		"models/mart_sales.sql": {Data: []byte(martSQL)},
		"models/schema.yml": {Data: []byte(`version: 2
models:
  - name: mart_sales
    description: Sales per order.
    meta: {owner: finance, critical: true}
    columns:
      - name: order_id
        description: The order.
        tests: [not_null]
  - name: stg_orders
    columns:
      - name: order_id
        tests:
          - unique: {config: {severity: warn}}
`)},
	}
}

const goodMart = "select order_id, sum(amount) as amount\nfrom {{ ref('stg_orders') }}\ngroup by 1\n"

// build runs the whole project into e and records the run as the CLI
// does; it returns the run.
func build(t *testing.T, e *duckenv.Env, fsys fstest.MapFS) *orchestrate.Run {
	t.Helper()
	ctx := context.Background()
	p, err := project.Load(ctx, fsys, project.Options{})
	require.NoError(t, err)
	plan, err := orchestrate.NewPlan(p, nil, nil)
	require.NoError(t, err)
	id := orchestrate.NewRunID(time.Now())
	run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{RunID: id, Threads: 2,
		Runner: e.Runner(duckenv.RunnerOptions{RunID: id, Actor: "test", TargetDir: t.TempDir()})})
	require.NoError(t, err)
	results, err := json.Marshal(run.Results)
	require.NoError(t, err)
	counts := map[string]int{}
	for s, n := range run.Counts() {
		counts[string(s)] = n
	}
	require.NoError(t, e.RecordRun(ctx, duckenv.RunRecord{RunID: run.ID, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt,
		Status: string(run.Status), Invocation: "test build", NodeCounts: counts, Results: results}))
	return run
}

type fixture struct {
	srv     *httptest.Server
	e       *duckenv.Env
	auditor *env.MemoryAuditor
	failed  string
}

// newFixture builds the shop twice (the second time the mart fails) into
// a production database and serves the dashboard with two users: dba (an
// administrator) and ravi (a reader).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(t.TempDir(), "production.duckdb"), Name: "production", Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	build(t, e, shop(goodMart))
	failed := build(t, e, shop("select order_id,\n  no_such_column\nfrom {{ ref('stg_orders') }}\n"))
	require.Equal(t, orchestrate.StatusError, failed.Status)

	cfg, err := env.ParseConfig([]byte(`environments:
  production: {}
  staging: {}
principals:
  dba: {groups: [dba]}
  ravi: {groups: [business-users]}
`), "environments.yml")
	require.NoError(t, err)
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		require.NoError(t, err)
		return string(h)
	}
	users, err := dashboard.NewUsers(map[string]string{"dba": hash("dba-pw"), "ravi": hash("ravi-pw")}, cfg)
	require.NoError(t, err)
	p, err := project.Load(ctx, shop(goodMart), project.Options{})
	require.NoError(t, err)
	aud := &env.MemoryAuditor{}
	h, err := dashboard.New(dashboard.Options{
		Project:      p,
		Environments: []dashboard.Environment{{Name: "production", Env: e}, {Name: "staging"}},
		Auth:         users,
		Policy:       cfg.Policy(),
		Auditor:      aud,
		Prefix:       "/ui",
		Logger:       slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, e: e, auditor: aud, failed: failed.ID}
}

func (f *fixture) do(t *testing.T, method, path, user, pw string, form url.Values, hdr ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	require.NoError(t, err)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

func TestEveryPageRenders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/ui/", "/ui/runs", "/ui/runs?status=error&q=test", "/ui/runs/" + f.failed, "/ui/lineage",
		"/ui/lineage?select=%2Bmart_sales", "/ui/models/mart_sales", "/ui/models/stg_orders", "/ui/quality",
		"/ui/snapshots", "/ui/snapshots?a=1&b=2", "/ui/schedule", "/ui/static/style.css"} {
		code, body := f.do(t, "GET", path, "ravi", "ravi-pw", nil)
		assert.Equal(t, http.StatusOK, code, "%s: %s", path, body)
	}
	_, run := f.do(t, "GET", "/ui/runs/"+f.failed, "ravi", "ravi-pw", nil)
	assert.Contains(t, run, "models/mart_sales.sql:2", "the error points at the model's file and line")
	assert.Contains(t, run, `data-node="mart_sales" data-status="error"`)
	_, lin := f.do(t, "GET", "/ui/lineage", "ravi", "ravi-pw", nil)
	assert.Regexp(t, `href="/ui/models/mart_sales" data-node="mart_sales" data-status="error"><title>[^<]*</title><rect [^>]*fill="#ef9a9a"`, lin)
	_, model := f.do(t, "GET", "/ui/models/mart_sales", "ravi", "ravi-pw", nil)
	assert.Contains(t, model, "Sales per order.")
	assert.Contains(t, model, "finance")
	assert.Contains(t, model, `sum(amount)`, "rendered SQL")
	_, q := f.do(t, "GET", "/ui/quality", "ravi", "ravi-pw", nil)
	assert.Regexp(t, `(?s)<table id="duplicates">.*stg_orders.*<td>order_id</td><td>1</td>`, q, "one duplicate order id")
	_, diff := f.do(t, "GET", "/ui/snapshots?a=1&b=2", "ravi", "ravi-pw", nil)
	assert.Contains(t, diff, "<tr><td>stg_orders</td><td>changed</td>", "rebuilt and published")
	assert.NotContains(t, diff, "<tr><td>mart_sales</td>", "the failed mart was not published: same version")

	code, _ := f.do(t, "GET", "/ui/runs/nope", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = f.do(t, "GET", "/ui/models/nope", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusNotFound, code)
	code, body := f.do(t, "GET", "/ui/lineage?select=nope%2B%2B%2B", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusBadRequest, code, body)
	code, _ = f.do(t, "GET", "/ui/runs?env=qa", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusNotFound, code)
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	code, _ := f.do(t, "GET", "/ui/", "", "", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = f.do(t, "GET", "/ui/", "ravi", "wrong", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = f.do(t, "GET", "/ui/", "mallory", "ravi-pw", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	// Staging grants business users nothing.
	code, _ = f.do(t, "GET", "/ui/runs?env=staging", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusForbidden, code)
}

func TestRollbackIsForAdministratorsOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, page := f.do(t, "GET", "/ui/snapshots", "ravi", "ravi-pw", nil)
	assert.NotContains(t, page, "Roll back to", "a reader sees no button")
	readerToken := csrfRE.FindStringSubmatch(page)[1]
	code, _ := f.do(t, "GET", "/ui/rollback?to=1", "ravi", "ravi-pw", nil)
	assert.Equal(t, http.StatusForbidden, code)
	form := url.Values{"csrf": {readerToken}, "to": {"1"}, "confirm": {"yes"}}
	code, _ = f.do(t, "POST", "/ui/rollback", "ravi", "ravi-pw", form)
	assert.Equal(t, http.StatusForbidden, code, "a reader's POST")
	evs := f.auditor.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, env.AuditEvent{Time: evs[0].Time, Principal: "ravi", Environment: "production", Action: env.ActionAdmin,
		Object: "rollback to snapshot #1", Allowed: false, Result: evs[0].Result, Via: "dashboard"}, evs[0])

	_, page = f.do(t, "GET", "/ui/snapshots", "dba", "dba-pw", nil)
	assert.Contains(t, page, "Roll back to #1")
	token := csrfRE.FindStringSubmatch(page)[1]
	assert.NotEqual(t, readerToken, token, "tokens are per user")
	for name, c := range map[string]struct {
		form url.Values
		hdr  []string
	}{
		"no token":            {url.Values{"to": {"1"}, "confirm": {"yes"}}, nil},
		"another's token":     {url.Values{"csrf": {readerToken}, "to": {"1"}, "confirm": {"yes"}}, nil},
		"cross-origin":        {url.Values{"csrf": {token}, "to": {"1"}, "confirm": {"yes"}}, []string{"Origin", "https://evil.example"}},
		"cross-site fetch":    {url.Values{"csrf": {token}, "to": {"1"}, "confirm": {"yes"}}, []string{"Sec-Fetch-Site", "cross-site"}},
		"not confirmed (400)": {url.Values{"csrf": {token}, "to": {"1"}}, nil},
	} {
		code, _ := f.do(t, "POST", "/ui/rollback", "dba", "dba-pw", c.form, c.hdr...)
		want := http.StatusForbidden
		if strings.Contains(name, "400") {
			want = http.StatusBadRequest
		}
		assert.Equal(t, want, code, name)
	}
	latest, err := f.e.LatestSnapshotID(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), latest, "nothing was rolled back")

	code, confirm := f.do(t, "GET", "/ui/rollback?to=1", "dba", "dba-pw", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, confirm, `name="confirm"`)
	code, _ = f.do(t, "POST", "/ui/rollback", "dba", "dba-pw", url.Values{"csrf": {token}, "to": {"1"}, "confirm": {"yes"}},
		"Origin", f.srv.URL)
	assert.Equal(t, http.StatusSeeOther, code)
	sn, err := f.e.Snapshots().Get(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, snapshot.KindRollback, sn.Kind)
	assert.Equal(t, int64(1), sn.RestoredFrom)
	assert.Equal(t, "dba (dashboard)", sn.Actor)
	var ok bool
	for _, ev := range f.auditor.Events() {
		ok = ok || (ev.Principal == "dba" && ev.Allowed && ev.Result == "ok")
	}
	assert.True(t, ok, "the rollback's result is audited: %+v", f.auditor.Events())
	code, _ = f.do(t, "POST", "/ui/rollback", "dba", "dba-pw", url.Values{"csrf": {token}, "to": {"99"}, "confirm": {"yes"}})
	assert.Equal(t, http.StatusNotFound, code)
}

func TestNoSecretIsRendered(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/ui/", "/ui/snapshots", "/ui/runs/" + f.failed} {
		_, body := f.do(t, "GET", path, "dba", "dba-pw", nil)
		assert.NotContains(t, body, "$2a$", "no password hash")
		assert.NotContains(t, body, "dba-pw")
	}
}

func TestUsers(t *testing.T) {
	_, err := dashboard.NewUsers(map[string]string{"ravi": "plaintext"}, nil)
	assert.ErrorContains(t, err, `user "ravi": password hash is not a bcrypt hash`)
	dir := t.TempDir()
	bad := filepath.Join(dir, "users.yml")
	require.NoError(t, writeFile(bad, "users:\n  ravi: [1, 2]\n"))
	_, err = dashboard.LoadUsers(bad, nil)
	assert.ErrorContains(t, err, bad)
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	good := filepath.Join(dir, "good.yml")
	require.NoError(t, writeFile(good, "users:\n  asha: \""+string(h)+"\"\n"))
	u, err := dashboard.LoadUsers(good, nil)
	require.NoError(t, err)
	p, err := u.Authenticate(context.Background(), "asha", "pw")
	require.NoError(t, err)
	assert.Equal(t, env.Principal{Name: "asha", Groups: []string{"analytics-engineers"}}, p, "without environments.yml: an engineer")
	_, err = u.Authenticate(context.Background(), "asha", "nope")
	assert.ErrorIs(t, err, dashboard.ErrBadCredentials)
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// handlerAt serves the fixture's environment as dba with a clock and a
// timetable.
func handlerAt(t *testing.T, e *duckenv.Env, now time.Time, timetable string) http.Handler {
	t.Helper()
	p, err := project.Load(context.Background(), shop(goodMart), project.Options{})
	require.NoError(t, err)
	var cfg *schedule.Config
	if timetable != "" {
		cfg, err = schedule.ParseConfig([]byte(timetable), "schedules.yml")
		require.NoError(t, err)
	}
	me := env.Principal{Name: "dba", Groups: []string{"dba"}}
	h, err := dashboard.New(dashboard.Options{Project: p, Environments: []dashboard.Environment{{Name: "production", Env: e}},
		Anonymous: &me, Now: func() time.Time { return now }, Schedule: cfg, Location: time.UTC})
	require.NoError(t, err)
	return h
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

func TestModelChartsShowBaselineAndAnomalies(t *testing.T) {
	ctx := context.Background()
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(t.TempDir(), "production.duckdb"), Name: "production"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	// Five recorded runs of mart_sales: 10 ms four times, then 50 ms (5×
	// the baseline) with a third of the rows.
	for i, ms := range []int{10, 10, 10, 10, 50} {
		rows := 300
		if ms == 50 {
			rows = 100
		}
		res := fmt.Sprintf(`[{"unique_id":"mart_sales","resource_type":"model","status":"success","execution_time_ns":%d,"rows_affected":%d}]`, ms*int(time.Millisecond), rows)
		require.NoError(t, e.RecordRun(ctx, duckenv.RunRecord{RunID: fmt.Sprintf("r%d", i), StartedAt: t0.Add(time.Duration(i) * time.Hour),
			FinishedAt: t0.Add(time.Duration(i)*time.Hour + time.Minute), Status: "success", Results: []byte(res)}))
	}
	page := get(t, handlerAt(t, e, t0.Add(6*time.Hour), ""), "/models/mart_sales")
	assert.Contains(t, page, "baseline 10ms (median of 5 recent successes)")
	assert.Contains(t, page, `<span id="anomalies">1</span>`)
	assert.Equal(t, 2, strings.Count(page, `data-kind="anomaly"`), "the slow run, and its rows against a median of 300")
	assert.Equal(t, 2, strings.Count(page, `data-kind="baseline"`))
	assert.Contains(t, page, "5.0× the baseline")
}

func TestFreshnessAgainstDeadlines(t *testing.T) {
	f := newFixture(t)
	timetable := `timezone: UTC
jobs:
  - name: sales
    schedule: "0 5 * * *"
    select: ["+mart_sales"]
    deadline: "0 6 * * *"
`
	built := time.Now() // the fixture built just now
	// The same day: fresh, and green on the lineage.
	h := handlerAt(t, f.e, built.Add(time.Hour), timetable)
	ov := get(t, h, "/")
	assert.Regexp(t, `(?s)mart_sales</a></td><td>[^<]*</td><td>sales</td>.*?<span class="pill st-ok">fresh</span>`, ov)
	assert.Contains(t, get(t, h, "/lineage"), `data-node="stg_orders" data-status="success"><title>`)
	assert.Contains(t, get(t, h, "/schedule"), "<code>0 6 * * *</code>")
	// Three days later nothing was rebuilt: the deadline passed (late)
	// and the lineage marks the data stale.
	h = handlerAt(t, f.e, built.Add(72*time.Hour), timetable)
	assert.Regexp(t, `(?s)mart_sales</a></td>.*?<span class="pill st-bad">late</span>`, get(t, h, "/"))
	assert.Regexp(t, `data-node="stg_orders" data-status="stale"><title>[^<]*</title><rect [^>]*fill="#fff59d"`, get(t, h, "/lineage"))
}
