package monitor_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/schedule"
)

type collect struct {
	mu     sync.Mutex
	alerts []alert.Alert
}

func (c *collect) Send(_ context.Context, a alert.Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alerts = append(c.alerts, a)
	return nil
}

func (c *collect) byStatus(status string) map[string]alert.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]alert.Alert{}
	for _, a := range c.alerts {
		if a.Status() == status {
			out[string(a.Type)+":"+a.Labels["model"]+":"+a.Labels["test"]+a.Labels["resource"]] = a
		}
	}
	return out
}

func TestObserverAlertsFinalFailuresOnly(t *testing.T) {
	var attempts int
	var mu sync.Mutex
	flaky := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		mu.Lock()
		attempts++
		mu.Unlock()
		return orchestrate.Outcome{}, errors.New("IO Error: could not read block")
	})
	ok := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{RowsAffected: 10}, nil
	})
	failingTest := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{}, &orchestrate.TestFailure{Test: n.Name, Failures: 3}
	})
	p := orchestrate.NewPipeline(
		&orchestrate.Node{Name: "stg_orders", Kind: orchestrate.KindModel, Layer: "staging", Owner: "data-platform", Runner: ok},
		&orchestrate.Node{Name: "unique_stg_orders_id", Kind: orchestrate.KindTest, TestOf: "stg_orders", Deps: []string{"stg_orders"}, Owner: "data-platform", Runner: failingTest},
		&orchestrate.Node{Name: "fct_orders", Kind: orchestrate.KindModel, Layer: "facts", Owner: "analytics", Runner: flaky},
		&orchestrate.Node{Name: "mart_daily_sales", Kind: orchestrate.KindModel, Deps: []string{"fct_orders"}, Runner: ok},
	)
	c := &collect{}
	obs := &monitor.Observer{Alerter: c, Environment: "prod"}
	// stg_orders failed in an earlier process; mart_daily_sales never did.
	earlier := alert.Alert{Type: alert.TypeRunFailed, Title: "Model stg_orders failed",
		Labels: map[string]string{"environment": "prod", "model": "stg_orders", "layer": "staging", "team": "data-platform"}}
	obs.Track([]alert.Record{{ID: earlier.Fingerprint(), Alert: earlier}})
	run, err := orchestrate.Execute(context.Background(), p, orchestrate.Options{
		RunID:     "run-7",
		Recovery:  &recovery.Policy{Default: recovery.Backoff{Attempts: 3, InitialDelay: time.Millisecond, Multiplier: 1, MaxDelay: time.Millisecond}},
		Observers: []orchestrate.Observer{obs},
	})
	require.NoError(t, err)
	assert.Equal(t, 3, attempts, "retried")
	require.NotNil(t, run)

	firing := c.byStatus("firing")
	require.Len(t, firing, 2, "one alert for the failed model after 3 attempts, one for the test: %v", firing)
	f := firing["run_failed:fct_orders:"]
	assert.Equal(t, alert.SeverityHigh, f.Severity)
	assert.Equal(t, "Model fct_orders failed", f.Title)
	assert.Contains(t, f.Body, "IO Error: could not read block")
	assert.Contains(t, f.Body, "Gave up after 3 attempts")
	assert.Equal(t, map[string]string{"environment": "prod", "model": "fct_orders", "layer": "facts", "team": "analytics", "run_id": "run-7", "class": "transient"}, f.Labels)
	assert.Equal(t, recovery.DefaultRunbooks().For(recovery.ClassTransient), f.Runbook)

	tf := firing["test_failed:stg_orders:unique_stg_orders_id"]
	assert.Equal(t, alert.SeverityMedium, tf.Severity)
	assert.Equal(t, "Test unique_stg_orders_id failed: 3 failing rows", tf.Title)

	resolved := c.byStatus("resolved")
	require.Len(t, resolved, 1, "only what was firing is resolved: %v", resolved)
	assert.Equal(t, earlier.Fingerprint(), resolved["run_failed:stg_orders:"].Fingerprint(), "a success resolves the model's earlier failure")
	rate, tests := obs.TestFailureRate()
	assert.Equal(t, 1, tests)
	assert.Equal(t, 1.0, rate)

	// A later success of fct_orders resolves exactly the alert that fired.
	fix := orchestrate.NewPipeline(&orchestrate.Node{Name: "fct_orders", Kind: orchestrate.KindModel, Layer: "facts", Owner: "analytics", Runner: ok})
	_, err = orchestrate.Execute(context.Background(), fix, orchestrate.Options{RunID: "run-8", Observers: []orchestrate.Observer{obs}})
	require.NoError(t, err)
	r := c.byStatus("resolved")["run_failed:fct_orders:"]
	assert.Equal(t, f.Fingerprint(), r.Fingerprint())
}

func TestCriticalFallbackIsCritical(t *testing.T) {
	c := &collect{}
	obs := &monitor.Observer{Alerter: c, Environment: "prod"}
	fail := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{}, errors.New("Binder Error: column x not found")
	})
	p := orchestrate.NewPipeline(&orchestrate.Node{Name: "mart_daily_sales", Kind: orchestrate.KindModel, Critical: true, Runner: fail})
	_, err := orchestrate.Execute(context.Background(), p, orchestrate.Options{Recovery: recovery.PolicyFunc(func(context.Context, recovery.Failure) recovery.Decision {
		return recovery.Decision{Action: recovery.Fallback}
	}), Observers: []orchestrate.Observer{obs}})
	require.NoError(t, err)
	a := c.byStatus("firing")["run_failed:mart_daily_sales:"]
	assert.Equal(t, alert.SeverityCritical, a.Severity)
	assert.Contains(t, a.Title, "serving its last good version")
}

// history is an in-memory monitor.History.
type history []monitor.RunSummary

func (h history) Runs(_ context.Context, limit int) ([]monitor.RunSummary, error) {
	return h[:min(limit, len(h))], nil
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // a Wednesday

// runsOf makes one run per day back from now, newest first; node gives
// the node results of the run i days ago.
func runsOf(days int, node func(i int, at time.Time) []monitor.NodeRun) history {
	var h history
	for i := range days {
		at := now.Add(-time.Duration(i) * 24 * time.Hour).Add(-30 * time.Minute)
		h = append(h, monitor.RunSummary{RunID: "r", StartedAt: at, FinishedAt: at, Status: "success", Nodes: node(i, at)})
	}
	return h
}

func TestFreshness(t *testing.T) {
	h := history{{Nodes: []monitor.NodeRun{
		{Node: "fresh", Kind: "model", Status: "success", FinishedAt: now.Add(-30 * time.Minute)},
		{Node: "warm", Kind: "model", Status: "success", FinishedAt: now.Add(-90 * time.Minute)},
		{Node: "stale", Kind: "model", Status: "error", FinishedAt: now.Add(-10 * time.Minute)},
	}}, {Nodes: []monitor.NodeRun{
		{Node: "stale", Kind: "model", Status: "success", FinishedAt: now.Add(-3 * time.Hour)},
	}}}
	c := &collect{}
	ch := &monitor.Checker{Alerter: c, Environment: "prod", History: h,
		Models: []monitor.Model{{Name: "fresh"}, {Name: "warm"}, {Name: "stale", Owner: "analytics"}, {Name: "never"}}}
	rep, err := ch.Check(context.Background(), now)
	require.NoError(t, err)
	levels := map[string]monitor.Level{}
	for _, f := range rep.Freshness {
		levels[f.Name] = f.Level
	}
	assert.Equal(t, map[string]monitor.Level{"fresh": "ok", "warm": "warn", "stale": "error", "never": "never"}, levels)
	assert.InDelta(t, 1.0/3, rep.OnSchedule, 1e-9)
	firing := c.byStatus("firing")
	require.Len(t, firing, 2)
	assert.Equal(t, alert.SeverityHigh, firing["freshness:stale:"].Severity, "over 2 h: the seed's high")
	assert.Equal(t, "analytics", firing["freshness:stale:"].Labels["team"])
	assert.Contains(t, firing["freshness:stale:"].Title, "stale is stale: last built 3h0m0s ago (limit 2h0m0s)")
	assert.Equal(t, alert.SeverityMedium, firing["freshness:warm:"].Severity)
	assert.Contains(t, c.byStatus("resolved"), "freshness:fresh:")

	// Per-model thresholds.
	ch.Thresholds.Models = map[string]alert.Freshness{"fresh": {WarnAfter: 10 * time.Minute, ErrorAfter: 20 * time.Minute}}
	rep, err = ch.Evaluate(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, monitor.LevelError, rep.Freshness[0].Level)
}

func TestPerformanceBaseline(t *testing.T) {
	h := runsOf(12, func(i int, at time.Time) []monitor.NodeRun {
		d, tiny := 10*time.Second, time.Millisecond
		if i == 0 {
			d, tiny = 16*time.Second, 10*time.Millisecond // 160% and 1000%
		}
		return []monitor.NodeRun{
			{Node: "fct_orders", Kind: "model", Status: "success", FinishedAt: at, Duration: d, Rows: -1},
			{Node: "steady", Kind: "model", Status: "success", FinishedAt: at, Duration: 14 * time.Second, Rows: -1},
			{Node: "tiny", Kind: "model", Status: "success", FinishedAt: at, Duration: tiny, Rows: -1},
		}
	})
	c := &collect{}
	rep, err := (&monitor.Checker{Alerter: c, History: h}).Check(context.Background(), now)
	require.NoError(t, err)
	require.Len(t, rep.Perf, 3)
	assert.Equal(t, "fct_orders", rep.Perf[0].Model)
	assert.Equal(t, 10*time.Second, rep.Perf[0].Baseline)
	assert.Equal(t, 10, rep.Perf[0].Samples, "the last 10 successful runs")
	assert.InDelta(t, 1.6, rep.Perf[0].Ratio, 1e-9)
	firing := c.byStatus("firing")
	require.Len(t, firing, 1, "steady is at 100%%, tiny is under the minimum duration")
	assert.Equal(t, alert.SeverityLow, firing["performance:fct_orders:"].Severity)
	assert.Contains(t, firing["performance:fct_orders:"].Title, "160% of its baseline 10s")
}

func TestRowCountAnomalyWithWeekdaySeasonality(t *testing.T) {
	// Wednesdays usually have ~1000 rows, other days ~200: today's 1000 is
	// normal for a Wednesday, though far from the all-days mean.
	rows := func(i int, at time.Time, today int64) int64 {
		if i == 0 {
			return today
		}
		base := int64(200)
		if at.Weekday() == time.Wednesday {
			base = 1000
		}
		return base + int64(i%3)*10
	}
	check := func(today int64) (monitor.AnomalyStatus, map[string]alert.Alert) {
		h := runsOf(60, func(i int, at time.Time) []monitor.NodeRun {
			return []monitor.NodeRun{{Node: "fct_orders", Kind: "model", Status: "success", FinishedAt: at, Rows: rows(i, at, today)}}
		})
		c := &collect{}
		rep, err := (&monitor.Checker{Alerter: c, History: h}).Check(context.Background(), now)
		require.NoError(t, err)
		require.Len(t, rep.Anomalies, 1)
		return rep.Anomalies[0], c.byStatus("firing")
	}
	st, firing := check(1005)
	assert.True(t, st.Weekday)
	assert.Equal(t, 8, st.Samples, "the 8 earlier Wednesdays")
	assert.Less(t, math.Abs(st.Z), 3.0)
	assert.Empty(t, firing)

	st, firing = check(200) // normal on a Tuesday, not on a Wednesday
	assert.Less(t, st.Z, -3.0)
	require.Contains(t, firing, "anomaly:fct_orders:")
	assert.Equal(t, alert.SeverityMedium, firing["anomaly:fct_orders:"].Severity)
	assert.Contains(t, firing["anomaly:fct_orders:"].Body, "Wednesdays")

	z, mean, std := monitor.ZScore(5, []float64{5, 5, 5})
	assert.Equal(t, [3]float64{0, 5, 1}, [3]float64{z, mean, std}, "no spread: std floored at 1")
	z, _, _ = monitor.ZScore(6, []float64{5, 5, 5})
	assert.Equal(t, 1.0, z)
}

func TestAnomalyWithNoSpreadIsFinite(t *testing.T) {
	check := func(today int64) (monitor.AnomalyStatus, map[string]alert.Alert) {
		h := runsOf(10, func(i int, at time.Time) []monitor.NodeRun {
			rows := int64(1000) // the same every day
			if i == 0 {
				rows = today
			}
			return []monitor.NodeRun{{Node: "dim_regions", Kind: "model", Status: "success", FinishedAt: at, Rows: rows}}
		})
		c := &collect{}
		rep, err := (&monitor.Checker{Alerter: c, History: h}).Check(context.Background(), now)
		require.NoError(t, err)
		require.Len(t, rep.Anomalies, 1)
		return rep.Anomalies[0], c.byStatus("firing")
	}
	st, firing := check(1005)
	assert.False(t, math.IsInf(st.Z, 0))
	assert.InDelta(t, 0.5, st.Z, 1e-9, "std floored at 1% of the mean (10)")
	assert.Empty(t, firing, "5 more rows than always is not an anomaly")
	st, firing = check(1100)
	assert.InDelta(t, 10, st.Z, 1e-9)
	assert.Contains(t, firing, "anomaly:dim_regions:")
}

type usage schedule.Usage

func (u usage) Sample(context.Context) (schedule.Usage, error) { return schedule.Usage(u), nil }

func TestProcessCPU(t *testing.T) {
	var p monitor.ProcessCPU
	start := time.Now()
	first, err := p.Sample(start)
	require.NoError(t, err)
	assert.Equal(t, -1.0, first, "the first sample only starts measuring")
	// Burn CPU for a measured while: the share is positive and at most 1.
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i % 7
	}
	share, err := p.Sample(time.Now())
	require.NoError(t, err)
	assert.Greater(t, share, 0.0, x)
	assert.LessOrEqual(t, share, 1.0)
}

func TestResources(t *testing.T) {
	c := &collect{}
	ch := &monitor.Checker{Alerter: c, Environment: "prod", Resources: usage{CPU: 0.5, Memory: 0.95, DuckDBMemory: 0.91}, DiskPath: t.TempDir()}
	_, err := ch.Check(context.Background(), now.Add(-5*time.Minute))
	require.NoError(t, err)
	rep, err := ch.Check(context.Background(), now)
	require.NoError(t, err)
	names := map[string]float64{}
	for _, r := range rep.Resources {
		names[r.Name] = r.Used
	}
	assert.Len(t, names, 4)
	assert.Greater(t, names["disk"], 0.0)
	firing := c.byStatus("firing")
	assert.Contains(t, firing, "resource::memory")
	assert.Contains(t, firing, "resource::duckdb_memory")
	assert.NotContains(t, firing, "resource::cpu")
	assert.Equal(t, alert.SeverityCritical, firing["resource::memory"].Severity)
	assert.Equal(t, "Memory at 95% (limit 90%)", firing["resource::memory"].Title)
	assert.Contains(t, c.byStatus("resolved"), "resource::cpu")
}

type loaded map[string]time.Time

func (l loaded) LoadedAt(_ context.Context, schema, table, column string) (time.Time, bool, error) {
	t, ok := l[schema+"."+table+"."+column]
	return t, ok, nil
}

func TestSourceLagAndTestQuality(t *testing.T) {
	h := history{{Nodes: []monitor.NodeRun{
		{Node: "unique_fct_orders_order_id", Kind: "test", Status: "fail", Failures: 4},
		{Node: "not_null_fct_orders_order_id", Kind: "test", Status: "pass"},
		{Node: "accepted_values_x", Kind: "test", Status: "pass"},
		{Node: "skipped_test", Kind: "test", Status: "skipped"},
	}}}
	c := &collect{}
	rep, err := (&monitor.Checker{Alerter: c, History: h, LoadedAt: loaded{"raw.orders._loaded_at": now.Add(-5 * time.Hour)},
		Sources: []monitor.Source{{Name: "raw.orders", Schema: "raw", Table: "orders", Column: "_loaded_at"}}}).Check(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Tests)
	assert.InDelta(t, 1.0/3, rep.TestFailureRate, 1e-9)
	assert.Equal(t, map[string]int64{"unique_fct_orders_order_id": 4}, rep.Duplicates)
	firing := c.byStatus("firing")
	require.Contains(t, firing, "freshness:raw.orders:")
	assert.Contains(t, firing["freshness:raw.orders:"].Title, "source raw.orders is stale: newest row loaded 5h0m0s ago")
}

func TestParseResults(t *testing.T) {
	nodes, err := monitor.ParseResults([]byte(`[{"unique_id":"a","resource_type":"model","status":"success","execution_time_ns":2000000000,"rows_affected":5,"finished_at":"2026-11-25T10:00:00Z"},{"node":"pending","status":"pending"}]`))
	require.NoError(t, err)
	require.Len(t, nodes, 1)
	assert.Equal(t, 2*time.Second, nodes[0].Duration)
	assert.Equal(t, int64(5), nodes[0].Rows)
	_, err = monitor.ParseResults([]byte(`{`))
	assert.Error(t, err)
}

func TestScheduleAlert(t *testing.T) {
	due := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	a, ok := monitor.ScheduleAlert(schedule.Event{Type: schedule.EventDeadlineMissed, Job: "daily-sales", Due: due, Time: due}, "prod")
	require.True(t, ok)
	assert.Equal(t, alert.TypeDeadlineMissed, a.Type)
	assert.Equal(t, alert.SeverityHigh, a.Severity)
	assert.Equal(t, "Job daily-sales missed its deadline 2026-11-25 06:00 UTC", a.Title)
	assert.False(t, a.Resolved())
	met, ok := monitor.ScheduleAlert(schedule.Event{Type: schedule.EventDeadlineMet, Job: "daily-sales", Due: due, Time: due.Add(time.Hour), Detail: "late by 1h"}, "prod")
	require.True(t, ok)
	assert.True(t, met.Resolved())
	assert.Equal(t, a.Fingerprint(), met.Fingerprint(), "the met deadline resolves the missed one")
	_, ok = monitor.ScheduleAlert(schedule.Event{Type: schedule.EventStarted, Job: "x"}, "prod")
	assert.False(t, ok)
}

func TestStakeholderNotices(t *testing.T) {
	notices, err := monitor.NewNotices(`The {{.Model}} dashboard is delayed; data as of {{.AsOf.Format "15:04"}}.`, "")
	require.NoError(t, err)
	c := &collect{}
	obs := &monitor.Observer{Alerter: c, Environment: "prod", Notices: notices}
	built := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	fail := orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{}, errors.New("IO Error: disk full")
	})
	okRunner := orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{}, nil
	})
	mart := func(r orchestrate.Runner) orchestrate.Pipeline {
		return orchestrate.NewPipeline(
			&orchestrate.Node{Name: "mart_daily_sales", Kind: orchestrate.KindModel, Critical: true, Owner: "finance-analytics", Runner: r},
			&orchestrate.Node{Name: "dim_dates", Kind: orchestrate.KindModel, Runner: r}, // not critical: no notice
		)
	}
	opts := orchestrate.Options{
		Observers: []orchestrate.Observer{obs},
		Recovery: recovery.PolicyFunc(func(_ context.Context, f recovery.Failure) recovery.Decision {
			if f.Critical {
				return recovery.Decision{Action: recovery.Fallback}
			}
			return recovery.Decision{Action: recovery.Fail}
		}),
		LastGood: func(context.Context, string) (orchestrate.Serving, bool) {
			return orchestrate.Serving{RunID: "r0", BuiltAt: built}, true
		},
	}
	_, err = orchestrate.Execute(context.Background(), mart(fail), opts)
	require.NoError(t, err)
	firing := c.byStatus("firing")
	n, ok := firing[string(monitor.TypeNotice)+":mart_daily_sales:"]
	require.True(t, ok, "%v", firing)
	assert.Equal(t, "The mart_daily_sales dashboard is delayed; data as of 05:00.", n.Title)
	assert.NotContains(t, firing, string(monitor.TypeNotice)+":dim_dates:")

	_, err = orchestrate.Execute(context.Background(), mart(okRunner), opts)
	require.NoError(t, err)
	r := c.byStatus("resolved")[string(monitor.TypeNotice)+":mart_daily_sales:"]
	assert.True(t, r.Resolved())
	assert.Contains(t, r.Title, "mart_daily_sales is up to date again")
	assert.Equal(t, n.Fingerprint(), r.Fingerprint())

	_, err = monitor.NewNotices("{{.Modle}}", "")
	assert.ErrorContains(t, err, "delayed notice")
}

func TestFreshnessFromSchedule(t *testing.T) {
	daily := schedule.MustParseCron("0 2 * * *", time.UTC)
	hourly := schedule.MustParseCron("15 * * * *", time.UTC)
	weekdays := schedule.MustParseCron("0 9 * * 1-5", time.UTC)
	assert.Equal(t, 24*time.Hour, monitor.Interval(daily, now))
	assert.Equal(t, time.Hour, monitor.Interval(hourly, now))
	assert.Equal(t, 72*time.Hour, monitor.Interval(weekdays, now), "the weekend gap counts")

	built := func(ago time.Duration) monitor.NodeRun {
		return monitor.NodeRun{Kind: "model", Status: "success", FinishedAt: now.Add(-ago)}
	}
	var nodes []monitor.NodeRun
	for name, ago := range map[string]time.Duration{
		"fct_nightly": 20 * time.Hour, "fct_late": 25*time.Hour + 30*time.Minute, "stg_hourly": 90 * time.Minute,
		"adhoc": 30 * time.Hour, "adhoc_watched": 30 * time.Hour, "fct_override": 90 * time.Minute,
	} {
		n := built(ago)
		n.Node = name
		nodes = append(nodes, n)
	}
	c := &collect{}
	ch := &monitor.Checker{Alerter: c, Environment: "prod", History: history{{Nodes: nodes}}, ScheduledOnly: true,
		Thresholds: alert.Thresholds{Models: map[string]alert.Freshness{
			"adhoc_watched": {ErrorAfter: 48 * time.Hour},
			"fct_override":  {WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour},
		}},
		Models: []monitor.Model{
			{Name: "fct_nightly", Interval: 24 * time.Hour}, {Name: "fct_late", Interval: 24 * time.Hour},
			{Name: "stg_hourly", Interval: time.Hour}, {Name: "adhoc"}, {Name: "adhoc_watched"},
			{Name: "fct_override", Interval: 24 * time.Hour},
		}}
	rep, err := ch.Check(context.Background(), now)
	require.NoError(t, err)
	levels := map[string]monitor.Level{}
	th := map[string]alert.Freshness{}
	for _, f := range rep.Freshness {
		levels[f.Name], th[f.Name] = f.Level, f.Thresholds
	}
	assert.Equal(t, map[string]monitor.Level{
		"fct_nightly": "ok", "fct_late": "warn", "stg_hourly": "warn", "adhoc_watched": "warn", "fct_override": "warn",
	}, levels, "a model no job builds is not watched unless configured")
	assert.Equal(t, alert.Freshness{WarnAfter: 25 * time.Hour, ErrorAfter: 26 * time.Hour}, th["fct_nightly"], "nightly: interval + grace")
	assert.Equal(t, alert.Freshness{WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour}, th["stg_hourly"], "hourly keeps 1h/2h")
	assert.Equal(t, alert.Freshness{WarnAfter: time.Hour, ErrorAfter: 48 * time.Hour}, th["adhoc_watched"], "an override is merged with the defaults")
	assert.Equal(t, alert.Freshness{WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour}, th["fct_override"], "an explicit override wins")
	assert.NotContains(t, c.byStatus("firing"), "freshness:fct_nightly:")
	assert.NotContains(t, c.byStatus("firing"), "freshness:adhoc:")

	// The grace is configurable.
	ch.Thresholds.ScheduleGrace = alert.Freshness{WarnAfter: 30 * time.Minute, ErrorAfter: time.Hour}
	rep, err = ch.Evaluate(context.Background(), now)
	require.NoError(t, err)
	for _, f := range rep.Freshness {
		if f.Name == "fct_late" {
			assert.Equal(t, monitor.LevelError, f.Level, "25h30m > 24h + 1h")
			assert.Equal(t, alert.Freshness{WarnAfter: 24*time.Hour + 30*time.Minute, ErrorAfter: 25 * time.Hour}, f.Thresholds)
		}
	}
}

// samples is a Sampler returning its readings in turn (an error for a
// reading with a negative Memory).
type samples struct {
	mu   sync.Mutex
	list []schedule.Usage
}

func (s *samples) Sample(context.Context) (schedule.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.list[0]
	s.list = s.list[1:]
	if u.Memory < 0 {
		return schedule.Usage{}, errors.New("reading /proc/meminfo: permission denied")
	}
	return u, nil
}

func TestResourceFiresOnlyAfterItsForDuration(t *testing.T) {
	high, low := schedule.Usage{CPU: -1, Memory: 0.95}, schedule.Usage{CPU: -1, Memory: 0.5}
	s := &samples{list: []schedule.Usage{high, low, high, high, high, high, high, high}}
	c := &collect{}
	ch := &monitor.Checker{Alerter: c, Environment: "prod", Resources: s}
	firingAt := map[int]bool{}
	for i := range 8 { // one sample a minute
		c.alerts = nil
		_, err := ch.Check(context.Background(), now.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
		if _, ok := c.byStatus("firing")["resource::memory"]; ok {
			firingAt[i] = true
		}
	}
	// A spike at 0, a dip at 1, then above from 2: fires at 2+5 = 7.
	assert.Equal(t, map[int]bool{7: true}, firingAt, "a single sample above the limit is not an alert")
	c.alerts = nil
	ch.Thresholds.ResourceFor = 10 * time.Minute
	s.list = []schedule.Usage{high}
	_, err := ch.Check(context.Background(), now.Add(8*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, c.byStatus("firing"), "configurable")
}

func TestFailedResourceSampleDoesNotResolve(t *testing.T) {
	high := schedule.Usage{CPU: -1, Memory: 0.95}
	s := &samples{list: []schedule.Usage{high, high, {Memory: -1}}}
	c := &collect{}
	ch := &monitor.Checker{Alerter: c, Environment: "prod", Resources: s, Thresholds: alert.Thresholds{ResourceFor: time.Minute}}
	_, err := ch.Check(context.Background(), now)
	require.NoError(t, err)
	_, err = ch.Check(context.Background(), now.Add(time.Minute))
	require.NoError(t, err)
	require.Contains(t, c.byStatus("firing"), "resource::memory")
	c.alerts = nil
	rep, err := ch.Check(context.Background(), now.Add(2*time.Minute))
	require.Error(t, err, "the failed reading is reported")
	assert.Empty(t, rep.Resources, "no reading, no status")
	assert.Empty(t, c.byStatus("resolved"), "a failed reading resolves nothing")
}

func TestDuplicatesCountSourceUniqueTests(t *testing.T) {
	h := history{{Nodes: []monitor.NodeRun{
		{Node: "unique_fct_orders_order_id", Kind: "test", Status: "fail", Failures: 4},
		{Node: "source_unique_shop_orders_id", Kind: "test", Status: "fail", Failures: 2},
		{Node: "source_not_null_shop_orders_id", Kind: "test", Status: "fail", Failures: 9},
	}}}
	rep, err := (&monitor.Checker{History: h}).Evaluate(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"unique_fct_orders_order_id": 4, "source_unique_shop_orders_id": 2}, rep.Duplicates)
}
