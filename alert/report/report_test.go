package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	"github.com/vyaparbazaar/dataops/alert/report"
	"github.com/vyaparbazaar/dataops/recovery/incident"
)

var monday = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

func TestWeekly(t *testing.T) {
	var runs []monitor.RunSummary
	for day := range 7 {
		for hour := range []int{2, 14} {
			at := monday.Add(time.Duration(day)*24*time.Hour + time.Duration(2+12*hour)*time.Hour)
			status, revStatus, class := "success", "success", ""
			if day == 3 && hour == 0 {
				status, revStatus, class = "error", "error", "permanent"
			}
			d := 10 * time.Second
			if day >= 4 {
				d = 15 * time.Second // slower in the second half
			}
			runs = append(runs, monitor.RunSummary{RunID: "r", StartedAt: at, FinishedAt: at.Add(time.Minute), Status: status, Nodes: []monitor.NodeRun{
				{Node: "fct_orders", Kind: "model", Status: revStatus, Duration: d, Class: class},
				{Node: "stg_orders", Kind: "model", Status: "success", Duration: time.Second},
				{Node: "unique_fct_orders_id", Kind: "test", Status: map[bool]string{true: "fail", false: "pass"}[day == 5 && hour == 1], Class: "test_failure"},
			}})
		}
	}
	runs = append(runs, monitor.RunSummary{StartedAt: monday.Add(-time.Hour), Status: "error"}) // last week: ignored
	deadline := alert.Alert{Type: alert.TypeDeadlineMissed, Title: "Job daily-sales missed its deadline 2026-11-19 06:00 UTC <b>"}
	w := report.Build(report.Inputs{
		Environment: "prod", From: monday, To: monday.Add(7 * 24 * time.Hour), Runs: runs,
		Owners: map[string]string{"fct_orders": "analytics"},
		Incidents: []incident.Incident{
			{ID: "INC-20261119-0001", OpenedAt: monday.Add(3 * 24 * time.Hour), ResolvedAt: monday.Add(3*24*time.Hour + 12*time.Hour), Status: "resolved", Models: []string{"fct_orders"}, Class: "permanent", Owner: "analytics", Severity: "high"},
			{ID: "INC-20261101-0001", OpenedAt: monday.Add(-15 * 24 * time.Hour), Status: "open"},
		},
		Alerts:    []alert.Record{{ID: "a", Alert: deadline, FirstSeen: monday.Add(3 * 24 * time.Hour)}},
		Freshness: &monitor.Report{OnSchedule: 0.5, Freshness: []monitor.FreshnessStatus{{Name: "mart_daily_sales", Level: monitor.LevelError, Age: 3 * time.Hour}}},
	})
	assert.Equal(t, 14, w.Runs)
	assert.Equal(t, []report.Count{{"success", 13}, {"error", 1}}, w.Outcomes)
	require.Len(t, w.Days, 7)
	assert.Equal(t, "2026-11-19 Thu", w.Days[3].Date)
	assert.Equal(t, 1, w.Days[3].Failed)
	assert.Equal(t, 14, w.Tests)
	assert.Equal(t, 1, w.TestFailures)
	require.NotEmpty(t, w.Slowest)
	assert.Equal(t, "fct_orders", w.Slowest[0].Model)
	assert.InDelta(t, 1.5, w.Slowest[0].Trend, 1e-9, "the second half is 50% slower")
	assert.Len(t, w.Opened, 1)
	assert.Len(t, w.Resolved, 1)
	assert.Equal(t, []report.Count{{"permanent", 1}, {"test_failure", 1}}, w.ByClass)
	assert.Equal(t, []report.Count{{"fct_orders", 1}, {"unique_fct_orders_id", 1}}, w.ByModel)
	assert.Equal(t, []report.Count{{"(no owner)", 1}, {"analytics", 1}}, w.ByOwner)

	md, err := w.Markdown()
	require.NoError(t, err)
	for _, want := range []string{
		"# Weekly data status: prod, 2026-11-16 to 2026-11-23",
		"14 runs: success 13; error 1;",
		"| 2026-11-19 Thu | 2 | 1 | 1m0s |",
		"50.0% of models and sources on schedule. Stale: mart_daily_sales (error, 3h0m0s old).",
		"14 test runs, 1 failed (7.1%).",
		"| fct_orders | 10s | 15s | 13 | +50% |",
		"- INC-20261119-0001 (high, permanent, owner analytics): fct_orders — resolved",
		"By owner: (no owner) 1; analytics 1;",
		"- Job daily-sales missed its deadline",
	} {
		assert.Contains(t, md, want)
	}
	html, err := w.HTML()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(html, "<!DOCTYPE html>"))
	assert.Contains(t, html, "<td>fct_orders</td><td>10s</td>")
	assert.Contains(t, html, "2026-11-19 06:00 UTC &lt;b&gt;", "escaped")
}
