package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/internal/telemetry"
)

// screenshots, when set, is where the browser test writes its PNG
// screenshots (docs/images to refresh the README's pictures); by default
// they go to a temporary folder and are only checked to be PNGs.
var screenshots = flag.String("dashboard.screenshots", "", "write the dashboard's screenshots to this folder")

// dashboardTimetable is the daemon's timetable in the browser test: jobs
// far from now, so that only the test triggers runs.
const dashboardTimetable = `timezone: Asia/Kolkata
time_intervals:
  - name: low-traffic
    time_intervals:
      - times: [{start_time: "00:00", end_time: "05:00"}]
jobs:
  - name: daily-sales-report
    schedule: "0 5 * * *"
    select: ["+mart_daily_sales"]
    priority: high
    owner: finance-analytics
    deadline: "0 6 * * *"
  - name: inventory-management
    schedule: "45 4 * * *"
    select: ["+mart_inventory_status"]
    priority: critical
    owner: supply-chain
    deadline: "0 7 * * *"
  - name: campaigns
    schedule: "0 8 1 1 *"
    select: ["+mart_campaign_performance", "stg_customers"]
    priority: medium
  - name: backup
    operation: backup
    schedule: "15 0 * * *"
    windows: [low-traffic]
`

// dashboardDaemon builds the demo into a production database as the
// deployment pipeline (ci), runs a build in which mart_campaign_performance
// fails after three attempts, rolls back as the DBA, and starts `serve`
// with a users file (dba: admin, ravi: reader). It returns the daemon's
// base URL, the project folder and the failed run's id.
func dashboardDaemon(t *testing.T) (base, dir, failedRun string) {
	t.Helper()
	dir = t.TempDir()
	require.NoError(t, os.CopyFS(dir, demo.Project()))
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := cliRun(t, append(args, "--project", dir, "--target", "production")...)
		require.Contains(t, []int{0, 1}, code, out+errOut)
		return out
	}
	cli("generate", "--scale", "0.05", "--as", "ci")
	out := cli("build", "--as", "ci", "--as-of", "2026-01-01T06:00:00Z")
	require.Contains(t, out, "Published", out)

	// The campaign feed renames a column: the mart fails, retried fast.
	settings, err := os.ReadFile(filepath.Join(dir, "dataops.yml"))
	require.NoError(t, err)
	s := strings.Replace(string(settings), "retry_on: [transient, timeout, source_missing]", "retry_on: [transient, timeout, source_missing, permanent]", 1)
	s = strings.Replace(s, "    staging: {initial_delay: 2s}\n", "    staging: {initial_delay: 2s}\n  nodes:\n    mart_campaign_performance: {attempts: 3, initial_delay: 10ms, max_delay: 20ms}\n", 1)
	require.NotEqual(t, string(settings), s, "dataops.yml of the demo changed: update the test")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dataops.yml"), []byte(s), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "models/marts/mart_campaign_performance.sql"), []byte(
		"-- The campaign feed renamed a column.\nselect\n    c.campaign_id,\n    c.spend_inr_total\nfrom {{ ref('stg_campaigns') }} as c\n"), 0o644))
	out = cli("build", "--as", "ci", "--as-of", "2026-01-01T07:00:00Z")
	require.Contains(t, out, "3 attempts", out)
	code, hist, _ := cliRun(t, "history", "--project", dir, "--target", "production", "--as", "dba")
	require.Equal(t, 0, code)
	// The newest run is the failed one.
	for _, line := range strings.Split(hist, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.Contains(line, "error") {
			failedRun = f[0]
			break
		}
	}
	out = cli("snapshots", "rollback", "1", "--as", "dba")
	require.Contains(t, out, "Undo with", out)

	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		require.NoError(t, err)
		return string(h)
	}
	users := filepath.Join(t.TempDir(), "users.yml")
	require.NoError(t, os.WriteFile(users, []byte("users:\n  - name: dba\n    password_hash: \""+hash("dba-secret")+"\"\n    groups: [dba]\n"+
		"  - name: ravi\n    password_hash: \""+hash("ravi-secret")+"\"\n    groups: [business-users]\n"), 0o600))
	timetable := filepath.Join(t.TempDir(), "schedules.yml")
	require.NoError(t, os.WriteFile(timetable, []byte(dashboardTimetable), 0o644))

	d := startServe(t, "serve", "--project", dir, "--target", "production", "--as", "ci", "--addr", "127.0.0.1:0",
		"--users", users, "--config", timetable, "--as-of", "2026-01-01T08:00:00Z")
	t.Cleanup(func() { assert.Equal(t, 0, d.stop(), d.stderr.String()) })
	base = d.base
	return base, dir, failedRun
}

// browser starts headless Chromium (Debian's chromium, installed by
// .ci/run) with the flags this machine needs and a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	require.NoError(t, err, "the dashboard's browser test needs Debian's chromium: apt-get install chromium (.ci/run does)")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(bctx)) // start the browser
	return bctx
}

// tab opens a tab that sends user's basic credentials with every request.
func tab(t *testing.T, browserCtx context.Context, user, password string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
	require.NoError(t, err)
	// Bound every later action (not the first call, which owns the tab).
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

func TestDashboardInABrowser(t *testing.T) {
	base, dir, failedRun := dashboardDaemon(t)
	ui := base + "/ui"
	shots := *screenshots
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	bctx := browser(t)
	reader := tab(t, bctx, "ravi", "ravi-secret")
	admin := tab(t, bctx, "dba", "dba-secret")
	shot := func(t *testing.T, ctx context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()) // the viewport, 1400×1000
		require.NoError(t, err)
		require.True(t, len(png) > 1000 && string(png[1:4]) == "PNG", "screenshot %s is not a PNG", name)
		require.NoError(t, os.WriteFile(filepath.Join(shots, "dashboard-"+name+".png"), png, 0o644))
	}
	text := func(t *testing.T, ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}
	attr := func(t *testing.T, ctx context.Context, sel, name string) string {
		t.Helper()
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		require.NoError(t, err, sel)
		return a.Value
	}
	fill := func(t *testing.T, ctx context.Context, sel string) string {
		t.Helper()
		f, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(`+jsString(sel)+`)).fill`))
		require.NoError(t, err, sel)
		return f
	}
	open := func(t *testing.T, ctx context.Context, u, waitFor string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS(waitFor))), u)
	}
	click := func(t *testing.T, ctx context.Context, sel, waitFor string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(waitFor))), sel)
	}
	count := func(t *testing.T, ctx context.Context, sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
		require.NoError(t, err, sel)
		return n
	}

	t.Run("overview", func(t *testing.T) {
		open(t, admin, ui+"/", "#env-production")
		assert.Equal(t, "dba", text(t, admin, "#user"))
		// The failed mart keeps serving its previous version; its incident is open.
		assert.Equal(t, 1, count(t, admin, `#env-production tr.failed[data-node="mart_campaign_performance"]`))
		assert.Contains(t, text(t, admin, "#env-production"), "mart_campaign_performance")
		assert.NotEqual(t, "0", text(t, admin, "#incidents-production"))
		assert.Contains(t, text(t, admin, "#env-production"), "mart_inventory_status", "the critical mart and its deadline")
		assert.Contains(t, text(t, admin, "#env-staging"), "not served by this daemon")
		shot(t, admin, "overview")
	})

	t.Run("lineage: the failed model is red and links to its page", func(t *testing.T) {
		open(t, reader, ui+"/lineage?select="+url.QueryEscape("+mart_campaign_performance+"), "#lineage svg")
		box := `#lineage a[data-node="mart_campaign_performance"]`
		assert.Equal(t, "error", attr(t, reader, box, "data-status"))
		assert.Equal(t, "rgb(239, 154, 154)", fill(t, reader, box+" rect"), "red")
		// Upstream of it succeeded: green.
		assert.Equal(t, "rgb(200, 230, 201)", fill(t, reader, `#lineage a[data-node="stg_campaigns"] rect`), "green")
		assert.Equal(t, 3, count(t, reader, "#lineage a[data-node]"), "raw.campaigns → stg_campaigns → mart_campaign_performance")
		open(t, admin, ui+"/lineage", "#lineage svg")
		shot(t, admin, "lineage")

		click(t, reader, box, "#tests")
		assert.Equal(t, "mart_campaign_performance", text(t, reader, "h1"))
		assert.Equal(t, "marketing-analytics", text(t, reader, "#owner"))
		assert.Contains(t, text(t, reader, "#sql"), "spend_inr_total", "the rendered SQL")
		assert.Contains(t, text(t, reader, "#sql"), `"staging"."stg_campaigns"`, "ref() rendered")
	})

	t.Run("run timeline shows the three attempts and the error's file and line", func(t *testing.T) {
		open(t, reader, ui+"/runs?status=error", "#runs")
		assert.Equal(t, 1, count(t, reader, "#runs tr.run"), "one failed run")
		open(t, admin, ui+"/runs", "#runs")
		shot(t, admin, "runs")
		click(t, reader, "#runs tr.run a", "#gantt svg")
		assert.Equal(t, "Run "+failedRun, text(t, reader, "h1"))
		row := `#gantt g[data-node="mart_campaign_performance"]`
		assert.Equal(t, 3, count(t, reader, row+` rect[data-kind="attempt"]`), "three attempts")
		assert.Equal(t, 3, count(t, reader, row+` rect[data-kind="attempt"].g-bad`), "all failed")
		assert.Equal(t, 2, count(t, reader, row+` rect[data-kind="backoff"]`), "two backoffs between them")
		assert.Contains(t, text(t, reader, "#failures"), "models/marts/mart_campaign_performance.sql:4")
		assert.Greater(t, count(t, reader, `#gantt rect[data-kind="wait"]`), 0, "waiting time is drawn")
		open(t, admin, ui+"/runs/"+failedRun, "#gantt svg")
		// The failed model's row, in the middle of the picture.
		_, err := chromedp.Run(admin, chromedp.Evaluate[bool](`document.querySelector(`+jsString(row)+`).scrollIntoView({block: "center"}) === undefined`))
		require.NoError(t, err)
		shot(t, admin, "run")
	})

	t.Run("model, quality and schedule pages", func(t *testing.T) {
		open(t, admin, ui+"/models/mart_daily_sales", "#tests")
		assert.Contains(t, text(t, admin, "#description"), "Daily Sales Report")
		assert.Equal(t, 2, count(t, admin, ".charts svg"), "duration and row charts")
		assert.Equal(t, 2, count(t, admin, `#tests tr[data-test="unique_mart_daily_sales_order_date"] .tick`), "the test's two runs")
		shot(t, admin, "model")

		open(t, admin, ui+"/quality", "#duplicates")
		assert.Contains(t, text(t, admin, "#failing"), "stg_customers", "the warned unique test of phone numbers")
		assert.Contains(t, text(t, admin, "#duplicates"), "phone")
		shot(t, admin, "quality")

		open(t, admin, ui+"/schedule", "#jobs")
		jobs := text(t, admin, "#jobs")
		assert.Contains(t, jobs, "IST", "next runs in the timetable's local time")
		assert.Contains(t, jobs, "0 6 * * *", "deadline")
		assert.Contains(t, text(t, admin, "#windows"), "low-traffic")
		shot(t, admin, "schedule")
	})

	t.Run("rollback: no button for a reader, 403 for the reader's POST", func(t *testing.T) {
		open(t, reader, ui+"/snapshots", "#snapshots")
		assert.Equal(t, 3, count(t, reader, "#snapshots tr[data-snapshot]"))
		assert.Zero(t, count(t, reader, "a.rollback, form#rollback-form"), "no rollback for a reader")
		token := attr(t, reader, `meta[name="csrf-token"]`, "content")
		require.NotEmpty(t, token)
		post := func(user, pw, csrf string) int {
			req, err := http.NewRequest(http.MethodPost, ui+"/rollback", strings.NewReader(url.Values{"csrf": {csrf}, "to": {"2"}, "confirm": {"yes"}}.Encode()))
			require.NoError(t, err)
			req.SetBasicAuth(user, pw)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		assert.Equal(t, http.StatusForbidden, post("ravi", "ravi-secret", token), "a reader with a valid token")
		assert.Equal(t, http.StatusForbidden, post("dba", "dba-secret", token), "an administrator with another user's token (CSRF)")
		assert.Equal(t, http.StatusUnauthorized, post("ravi", "wrong", token))
		resp, err := chromedp.RunResponse(reader, chromedp.Navigate(ui+"/rollback?to=2"))
		require.NoError(t, err)
		assert.Equal(t, int64(http.StatusForbidden), resp.Status, "the confirmation page is refused too")
		assert.Contains(t, text(t, reader, "#error"), "administrators only")
	})

	t.Run("rollback works for an administrator, confirmed and audited", func(t *testing.T) {
		open(t, admin, ui+"/snapshots", "#snapshots")
		assert.Equal(t, 2, count(t, admin, "a.rollback"), "every snapshot but the current one")
		shot(t, admin, "snapshots")
		click(t, admin, `tr[data-snapshot="2"] a.rollback`, "#rollback-form")
		assert.Contains(t, text(t, admin, "#changes"), "mart_daily_sales", "the confirmation shows what changes")
		shot(t, admin, "rollback")
		require.NoError(t, chromedp.Do(admin, chromedp.Click(chromedp.CSS("#confirm"))))
		click(t, admin, "#do-rollback", "#done")
		assert.Contains(t, text(t, admin, "#done"), "snapshot #4")
		assert.Equal(t, 4, count(t, admin, "#snapshots tr[data-snapshot]"))
		row := text(t, admin, `tr[data-snapshot="4"]`)
		assert.Contains(t, row, "rollback to #2")
		assert.Contains(t, row, "dba (dashboard)")

		events, err := env.ReadAuditLog(filepath.Join(dir, "target", "production.audit.jsonl"))
		require.NoError(t, err)
		var dash []env.AuditEvent
		for _, ev := range events {
			if ev.Via == "dashboard" {
				dash = append(dash, ev)
			}
		}
		require.NotEmpty(t, dash)
		assert.True(t, slices.ContainsFunc(dash, func(ev env.AuditEvent) bool {
			return ev.Principal == "ravi" && !ev.Allowed && ev.Action == env.ActionAdmin
		}), "the reader's refused rollback is audited: %+v", dash)
		assert.True(t, slices.ContainsFunc(dash, func(ev env.AuditEvent) bool {
			return ev.Principal == "dba" && ev.Allowed && ev.Result == "ok" && ev.Object == "rollback to snapshot #2"
		}), "the rollback and its result are audited: %+v", dash)
	})

	t.Run("grafana dashboard uses only exported metrics", func(t *testing.T) {
		// A job run with retries and a warned test, so that the run,
		// node, scheduler and job metrics have samples.
		resp, err := http.Post(base+"/jobs/campaigns/run", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		var scrape string
		require.Eventually(t, func() bool {
			scrape = get(t, base+"/metrics")
			return strings.Contains(scrape, `dataops_job_runs_total{job="campaigns"`)
		}, 30*time.Second, 50*time.Millisecond)
		// The alert counters only have samples after deliveries; record
		// one of each through the code that exports them.
		m, err := telemetry.New("grafana-check")
		require.NoError(t, err)
		am, err := telemetry.NewAlertMetrics(m.Meter)
		require.NoError(t, err)
		am.Sent("slack", 1)
		am.ChannelFailed("slack")
		am.Dropped("alert")
		scrape += recordScrape(t, m)
		checkGrafanaMetrics(t, filepath.Join("..", "grafana", "dataops.json"), scrape)
	})
}

func recordScrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

var metricName = regexp.MustCompile(`\bdataops_[a-z0-9_]+`)

// checkGrafanaMetrics fails for every metric the Grafana dashboard queries
// that the scrape does not export, and for a dashboard that queries none.
func checkGrafanaMetrics(t *testing.T, path, scrape string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(data, &dash), path)
	exported := map[string]bool{}
	for _, line := range strings.Split(scrape, "\n") {
		if strings.HasPrefix(line, "dataops_") {
			exported[metricName.FindString(line)] = true
		}
	}
	used := 0
	check := func(where, expr string) {
		for _, name := range metricName.FindAllString(expr, -1) {
			used++
			assert.True(t, exported[name], "%s: %s uses %s, which the code does not export", path, where, name)
		}
	}
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			check("variable", q)
		}
	}
	assert.Greater(t, used, 12, "the dashboard queries the metrics")
	for _, want := range []string{"dataops_job_runs_total", "dataops_job_duration_seconds_bucket", "dataops_scheduler_events_total",
		"dataops_nodes_total", "dataops_node_duration_seconds_bucket", "dataops_node_rows_total", "dataops_node_retries_total",
		"dataops_test_failures_total", "dataops_runs_total", "dataops_model_freshness_lag_seconds", "dataops_alerts_sent_total",
		"dataops_alert_channel_failures_total"} {
		assert.Contains(t, string(data), want, "the Grafana dashboard should chart %s", want)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
