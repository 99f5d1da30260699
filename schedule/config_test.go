package schedule_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/schedule"
)

// ctLoad parses a schedules file and validates it against a pipeline that
// knows every selector but those containing "unknown".
func ctLoad(src string) (*schedule.Config, error) {
	cfg, err := schedule.ParseConfig([]byte(src), "schedules.yml")
	if err != nil {
		return nil, err
	}
	return cfg, cfg.Validate(func(sel string) error {
		if strings.Contains(sel, "unknown") {
			return fmt.Errorf("matches no node")
		}
		return nil
	})
}

const ctExample = `timezone: Asia/Kolkata
defaults: {overlap: skip, catch_up: once, timeout: 2h, pool: default}
pools: {default: 2, heavy: 1}
max_concurrency: 2
resource_threshold: 0.9
time_intervals:
  - name: low-traffic
    time_intervals:
      - times: [{start_time: "01:00", end_time: "05:00"}]
        weekdays: ["monday:friday"]
        location: Asia/Kolkata
jobs:
  - name: staging
    schedule: "15 * * * *"
    select: ["path:models/staging"]
    refresh: incremental
    priority: medium
    owner: data-platform
  - name: financial-reporting
    schedule: "0 23 L * *"
    select: ["+mart_financial_metrics"]
    priority: high
    deadline: "0 9 1 * *"
  - name: production-backup
    operation: backup
    schedule: "30 1 * * *"
    windows: [low-traffic]
    overlap: queue
    catch_up: none
    pool: heavy
    timeout: 45m
    stagger: 30s
`

func TestParseConfig(t *testing.T) {
	cfg, err := ctLoad(ctExample)
	require.NoError(t, err)
	ist := ctZone(t, "Asia/Kolkata")
	assert.Equal(t, "Asia/Kolkata", cfg.Location.String())
	assert.Equal(t, map[string]int{"default": 2, "heavy": 1}, cfg.Pools)
	assert.Equal(t, 2, cfg.MaxConcurrency)
	assert.Equal(t, 0.9, cfg.ResourceThreshold)

	require.Contains(t, cfg.Windows, "low-traffic")
	w := cfg.Windows["low-traffic"]
	assert.Equal(t, "low-traffic", w.Name)
	require.Len(t, w.Intervals, 1)
	assert.Equal(t, []schedule.TimeRange{{Start: 60, End: 300}}, w.Intervals[0].Times)
	assert.Equal(t, []schedule.WeekdayRange{{Start: time.Monday, End: time.Friday}}, w.Intervals[0].Weekdays)
	assert.Equal(t, "Asia/Kolkata", w.Intervals[0].Location.String())
	assert.Len(t, cfg.WindowMap(), 1)

	require.Len(t, cfg.Jobs, 3)
	st := cfg.Job("staging")
	require.NotNil(t, st)
	assert.Equal(t, "15 * * * *", st.Spec)
	assert.Equal(t, []string{"path:models/staging"}, st.Select)
	assert.Equal(t, schedule.RefreshIncremental, st.Refresh)
	assert.Equal(t, orchestrate.PriorityMedium, st.Priority)
	assert.Equal(t, "data-platform", st.Owner)
	// The defaults.
	assert.Equal(t, schedule.OverlapSkip, st.Overlap)
	assert.Equal(t, schedule.CatchUpOnce, st.CatchUp)
	assert.Equal(t, 2*time.Hour, st.Timeout)
	assert.Equal(t, "default", st.Pool)
	assert.Equal(t, "2026-11-14 11:15 IST", st.Schedule.Next(time.Date(2026, 11, 14, 11, 0, 0, 0, ist)).Format("2006-01-02 15:04 MST"))

	fin := cfg.Job("financial-reporting")
	require.NotNil(t, fin)
	assert.Equal(t, orchestrate.PriorityHigh, fin.Priority)
	assert.Equal(t, schedule.Refresh(""), fin.Refresh)
	assert.Equal(t, "0 9 1 * *", fin.DeadlineSpec)
	require.NotNil(t, fin.Deadline)
	assert.Equal(t, "2026-11-30 23:00 IST", fin.Schedule.Next(time.Date(2026, 11, 14, 0, 0, 0, 0, ist)).Format("2006-01-02 15:04 MST"))
	assert.Equal(t, "2026-12-01 09:00 IST", fin.Deadline.Next(time.Date(2026, 11, 14, 0, 0, 0, 0, ist)).Format("2006-01-02 15:04 MST"))

	bk := cfg.Job("production-backup")
	require.NotNil(t, bk)
	assert.Equal(t, "backup", bk.Operation)
	assert.Empty(t, bk.Select)
	assert.Equal(t, []string{"low-traffic"}, bk.Windows)
	assert.Equal(t, schedule.OverlapQueue, bk.Overlap)
	assert.Equal(t, schedule.CatchUpNone, bk.CatchUp)
	assert.Equal(t, "heavy", bk.Pool)
	assert.Equal(t, 45*time.Minute, bk.Timeout)
	assert.Equal(t, 30*time.Second, bk.Stagger)
	assert.Nil(t, cfg.Job("nope"))
}

func TestParseConfigMinimal(t *testing.T) {
	cfg, err := ctLoad("jobs:\n  - name: a\n    schedule: '@hourly'\n    select: a\n")
	require.NoError(t, err)
	assert.Equal(t, time.UTC, cfg.Location)
	require.Len(t, cfg.Jobs, 1)
	assert.Equal(t, []string{"a"}, cfg.Jobs[0].Select, "one selector as a string")
	assert.Equal(t, "", cfg.Jobs[0].Pool)
	assert.Equal(t, schedule.OverlapSkip, cfg.Jobs[0].Overlap)
	assert.Equal(t, schedule.CatchUpOnce, cfg.Jobs[0].CatchUp)
	assert.Zero(t, cfg.MaxConcurrency)
	assert.Zero(t, cfg.ResourceThreshold)

	cfg, err = ctLoad("")
	require.NoError(t, err)
	assert.Empty(t, cfg.Jobs)
}

// TestParseConfigErrors checks every refusal, each located in the file.
func TestParseConfigErrors(t *testing.T) {
	const job = "jobs:\n  - name: a\n    schedule: \"0 * * * *\"\n    select: [x]\n" // lines 1-4 (+n)
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"malformed cron", "jobs:\n  - name: a\n    schedule: \"61 * * * *\"\n    select: [x]\n",
			[]string{`schedules.yml:3: job "a": schedule: cron "61 * * * *": minute: 61 is out of range 0-59`}},
		{"a cron never due", "jobs:\n  - name: a\n    schedule: \"0 0 31 2 *\"\n    select: [x]\n",
			[]string{`schedules.yml:3: job "a": schedule: cron "0 0 31 2 *": is never due`}},
		{"unknown timezone", "timezone: Asia/Bombay2\n" + job,
			[]string{`schedules.yml:1: timezone: unknown time zone "Asia/Bombay2"`}},
		{"Local is no timezone", "timezone: Local\n" + job,
			[]string{`schedules.yml:1: timezone: "Local": write an IANA name`}},
		{"unknown job timezone", job + "    timezone: Mars/Olympus\n",
			[]string{`schedules.yml:5: job "a": timezone: unknown time zone "Mars/Olympus"`}},
		{"unknown window", job + "    windows: [nights]\n",
			[]string{`schedules.yml:5: job "a": windows: unknown window "nights" (time_intervals: none defined)`}},
		{"unknown blackout", "time_intervals:\n  - name: w\n    time_intervals: [{}]\n" + job + "    blackouts:\n      - freeze\n",
			[]string{`schedules.yml:9: job "a": blackouts: unknown window "freeze" (time_intervals: w)`}},
		{"a window that never opens",
			"time_intervals:\n  - name: feb30\n    time_intervals:\n      - days_of_month: [\"30\"]\n        months: [february]\n" + job,
			[]string{`schedules.yml:2: time_intervals "feb30": the window never opens (not within a year of `}},
		{"a window in the past",
			"time_intervals:\n  - name: diwali-2024\n    time_intervals:\n      - years: [\"2024\"]\n" + job,
			[]string{`schedules.yml:2: time_intervals "diwali-2024": the window never opens`}},
		{"the job would never run", `time_intervals:
  - name: low-traffic
    time_intervals:
      - times: [{start_time: "01:00", end_time: "05:00"}]
jobs:
  - name: noon
    schedule: "0 12 * * *"
    select: [x]
    windows: [low-traffic]
`, []string{`schedules.yml:9: job "noon": the job would never run: none of its due times (0 12 * * *) in the next year is inside window "low-traffic"`}},
		{"the brief's backup at 00:30 with a 01:00-05:00 window would never run", `timezone: Asia/Kolkata
time_intervals:
  - name: low-traffic
    time_intervals:
      - times: [{start_time: "01:00", end_time: "05:00"}]
jobs:
  - name: production-backup
    operation: backup
    schedule: "30 0 * * *"
    windows: [low-traffic]
`, []string{`schedules.yml:10: job "production-backup": the job would never run`}},
		{"a blackout covering every due time", `time_intervals:
  - name: weekends
    time_intervals:
      - weekdays: [saturday, sunday]
jobs:
  - name: sat
    schedule: "0 9 * * 6"
    select: [x]
    blackouts: [weekends]
`, []string{`schedules.yml:9: job "sat": the job would never run: none of its due times (0 9 * * 6) in the next year is outside the blackouts "weekends"`}},
		{"duplicate job names", job + "  - name: a\n    schedule: \"5 * * * *\"\n    select: [y]\n",
			[]string{`schedules.yml:5: job "a": duplicate name (first on line 2)`}},
		{"duplicate window names", "time_intervals:\n  - name: w\n    time_intervals: [{}]\n  - name: w\n    time_intervals: [{}]\n" + job,
			[]string{`schedules.yml:4: time_intervals "w": duplicate name (first on line 2)`}},
		{"a window without a name", "time_intervals:\n  - time_intervals:\n      - location: UTC\n" + job,
			[]string{`schedules.yml:3: time_intervals: an entry has no name`}},
		{"unknown priority", job + "    priority: urgent\n",
			[]string{`schedules.yml:5: job "a": priority: unknown priority "urgent" (want critical, high, medium or low)`}},
		{"unknown refresh", job + "    refresh: partial\n",
			[]string{`schedules.yml:5: job "a": refresh: unknown refresh "partial" (want incremental or full)`}},
		{"unknown overlap", job + "    overlap: merge\n",
			[]string{`schedules.yml:5: job "a": overlap: unknown policy "merge" (want skip, queue or cancel)`}},
		{"unknown catch_up", job + "    catch_up: twice\n",
			[]string{`schedules.yml:5: job "a": catch_up: unknown policy "twice" (want once, all or none)`}},
		{"a deadline without a schedule", "jobs:\n  - name: a\n    select: [x]\n    deadline: \"0 6 * * *\"\n",
			[]string{`schedules.yml:4: job "a": a deadline without a schedule`}},
		{"no schedule", "jobs:\n  - name: a\n    select: [x]\n",
			[]string{`schedules.yml:2: job "a": no schedule`}},
		{"malformed deadline", job + "    deadline: \"0 6 * *\"\n",
			[]string{`schedules.yml:5: job "a": deadline: cron "0 6 * *": want 5 fields`}},
		{"no name", "jobs:\n  - schedule: \"0 * * * *\"\n    select: [x]\n",
			[]string{`schedules.yml:2: jobs[0]: no name`}},
		{"nothing to run", "jobs:\n  - name: a\n    schedule: \"0 * * * *\"\n",
			[]string{`schedules.yml:2: job "a": nothing to run (want select: [selectors] or operation: name)`}},
		{"an operation and a selection", job + "    operation: backup\n",
			[]string{`schedules.yml:5: job "a": both an operation and a selection`}},
		{"refresh of an operation", "jobs:\n  - name: a\n    schedule: \"0 * * * *\"\n    operation: backup\n    refresh: full\n",
			[]string{`schedules.yml:5: job "a": refresh applies to selections, not to operation "backup"`}},
		{"unknown pool", "pools: {heavy: 1}\n" + job + "    pool: huge\n",
			[]string{`schedules.yml:6: job "a": pool: unknown pool "huge" (pools: heavy)`}},
		{"bad timeout", job + "    timeout: 2 hours\n",
			[]string{`schedules.yml:5: job "a": timeout: "2 hours": want a duration such as 2h, 90m or 30s`}},
		{"negative stagger", job + "    stagger: -1m\n",
			[]string{`schedules.yml:5: job "a": stagger: "-1m": negative`}},
		{"bad pool size", "pools:\n  heavy: 0\n" + job,
			[]string{`schedules.yml:2: pools: "heavy": want at least 1 job at a time, got 0`}},
		{"bad max_concurrency", "max_concurrency: -1\n" + job,
			[]string{`schedules.yml:1: max_concurrency: want at least 1 (or unset), got -1`}},
		{"bad resource_threshold", "resource_threshold: 1.5\n" + job,
			[]string{`schedules.yml:1: resource_threshold: want a share in (0, 1] such as 0.9, got 1.5`}},
		{"bad time range", "time_intervals:\n  - name: w\n    time_intervals:\n      - times:\n          - start_time: \"05:00\"\n            end_time: \"01:00\"\n" + job,
			[]string{`schedules.yml:5: time_intervals "w": time_intervals[0]: times: start_time 05:00 is not before end_time 01:00`}},
		{"bad weekday range", "time_intervals:\n  - name: w\n    time_intervals:\n      - weekdays: [monday, \"saturday:sunday\"]\n" + job,
			[]string{`schedules.yml:4: time_intervals "w": time_intervals[0]: weekdays: "saturday:sunday": the range ends before it starts`}},
		{"bad days of month", "time_intervals:\n  - name: w\n    time_intervals:\n      - days_of_month:\n          - 1\n          - \"0\"\n" + job,
			[]string{`schedules.yml:6: time_intervals "w": time_intervals[0]: days_of_month: 0:0: want days in 1..31 or -31..-1`}},
		{"bad month", "time_intervals:\n  - name: w\n    time_intervals:\n      - months: [janvier]\n" + job,
			[]string{`schedules.yml:4: time_intervals "w": time_intervals[0]: months: "janvier": want a month`}},
		{"unknown interval location", "time_intervals:\n  - name: w\n    time_intervals:\n      - location: Asia/Nowhere\n" + job,
			[]string{`schedules.yml:4: time_intervals "w": time_intervals[0]: location: unknown time zone "Asia/Nowhere"`}},
		{"a bad default is reported once", "defaults:\n  overlap: merge\n" + job + "  - name: b\n    schedule: \"5 * * * *\"\n    select: [y]\n",
			[]string{`schedules.yml:2: defaults: overlap: unknown policy "merge" (want skip, queue or cancel)`}},
		{"a bad default pool", "defaults: {pool: huge}\n" + job,
			[]string{`schedules.yml:1: defaults: pool: unknown pool "huge" (pools: none defined)`}},
		{"a selection matching nothing", "jobs:\n  - name: a\n    schedule: \"0 * * * *\"\n    select:\n      - \"+mart_daily_sales\"\n      - mart_unknown\n",
			[]string{`schedules.yml:6: job "a": select "mart_unknown": matches no node`}},
		{"an unknown key", job + "    schedul: \"0 * * * *\"\n",
			[]string{`schedules.yml:5: unknown field "schedul"`}},
		{"a wrong type", "pools: {default: two}\n" + job,
			[]string{`schedules.yml:1: `}},
		{"a YAML syntax error", "jobs:\n  - name: a\n    schedule: \"0 * * * *\n",
			[]string{`schedules.yml:3: `}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ctLoad(tc.src)
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tc.want), err.Error())
			for i, w := range tc.want {
				assert.True(t, strings.HasPrefix(lines[i], w), "got  %s\nwant %s...", lines[i], w)
			}
			var ce *schedule.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "schedules.yml", ce.File)
			assert.Positive(t, ce.Line)
		})
	}
}

// TestParseConfigCollectsAllErrors checks that the problems are reported
// together, in file order.
func TestParseConfigCollectsAllErrors(t *testing.T) {
	src := `timezone: Asia/Kolkata
jobs:
  - name: a
    schedule: "0 25 * * *"
    select: [x]
  - name: b
    schedule: "0 1 * * *"
    select: [y]
    priority: urgent
    windows: [nights]
  - name: a
    schedule: "0 2 * * *"
    select: [z]
`
	_, err := schedule.ParseConfig([]byte(src), "schedules.yml")
	require.Error(t, err)
	assert.Equal(t, `schedules.yml:4: job "a": schedule: cron "0 25 * * *": hour: 25 is out of range 0-23
schedules.yml:9: job "b": priority: unknown priority "urgent" (want critical, high, medium or low)
schedules.yml:10: job "b": windows: unknown window "nights" (time_intervals: none defined)
schedules.yml:11: job "a": duplicate name (first on line 3)`, err.Error())
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined)
	for _, e := range joined.Unwrap() {
		var ce *schedule.ConfigError
		require.True(t, errors.As(e, &ce))
		assert.Equal(t, "schedules.yml", ce.File)
	}
}

// TestValidateBuiltInCode checks a Config built without a file.
func TestValidateBuiltInCode(t *testing.T) {
	never := &schedule.Window{Name: "never"}
	nights := &schedule.Window{Name: "nights", Intervals: []schedule.Interval{{Times: []schedule.TimeRange{{Start: 60, End: 300}}}}}
	bad := &schedule.Window{Name: "bad", Intervals: []schedule.Interval{{Times: []schedule.TimeRange{{Start: 300, End: 60}}}}}
	cfg := &schedule.Config{
		Windows: map[string]*schedule.Window{"never": never, "nights": nights, "bad": bad},
		Jobs: []*schedule.Job{
			{Name: "a", Select: []string{"x"}},
			{Name: "b", Schedule: schedule.MustParseCron("0 12 * * *", nil), Spec: "0 12 * * *", Select: []string{"y"}, Windows: []string{"nights"}},
			{Name: "c", Schedule: schedule.MustParseCron("0 2 * * *", nil), Select: []string{"unknown_model"}, Overlap: "sometimes", Priority: 9},
			{Name: "d", Schedule: schedule.MustParseCron("0 2 * * *", nil), Operation: "backup", Windows: []string{"never"}, Timeout: -time.Second},
		},
	}
	err := cfg.Validate(func(sel string) error {
		if strings.HasPrefix(sel, "unknown") {
			return errors.New("no such model")
		}
		return nil
	})
	require.Error(t, err)
	assert.Equal(t, `time_intervals "bad": time_intervals[0]: times: 05:00-01:00: want 00:00 ≤ start < end ≤ 24:00
time_intervals "never": the window never opens (not within a year of `+time.Now().UTC().Format("2006-01-02")+`)
job "a": no schedule (want a cron such as "15 * * * *" or @daily)
job "b": the job would never run: none of its due times (0 12 * * *) in the next year is inside window "nights"
job "c": overlap: unknown policy "sometimes" (want skip, queue or cancel)
job "c": priority: unknown priority 9
job "c": select "unknown_model": no such model
job "d": timeout: negative (-1s)`, err.Error())

	require.NoError(t, (&schedule.Config{}).Validate(nil))
}

// ctDemo reads the demo timetable.
func ctDemo(t *testing.T) *schedule.Config {
	t.Helper()
	path := filepath.Join("..", "examples", "vyaparbazaar", "demo", "project", "schedules.yml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg, err := schedule.ParseConfig(data, "schedules.yml")
	require.NoError(t, err)
	return cfg
}

func TestDemoTimetable(t *testing.T) {
	cfg := ctDemo(t)
	var seen []string
	require.NoError(t, cfg.Validate(func(sel string) error {
		seen = append(seen, sel)
		return nil
	}))
	assert.Equal(t, []string{
		"resource_type:source", "path:models/staging", "path:models/intermediate",
		"dim_*", "fct_*", "mart_*", "ml_*",
		"+mart_daily_sales", "+mart_inventory_status", "+mart_campaign_performance",
		"+mart_financial_metrics", "+ml_customer_segments",
	}, seen)
	assert.Equal(t, "Asia/Kolkata", cfg.Location.String())
	assert.Equal(t, map[string]int{"default": 2, "heavy": 1}, cfg.Pools)
	assert.Equal(t, 2, cfg.MaxConcurrency)
	assert.Equal(t, 0.9, cfg.ResourceThreshold)
	assert.Equal(t, []string{"low-traffic", "month-end-freeze"}, slices.Sorted(maps.Keys(cfg.Windows)))

	type row struct {
		spec, refresh, priority, operation string
	}
	got := map[string]row{}
	for _, j := range cfg.Jobs {
		got[j.Name] = row{j.Spec, string(j.Refresh), j.Priority.String(), j.Operation}
		assert.Equal(t, schedule.OverlapSkip, j.Overlap, j.Name)
		assert.Equal(t, schedule.CatchUpOnce, j.CatchUp, j.Name)
		assert.NotZero(t, j.Timeout, j.Name)
	}
	assert.Equal(t, map[string]row{
		"sources":                     {"5 * * * *", "incremental", "medium", ""},
		"staging":                     {"15 * * * *", "incremental", "medium", ""},
		"intermediate":                {"30 * * * *", "incremental", "medium", ""},
		"dimensions":                  {"0 1 * * *", "full", "medium", ""},
		"facts":                       {"0 2 * * *", "incremental", "medium", ""},
		"marts":                       {"0 3 * * *", "incremental", "medium", ""},
		"ml-features":                 {"0 4 * * *", "full", "low", ""},
		"daily-sales-report":          {"0 5 * * *", "", "high", ""},
		"inventory-management":        {"45 * * * *", "", "critical", ""},
		"marketing-campaign-analysis": {"0 8 * * *", "", "medium", ""},
		"financial-reporting":         {"0 23 L * *", "", "high", ""},
		"customer-segmentation":       {"30 4 * * 1", "", "medium", ""},
		"production-backup":           {"15 0 * * *", "", "high", "backup"},
		"janitor":                     {"15 5 * * *", "", "low", "janitor"},
		"refresh":                     {"30 0 * * *", "", "medium", "refresh"},
		"weekly-report":               {"0 7 * * 1", "", "low", "weekly-report"},
	}, got)
	assert.Equal(t, "0 6 * * *", cfg.Job("daily-sales-report").DeadlineSpec)
}

// TestDemoTimetableNovember2026 counts the runs of every job of the demo
// timetable in November 2026 (IST): 30 days, 720 hours; 1 November is a
// Sunday, the Mondays are the 2nd, 9th, 16th, 23rd and 30th, and the 30th
// is the last day (the month-end freeze).
func TestDemoTimetableNovember2026(t *testing.T) {
	cfg := ctDemo(t)
	ist := ctZone(t, "Asia/Kolkata")
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, ist)
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, ist)
	due := map[string]int{}
	allowed := map[string]int{}
	deadlines := map[string]int{}
	var financial, segments []string
	for _, j := range cfg.Jobs {
		for at := j.Schedule.Next(start.Add(-time.Nanosecond)); at.Before(end); at = j.Schedule.Next(at) {
			due[j.Name]++
			ok := true
			for _, w := range j.Windows {
				ok = ok && cfg.Windows[w].Contains(at)
			}
			for _, w := range j.Blackouts {
				ok = ok && !cfg.Windows[w].Contains(at)
			}
			if ok {
				allowed[j.Name]++
			}
			switch j.Name {
			case "financial-reporting":
				financial = append(financial, at.Format("2006-01-02 15:04 MST"))
			case "customer-segmentation":
				segments = append(segments, at.Format("Mon 02"))
			}
		}
		if j.Deadline != nil {
			for at := j.Deadline.Next(start.Add(-time.Nanosecond)); at.Before(end); at = j.Deadline.Next(at) {
				deadlines[j.Name]++
			}
		}
	}
	assert.Equal(t, map[string]int{
		"sources":                     720,
		"staging":                     720,
		"intermediate":                720,
		"dimensions":                  30,
		"facts":                       30,
		"marts":                       30,
		"ml-features":                 30,
		"daily-sales-report":          30,
		"inventory-management":        720,
		"marketing-campaign-analysis": 30,
		"financial-reporting":         1,
		"customer-segmentation":       5,
		"production-backup":           30,
		"janitor":                     30,
		"refresh":                     30,
		"weekly-report":               5,
	}, due)
	assert.Equal(t, []string{"2026-11-30 23:00 IST"}, financial)
	assert.Equal(t, []string{"Mon 02", "Mon 09", "Mon 16", "Mon 23", "Mon 30"}, segments)
	// The month-end freeze keeps segmentation off Monday the 30th; the
	// low-traffic window lets the backup and the refresh of staging run
	// every night.
	wantAllowed := maps.Clone(due)
	wantAllowed["customer-segmentation"] = 4
	assert.Equal(t, wantAllowed, allowed)
	assert.Equal(t, map[string]int{"daily-sales-report": 30, "financial-reporting": 1}, deadlines)
}
