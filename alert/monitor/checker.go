package monitor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/schedule"
)

// NodeRun is what happened to one node in one recorded run.
type NodeRun struct {
	Node       string        `json:"unique_id"`
	Kind       string        `json:"resource_type"`
	Status     string        `json:"status"`
	FinishedAt time.Time     `json:"finished_at"`
	Duration   time.Duration `json:"execution_time_ns"`
	Rows       int64         `json:"rows_affected"`
	Failures   int64         `json:"failures"`
	Class      string        `json:"class"`
}

// RunSummary is one recorded run.
type RunSummary struct {
	RunID      string
	StartedAt  time.Time
	FinishedAt time.Time
	Status     string
	Nodes      []NodeRun
}

// History reads recorded runs, newest first (duckenv.Env.AlertHistory).
type History interface {
	Runs(ctx context.Context, limit int) ([]RunSummary, error)
}

// ParseResults reads the node results of a run as orchestrate writes them
// (run_results.json's "results"). Entries without a node name (the
// pending placeholders of a run still going) are skipped.
func ParseResults(raw []byte) ([]NodeRun, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out []NodeRun
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("node results: %w", err)
	}
	return slices.DeleteFunc(out, func(n NodeRun) bool { return n.Node == "" }), nil
}

// Sampler reports resource utilization (duckenv.Env.Resources).
type Sampler interface {
	Sample(ctx context.Context) (schedule.Usage, error)
}

// LoadedAt reads the newest value of a source's loaded-at column
// (duckenv.Env.LoadedAt); ok is false for an empty table.
type LoadedAt interface {
	LoadedAt(ctx context.Context, schema, table, column string) (t time.Time, ok bool, err error)
}

// Model is a node watched for freshness, performance and row counts.
type Model struct {
	Name, Layer, Owner string
	// Interval is the time between two runs of the job that builds the
	// model (the most frequent one; see Interval); 0: no job builds it.
	// Its freshness thresholds follow (alert.Thresholds.ScheduledFreshness).
	Interval time.Duration
}

// Source is a source table whose loaded-at column measures its lag.
type Source struct {
	Name, Schema, Table, Column string
	Owner                       string
	// Freshness overrides the checker's thresholds when set.
	Freshness alert.Freshness
}

// Checker evaluates the monitors and sends their alerts, firing and
// resolved. Each part runs when its input is set: History (freshness,
// performance, anomalies, test failure rate), Resources (and DiskPath),
// Sources with LoadedAt.
type Checker struct {
	Alerter     alert.Alerter
	Environment string
	// Thresholds (zero values: alert.DefaultThresholds).
	Thresholds alert.Thresholds
	History    History
	// Models are the nodes watched; nil watches none for freshness (every
	// node with history for performance and anomalies).
	Models    []Model
	Resources Sampler
	// CPU, when set, replaces the sampler's CPU (the load average) with
	// the process's own CPU share.
	CPU *ProcessCPU
	// DiskPath is a path on the disk holding the database.
	DiskPath string
	Sources  []Source
	LoadedAt LoadedAt
	// SourceClock is "now" for source lag when the data has its own clock
	// (a demo generated as of a fixed time); default: the now of Check.
	SourceClock func() time.Time
	// ScheduledOnly watches the freshness of models with an Interval or a
	// per-model threshold only: a model no job builds is not stale. Set it
	// when the Models' Intervals come from the timetable.
	ScheduledOnly bool
	// NoFreshness skips model freshness (a one-shot command building a
	// selection must not call everything else stale).
	NoFreshness bool
	// HistoryRuns bounds the runs read (default 200).
	HistoryRuns int
	// MinDuration ignores performance of nodes faster than this (default
	// 1s: a 5 ms view taking 10 ms is noise, not a regression).
	MinDuration time.Duration
	// aboveSince is, per resource, since when its samples have been above
	// the limit without a break (kept across Check calls).
	aboveMu    sync.Mutex
	aboveSince map[string]time.Time

	// MinSamples is the fewest past values a baseline or an anomaly check
	// needs (default 3 for baselines, 4 for row counts).
	MinSamples int
}

// Level is a freshness verdict.
type Level string

// The levels.
const (
	LevelOK    Level = "ok"
	LevelWarn  Level = "warn"
	LevelError Level = "error"
	LevelNever Level = "never"
)

// FreshnessStatus is a model's or source's age against its thresholds.
type FreshnessStatus struct {
	Name        string
	Source      bool
	LastSuccess time.Time
	Age         time.Duration
	Level       Level
	Thresholds  alert.Freshness
}

// PerfStatus is a model's last run time against its baseline.
type PerfStatus struct {
	Model    string
	Last     time.Duration
	Baseline time.Duration
	Ratio    float64
	Samples  int
}

// AnomalyStatus is a model's last row count against its history.
type AnomalyStatus struct {
	Model     string
	Rows      int64
	Mean, Std float64
	Z         float64
	Samples   int
	// Weekday is true when the samples are of the same day of the week.
	Weekday bool
}

// ResourceStatus is the utilization of one resource (0..1).
type ResourceStatus struct {
	Name string
	Used float64
}

// Report is what one evaluation found.
type Report struct {
	At         time.Time
	Freshness  []FreshnessStatus
	OnSchedule float64 // share of watched models (and sources) not stale
	Perf       []PerfStatus
	Anomalies  []AnomalyStatus
	Resources  []ResourceStatus
	// TestFailureRate is the failed share of the data tests of the newest
	// run that ran tests; Duplicates the failing rows of its unique tests.
	TestFailureRate float64
	Tests           int
	Duplicates      map[string]int64
	Runs            []RunSummary
	// Alerts are the evaluation's alerts, firing and resolved.
	Alerts []alert.Alert
}

// Check evaluates and sends every alert (firing and resolved) to
// Alerter. Errors of the parts are joined; the parts that worked still
// report and alert.
func (c *Checker) Check(ctx context.Context, now time.Time) (Report, error) {
	rep, err := c.Evaluate(ctx, now)
	if c.Alerter != nil {
		for _, a := range rep.Alerts {
			if serr := c.Alerter.Send(ctx, a); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}
	return rep, err
}

// Evaluate runs the monitors without sending.
func (c *Checker) Evaluate(ctx context.Context, now time.Time) (Report, error) {
	th := c.Thresholds.WithDefaults()
	rep := Report{At: now}
	var errs []error
	if c.History != nil {
		limit := c.HistoryRuns
		if limit <= 0 {
			limit = 200
		}
		runs, err := c.History.Runs(ctx, limit)
		if err != nil {
			errs = append(errs, fmt.Errorf("run history: %w", err))
		} else {
			rep.Runs = runs
			if !c.NoFreshness {
				c.freshness(&rep, runs, now, th)
			}
			c.performance(&rep, runs, now, th)
			c.anomalies(&rep, runs, now, th)
			quality(&rep, runs)
		}
	}
	if c.LoadedAt != nil {
		srcNow := now
		if c.SourceClock != nil {
			srcNow = c.SourceClock()
		}
		for _, s := range c.Sources {
			if err := c.sourceLag(ctx, &rep, s, srcNow, th); err != nil {
				errs = append(errs, err)
			}
		}
	}
	total, ok := 0, 0
	for _, f := range rep.Freshness {
		if f.Level == LevelNever {
			continue
		}
		total++
		if f.Level == LevelOK {
			ok++
		}
	}
	if total > 0 {
		rep.OnSchedule = float64(ok) / float64(total)
	} else {
		rep.OnSchedule = 1
	}
	if c.Resources != nil || c.DiskPath != "" {
		if err := c.resources(ctx, &rep, now, th); err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

func (c *Checker) labels(m Model) map[string]string {
	l := map[string]string{alert.LabelModel: m.Name}
	for k, v := range map[string]string{alert.LabelEnvironment: c.Environment, alert.LabelLayer: m.Layer, alert.LabelTeam: m.Owner} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}

func (c *Checker) model(name string) Model {
	for _, m := range c.Models {
		if m.Name == name {
			return m
		}
	}
	return Model{Name: name}
}

// successes returns, per node, its successful results newest first.
func successes(runs []RunSummary) map[string][]NodeRun {
	out := map[string][]NodeRun{}
	for _, r := range runs {
		for _, n := range r.Nodes {
			if n.Status == "success" {
				out[n.Node] = append(out[n.Node], n)
			}
		}
	}
	return out
}

func level(age time.Duration, f alert.Freshness) Level {
	switch {
	case f.ErrorAfter > 0 && age > f.ErrorAfter:
		return LevelError
	case f.WarnAfter > 0 && age > f.WarnAfter:
		return LevelWarn
	}
	return LevelOK
}

func (c *Checker) freshness(rep *Report, runs []RunSummary, now time.Time, th alert.Thresholds) {
	ok := successes(runs)
	for _, m := range c.Models {
		_, override := th.Models[m.Name]
		if c.ScheduledOnly && m.Interval <= 0 && !override {
			continue
		}
		f := th.ScheduledFreshness(m.Name, m.Interval)
		st := FreshnessStatus{Name: m.Name, Level: LevelNever, Thresholds: f}
		if s := ok[m.Name]; len(s) > 0 {
			st.LastSuccess = s[0].FinishedAt
			st.Age = now.Sub(st.LastSuccess)
			st.Level = level(st.Age, f)
		}
		rep.Freshness = append(rep.Freshness, st)
		if st.Level == LevelNever {
			continue
		}
		rep.Alerts = append(rep.Alerts, freshnessAlert(c.labels(m), m.Name, "last built", st, now))
	}
}

func freshnessAlert(labels map[string]string, name, what string, st FreshnessStatus, now time.Time) alert.Alert {
	a := alert.Alert{
		Type: alert.TypeFreshness, Severity: alert.SeverityHigh, Labels: labels,
		Title: fmt.Sprintf("%s is stale: %s %s ago (limit %s)", name, what, roundAge(st.Age), st.Thresholds.ErrorAfter),
		Body: fmt.Sprintf("%s at %s; warn after %s, error after %s.", titleCase(what), st.LastSuccess.UTC().Format(time.RFC3339),
			st.Thresholds.WarnAfter, st.Thresholds.ErrorAfter),
		Runbook: "Find why it was not refreshed: `vyaparbazaar history` for the last runs, `vyaparbazaar alerts list` for failures " +
			"upstream (a failed upstream model keeps serving its last good data), and the scheduler's jobs (`/jobs`).",
		StartsAt: st.LastSuccess.Add(st.Thresholds.WarnAfter),
	}
	switch st.Level {
	case LevelWarn:
		a.Severity = alert.SeverityMedium
		a.Title = fmt.Sprintf("%s is getting stale: %s %s ago (warn after %s)", name, what, roundAge(st.Age), st.Thresholds.WarnAfter)
	case LevelOK:
		a.EndsAt = now
	}
	return a
}

func roundAge(d time.Duration) time.Duration {
	if d > time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (c *Checker) performance(rep *Report, runs []RunSummary, now time.Time, th alert.Thresholds) {
	minDur := c.MinDuration
	if minDur == 0 {
		minDur = time.Second
	}
	minSamples := max(c.MinSamples, 3)
	ok := successes(runs)
	for _, name := range sortedKeys(ok) {
		s := ok[name]
		if len(s)-1 < minSamples || !c.watched(name) {
			continue
		}
		last := s[0]
		var past []time.Duration
		for _, n := range s[1:min(len(s), th.BaselineRuns+1)] {
			past = append(past, n.Duration)
		}
		base := median(past)
		if base <= 0 {
			continue
		}
		ps := PerfStatus{Model: name, Last: last.Duration, Baseline: base, Ratio: float64(last.Duration) / float64(base), Samples: len(past)}
		rep.Perf = append(rep.Perf, ps)
		m := c.model(name)
		a := alert.Alert{
			Type: alert.TypePerformance, Severity: alert.SeverityLow, Labels: c.labels(m),
			Title: fmt.Sprintf("%s took %s, %.0f%% of its baseline %s", name, last.Duration.Round(time.Millisecond), ps.Ratio*100, base.Round(time.Millisecond)),
			Body:  fmt.Sprintf("Baseline: the median of its last %d successful runs; the limit is %.0f%%.", len(past), th.Performance*100),
			Runbook: "Check whether its input grew (rows in `vyaparbazaar history`), whether other jobs competed for the database, " +
				"and its plan (EXPLAIN ANALYZE in `vyaparbazaar query`).",
			StartsAt: last.FinishedAt,
		}
		if ps.Ratio <= th.Performance || last.Duration < minDur {
			a.EndsAt = now
		}
		rep.Alerts = append(rep.Alerts, a)
	}
}

func (c *Checker) watched(name string) bool {
	if c.Models == nil {
		return true
	}
	return slices.ContainsFunc(c.Models, func(m Model) bool { return m.Name == name })
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ZScore returns the z-score of x against samples: (x - mean) / std, where
// std is the samples' standard deviation floored at 1% of the mean and at
// 1 (it is what is returned), so that a history with no spread does not
// make every small change infinitely unusual.
func ZScore(x float64, samples []float64) (z, mean, std float64) {
	n := float64(len(samples))
	for _, v := range samples {
		mean += v
	}
	mean /= n
	for _, v := range samples {
		std += (v - mean) * (v - mean)
	}
	if len(samples) > 1 {
		std = math.Sqrt(std / (n - 1))
	}
	std = max(std, math.Abs(mean)/100, 1)
	return (x - mean) / std, mean, std
}

func (c *Checker) anomalies(rep *Report, runs []RunSummary, now time.Time, th alert.Thresholds) {
	minSamples := max(c.MinSamples, 4)
	ok := successes(runs)
	for _, name := range sortedKeys(ok) {
		s := ok[name]
		if !c.watched(name) || len(s) == 0 || s[0].Rows < 0 || s[0].Kind == "test" {
			continue
		}
		last := s[0]
		var same, all []float64
		for _, n := range s[1:] {
			if n.Rows < 0 {
				continue
			}
			all = append(all, float64(n.Rows))
			if n.FinishedAt.Weekday() == last.FinishedAt.Weekday() {
				same = append(same, float64(n.Rows))
			}
		}
		samples, weekday := same, true
		if len(same) < minSamples {
			samples, weekday = all, false
		}
		if len(samples) < minSamples {
			continue
		}
		z, mean, std := ZScore(float64(last.Rows), samples)
		st := AnomalyStatus{Model: name, Rows: last.Rows, Mean: mean, Std: std, Z: z, Samples: len(samples), Weekday: weekday}
		rep.Anomalies = append(rep.Anomalies, st)
		basis := "all recent runs"
		if weekday {
			basis = "runs on " + last.FinishedAt.Weekday().String() + "s"
		}
		a := alert.Alert{
			Type: alert.TypeAnomaly, Severity: alert.SeverityMedium, Labels: c.labels(c.model(name)),
			Title: fmt.Sprintf("%s has %d rows, %.1f standard deviations from its usual %.0f", name, last.Rows, z, mean),
			Body:  fmt.Sprintf("Compared with %d %s (mean %.0f, standard deviation %.1f); the limit is a z-score of %.1f.", len(samples), basis, mean, std, th.AnomalyZ),
			Runbook: "Compare with the source data: a partial load, duplicated input or a changed join. Query the model and its " +
				"upstream with `vyaparbazaar query`.",
			StartsAt: last.FinishedAt,
		}
		if math.Abs(z) <= th.AnomalyZ {
			a.EndsAt = now
		}
		rep.Alerts = append(rep.Alerts, a)
	}
}

func quality(rep *Report, runs []RunSummary) {
	for _, r := range runs {
		tests, failed := 0, 0
		dups := map[string]int64{}
		for _, n := range r.Nodes {
			if n.Kind != "test" || n.Status == "skipped" {
				continue
			}
			tests++
			if n.Status == "fail" || n.Status == "error" {
				failed++
			}
			if (strings.HasPrefix(n.Node, "unique_") || strings.HasPrefix(n.Node, "source_unique_")) && n.Failures > 0 {
				dups[n.Node] = n.Failures
			}
		}
		if tests > 0 {
			rep.Tests, rep.TestFailureRate, rep.Duplicates = tests, float64(failed)/float64(tests), dups
			return
		}
	}
}

func (c *Checker) sourceLag(ctx context.Context, rep *Report, s Source, now time.Time, th alert.Thresholds) error {
	f := s.Freshness
	if f.WarnAfter == 0 && f.ErrorAfter == 0 {
		f = th.Freshness
	}
	t, ok, err := c.LoadedAt.LoadedAt(ctx, s.Schema, s.Table, s.Column)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.Name, err)
	}
	st := FreshnessStatus{Name: s.Name, Source: true, Level: LevelNever, Thresholds: f}
	if ok {
		st.LastSuccess, st.Age = t, now.Sub(t)
		st.Level = level(st.Age, f)
	}
	rep.Freshness = append(rep.Freshness, st)
	if !ok {
		return nil
	}
	labels := c.labels(Model{Name: s.Name, Layer: "source", Owner: s.Owner})
	labels["source"] = s.Name
	rep.Alerts = append(rep.Alerts, freshnessAlert(labels, "source "+s.Name, "newest row loaded", st, now))
	return nil
}

// DiskUsage returns the used share of the file system holding path.
func DiskUsage(path string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", path, err)
	}
	total := float64(st.Blocks) * float64(st.Bsize)
	if total == 0 {
		return 0, nil
	}
	return 1 - float64(st.Bavail)*float64(st.Bsize)/total, nil
}

func (c *Checker) resources(ctx context.Context, rep *Report, now time.Time, th alert.Thresholds) error {
	var errs []error
	if c.Resources != nil {
		// Only readings that succeeded count: a failed sample reads as 0%
		// and must not resolve an open alert.
		u, err := c.Resources.Sample(ctx)
		sampled, cpuOK := err == nil, err == nil
		if err != nil {
			errs = append(errs, fmt.Errorf("resources: %w", err))
		}
		if c.CPU != nil {
			var cerr error
			if u.CPU, cerr = c.CPU.Sample(now); cerr != nil {
				errs = append(errs, fmt.Errorf("process CPU: %w", cerr))
			}
			cpuOK = cerr == nil
		}
		if cpuOK && u.CPU >= 0 {
			rep.Resources = append(rep.Resources, ResourceStatus{"cpu", u.CPU})
		}
		if sampled {
			rep.Resources = append(rep.Resources, ResourceStatus{"memory", u.Memory}, ResourceStatus{"duckdb_memory", u.DuckDBMemory})
		}
	}
	if c.DiskPath != "" {
		used, err := DiskUsage(c.DiskPath)
		if err != nil {
			errs = append(errs, err)
		} else {
			rep.Resources = append(rep.Resources, ResourceStatus{"disk", used})
		}
	}
	names := map[string]string{"cpu": "CPU", "memory": "Memory", "duckdb_memory": "DuckDB memory", "disk": "Disk of the database folder"}
	c.aboveMu.Lock()
	defer c.aboveMu.Unlock()
	if c.aboveSince == nil {
		c.aboveSince = map[string]time.Time{}
	}
	for _, r := range rep.Resources {
		var since time.Time
		if r.Used > th.Resource {
			var ok bool
			if since, ok = c.aboveSince[r.Name]; !ok || now.Before(since) {
				since = now
				c.aboveSince[r.Name] = now
			}
			if now.Sub(since) < th.ResourceFor {
				continue // above the limit, not yet for long enough
			}
		} else {
			delete(c.aboveSince, r.Name)
		}
		a := alert.Alert{
			Type: alert.TypeResource, Severity: alert.SeverityCritical,
			Labels: map[string]string{alert.LabelEnvironment: c.Environment, alert.LabelResource: r.Name},
			Title:  fmt.Sprintf("%s at %.0f%% (limit %.0f%%)", names[r.Name], r.Used*100, th.Resource*100),
			Runbook: "Find what uses it (running jobs at /jobs, other processes); lower the scheduler's concurrency or DuckDB's " +
				"memory_limit and threads; free disk space (old backups: the janitor job).",
			StartsAt: now,
		}
		if !since.IsZero() {
			a.StartsAt = since
			a.Body = fmt.Sprintf("Above %.0f%% since %s (alerts after %s).", th.Resource*100, since.UTC().Format(time.RFC3339), th.ResourceFor)
		}
		if r.Used <= th.Resource {
			a.EndsAt = now
		}
		rep.Alerts = append(rep.Alerts, a)
	}
	slices.SortStableFunc(rep.Resources, func(a, b ResourceStatus) int { return cmp.Compare(a.Name, b.Name) })
	return errors.Join(errs...)
}
