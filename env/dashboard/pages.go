package dashboard

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/internal/docsite"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery/incident"
	"github.com/vyaparbazaar/dataops/schedule"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// ---- overview ---------------------------------------------------------------

type envOverview struct {
	Name       string
	Served     bool
	Err        string
	Deploy     *env.Deployment
	LastRun    *duckenv.RunRecord
	Jobs       []jobStatus
	Incidents  []incident.Incident
	Alerts     []alert.Record
	Fallback   []duckenv.NodeOutcome
	Withheld   []duckenv.NodeOutcome
	Failed     []duckenv.NodeOutcome
	Critical   []criticalMart
	Snapshot   int64
	SnapshotAt time.Time
}

type jobStatus struct {
	Job        string
	LastStart  time.Time
	LastStatus string
	LastError  string
	Next       time.Time
}

type criticalMart struct {
	Model    string
	BuiltAt  time.Time
	Deadline time.Time // the latest deadline passed (zero: none)
	Next     time.Time // the next deadline
	Job      string
	Status   string // fresh, late, unknown
}

func (h *Handler) overview(r *http.Request, v *view, _ Environment) (string, error) {
	v.Title, v.Page = "Overview", "overview"
	var out []envOverview
	for _, e := range h.o.Environments {
		// Only environments the user may read are summarised.
		if h.o.Policy.Authorize(r.Context(), principalOf(r), e.Name, env.ActionRead) != nil {
			continue
		}
		ov := envOverview{Name: e.Name, Served: e.Env != nil}
		if e.Env != nil {
			if err := h.fillOverview(r, e.Env, &ov); err != nil {
				h.o.Logger.Error("dashboard: overview", "environment", e.Name, "err", err)
				ov.Err = err.Error()
			}
		}
		out = append(out, ov)
	}
	v.Data = out
	return "overview", nil
}

// latestOutcomes is every node's most recent outcome, cached until the
// next run.
func (h *Handler) latestOutcomes(r *http.Request, e *duckenv.Env) (map[string]duckenv.NodeOutcome, error) {
	return fromHistory(r, h, e, "latest", func() (map[string]duckenv.NodeOutcome, error) {
		return e.LatestNodeOutcomes(r.Context(), h.o.Runs)
	})
}

func (h *Handler) fillOverview(r *http.Request, e *duckenv.Env, ov *envOverview) error {
	ctx := r.Context()
	now := h.o.Now()
	deps, err := e.Deployments(ctx, 1)
	if err != nil {
		return fmt.Errorf("deployments: %w", err)
	}
	if len(deps) > 0 {
		ov.Deploy = &deps[0]
	}
	runs, _, err := e.RunSummaries(ctx, duckenv.RunFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(runs) > 0 {
		ov.LastRun = &runs[0]
	}
	if h.o.Schedule != nil {
		states, err := e.ScheduleState().Load(ctx)
		if err != nil {
			return fmt.Errorf("schedule state: %w", err)
		}
		for _, j := range h.o.Schedule.Jobs {
			st := states[j.Name]
			ov.Jobs = append(ov.Jobs, jobStatus{Job: j.Name, LastStart: st.LastStart, LastStatus: st.LastStatus, LastError: firstLine(st.LastError), Next: j.Schedule.Next(now)})
		}
	}
	if ov.Incidents, err = e.Incidents().List(ctx, incident.Filter{Status: incident.StatusOpen, Limit: 20}); err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	if ov.Alerts, err = e.Alerts().Alerts(ctx, alert.Filter{Open: true, Limit: 20}); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	latest, err := h.latestOutcomes(r, e)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		o := latest[name]
		switch {
		case o.Status == string(orchestrate.StatusFallback):
			ov.Fallback = append(ov.Fallback, o)
		case o.Withheld != "":
			ov.Withheld = append(ov.Withheld, o)
		case o.Kind == string(orchestrate.KindModel) && (o.Status == string(orchestrate.StatusError) || o.Status == string(orchestrate.StatusSkipped)):
			// Not rebuilt: readers keep the previous version.
			ov.Failed = append(ov.Failed, o)
		}
	}
	sn, err := e.Snapshots().At(ctx, now.Add(time.Hour))
	switch {
	case errors.Is(err, snapshot.ErrNoSnapshot):
	case err != nil:
		return fmt.Errorf("snapshot: %w", err)
	default:
		ov.Snapshot, ov.SnapshotAt = sn.ID, sn.CreatedAt
	}
	for _, n := range h.nodes {
		if n.Kind != orchestrate.KindModel || !n.Critical {
			continue
		}
		cm := criticalMart{Model: n.Name, BuiltAt: sn.Models[n.Name].BuiltAt, Status: "unknown"}
		if h.o.Schedule != nil {
			for _, j := range h.o.Schedule.Jobs {
				if j.Deadline == nil || !h.jobSets[j.Name][n.Name] {
					continue
				}
				prev, next := lastAndNext(j.Deadline, now)
				if cm.Job == "" || (!next.IsZero() && next.Before(cm.Next)) {
					cm.Job, cm.Deadline, cm.Next = j.Name, prev, next
				}
			}
		}
		switch {
		case cm.BuiltAt.IsZero():
			cm.Status = "late"
		case !cm.Deadline.IsZero() && cm.BuiltAt.Before(cm.Deadline.Add(-24*time.Hour)):
			// Not rebuilt in the day before the deadline that passed.
			cm.Status = "late"
		case now.Sub(cm.BuiltAt) > h.o.FreshFor:
			cm.Status = "stale"
		default:
			cm.Status = "fresh"
		}
		ov.Critical = append(ov.Critical, cm)
	}
	return nil
}

// lastAndNext returns the latest occurrence of s at or before now (within
// the last 35 days) and the next one after now.
func lastAndNext(s schedule.Schedule, now time.Time) (time.Time, time.Time) {
	var last time.Time
	t := now.Add(-35 * 24 * time.Hour)
	for range 2000 {
		n := s.Next(t)
		if n.IsZero() || n.After(now) {
			return last, n
		}
		last, t = n, n
	}
	return last, s.Next(now)
}

// ---- runs -------------------------------------------------------------------

type runsData struct {
	Runs             []duckenv.RunRecord
	Total            int
	Status, Q        string
	Page, Pages      int
	PrevURL, NextURL string
	Statuses         []string
}

const runsPerPage = 50

func (h *Handler) runs(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Runs", "runs"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	q := r.URL.Query()
	d := runsData{Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q")), Page: 1,
		Statuses: []string{"success", "error", "running", "cancelled"}}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		d.Page = n
	}
	d.Runs, d.Total, err = e.RunSummaries(r.Context(), duckenv.RunFilter{Status: d.Status, Contains: d.Q, Limit: runsPerPage, Offset: (d.Page - 1) * runsPerPage})
	if err != nil {
		return "", err
	}
	d.Pages = max(1, (d.Total+runsPerPage-1)/runsPerPage)
	if d.Page > 1 {
		d.PrevURL = h.link(en.Name, "/runs", "status", d.Status, "q", d.Q, "page", strconv.Itoa(d.Page-1))
	}
	if d.Page < d.Pages {
		d.NextURL = h.link(en.Name, "/runs", "status", d.Status, "q", d.Q, "page", strconv.Itoa(d.Page+1))
	}
	v.Data = d
	return "runs", nil
}

// nodeResult is a node's result as the run history stores it (the
// orchestrate.NodeResult JSON, with the error as text).
type nodeResult = orchestrate.NodeResult

type runData struct {
	Run     duckenv.RunRecord
	Results []*nodeResult
	Failed  []*nodeResult
	Retried int
	Gantt   []byte
}

func (h *Handler) run(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Run", "runs"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	id := r.PathValue("id")
	rec, err := e.RunByID(r.Context(), id)
	if errors.Is(err, duckenv.ErrNoRun) {
		return "", errStatus(http.StatusNotFound, "no run %q in %s", id, en.Name)
	}
	if err != nil {
		return "", err
	}
	d := runData{Run: rec}
	if len(rec.Results) > 0 {
		if err := json.Unmarshal(rec.Results, &d.Results); err != nil {
			return "", fmt.Errorf("run %s: results: %w", id, err)
		}
	}
	for _, res := range d.Results {
		if len(res.Attempts) > 1 {
			d.Retried++
		}
		if res.Error != "" || res.Status == orchestrate.StatusError || res.Status == orchestrate.StatusFail || res.Status == orchestrate.StatusFallback {
			d.Failed = append(d.Failed, res)
		}
	}
	d.Gantt, err = h.gantt(en.Name, d.Results)
	if err != nil {
		return "", err
	}
	v.Title = "Run " + rec.RunID
	v.Data = d
	return "run", nil
}

// ---- lineage ----------------------------------------------------------------

type lineageData struct {
	Select string
	SVG    []byte
	Count  int
	Legend [][2]string
}

// Lineage colours.
var (
	colOK      = "#c8e6c9"
	colError   = "#ef9a9a"
	colWarn    = "#ffe082"
	colSkipped = "#e0e0e0"
	colStale   = "#fff59d"
)

func (h *Handler) lineage(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Lineage", "lineage"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	d := lineageData{Select: strings.TrimSpace(r.URL.Query().Get("select"))}
	opts := docsite.LineageOptions{Href: func(name string) string {
		return h.link(en.Name, "/models/"+urlPathEscape(name))
	}}
	if d.Select != "" {
		plan, err := orchestrate.NewPlanWith(h.o.Project, dag.SelectOptions{Select: strings.Fields(d.Select)})
		if err != nil {
			return "", errStatus(http.StatusBadRequest, "select %q: %v", d.Select, err)
		}
		opts.Only = map[string]bool{}
		for _, n := range plan.Order {
			opts.Only[n.Name] = true
		}
		opts.Title = "Lineage of " + d.Select
	}
	latest, err := h.latestOutcomes(r, e)
	if err != nil {
		return "", err
	}
	served := map[string]snapshot.Version{}
	if sn, err := e.Snapshots().At(ctx, h.o.Now().Add(time.Hour)); err == nil {
		served = sn.Models
	} else if !errors.Is(err, snapshot.ErrNoSnapshot) {
		return "", err
	}
	now := h.o.Now()
	opts.Style = func(n *orchestrate.Node) (string, string, string) {
		o, ok := latest[n.Name]
		if !ok {
			return "", "", "no recent run"
		}
		status := o.Status
		note := "last run " + o.RunID + ": " + status
		if o.Withheld != "" {
			status, note = "withheld", note+", withheld: "+o.Withheld
		}
		built := served[n.Name].BuiltAt
		if !built.IsZero() {
			note += ", data built " + ago(now, built)
		}
		switch statusClass(status) {
		case "bad":
			return colError, status, note
		case "warn":
			return colWarn, status, note
		}
		if status == string(orchestrate.StatusSkipped) {
			return colSkipped, status, note
		}
		if n.Kind == orchestrate.KindModel && !built.IsZero() && now.Sub(built) > h.o.FreshFor {
			return colStale, "stale", note
		}
		return colOK, status, note
	}
	svg, err := docsite.Lineage(h.o.Project, opts)
	if err != nil {
		return "", errStatus(http.StatusBadRequest, "%v", err)
	}
	d.SVG = svg
	for _, n := range h.nodes {
		if n.Kind != orchestrate.KindTest && (opts.Only == nil || opts.Only[n.Name]) {
			d.Count++
		}
	}
	d.Legend = [][2]string{{colOK, "succeeded, fresh"}, {colError, "failed"}, {colWarn, "fallback, warned or withheld"}, {colSkipped, "skipped"}, {colStale, "stale (older than " + fmtDuration(h.o.FreshFor) + ")"}, {"#ffffff", "no recent run"}}
	v.Data = d
	return "lineage", nil
}

// ---- model ------------------------------------------------------------------

type modelData struct {
	Node        *orchestrate.Node
	Kind        string
	Model       *project.Model
	SQL         string
	SQLErr      string
	Columns     []project.Column
	Tests       []testRow
	History     []duckenv.NodeOutcome
	Baseline    time.Duration
	Samples     int
	Anomalies   int
	Duration    []byte
	RowsChart   []byte
	Served      *snapshot.Version
	Upstream    []string
	Downstream  []string
	LineageLink string
}

type testRow struct {
	Test    *project.DataTest
	Results []duckenv.NodeOutcome // newest first
	Last    string
	Fails   int
}

func (h *Handler) model(r *http.Request, v *view, en Environment) (string, error) {
	v.Page = "lineage"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	name := r.PathValue("name")
	n := h.o.Project.Node(name)
	if n == nil {
		return "", errStatus(http.StatusNotFound, "no model, seed or source %q in project %s", name, h.o.Project.Name)
	}
	v.Title = name
	d := modelData{Node: n, Kind: string(n.Kind), Model: h.o.Project.Models[name], LineageLink: h.link(en.Name, "/lineage", "select", "+"+name+"+")}
	if d.Model != nil {
		d.Columns = d.Model.Columns
		if c, err := h.o.Project.Compile(name, project.CompileState{}); err != nil {
			d.SQLErr = err.Error()
		} else {
			d.SQL = c.SQL
		}
	}
	names := []string{name}
	for _, t := range sortedTests(h.o.Project, name) {
		d.Tests = append(d.Tests, testRow{Test: t})
		names = append(names, t.Name)
	}
	for _, n2 := range h.nodes {
		if slices.Contains(n2.Deps, name) && n2.Kind != orchestrate.KindTest {
			d.Downstream = append(d.Downstream, n2.Name)
		}
	}
	for _, dep := range n.Deps {
		d.Upstream = append(d.Upstream, dep)
	}
	hist, err := fromHistory(r, h, e, "node:"+name, func() ([]duckenv.NodeOutcome, error) {
		return e.NodeHistory(r.Context(), names, h.o.Runs)
	})
	if err != nil {
		return "", err
	}
	byTest := map[string]int{}
	for i, t := range d.Tests {
		byTest[t.Test.Name] = i
	}
	for _, o := range hist {
		if o.Node == name {
			d.History = append(d.History, o)
			continue
		}
		t := &d.Tests[byTest[o.Node]]
		if len(t.Results) == 0 {
			t.Last = o.Status
		}
		t.Results = append(t.Results, o)
		if o.Status == "fail" || o.Status == "error" {
			t.Fails++
		}
	}
	if sn, err := e.Snapshots().At(r.Context(), h.o.Now().Add(time.Hour)); err == nil {
		if ver, ok := sn.Models[name]; ok {
			d.Served = &ver
		}
	}
	d.Baseline, d.Samples = baseline(d.History)
	d.Duration, d.Anomalies, err = h.durationChart(d.History, d.Baseline)
	if err != nil {
		return "", err
	}
	d.RowsChart, err = h.rowsChart(d.History)
	if err != nil {
		return "", err
	}
	v.Data = d
	return "model", nil
}

func sortedTests(p *project.Project, model string) []*project.DataTest {
	var out []*project.DataTest
	for _, t := range p.Tests {
		if t.Model == model {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *project.DataTest) int {
		return cmp.Or(cmp.Compare(a.Column, b.Column), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Baseline parameters: as alert/monitor's performance check, the median
// execution time of the last baselineRuns successful runs, with at least
// baselineMin of them; a run slower than anomalyFactor × the baseline is
// an anomaly.
const (
	baselineRuns  = 10
	baselineMin   = 3
	anomalyFactor = 1.5
)

func baseline(hist []duckenv.NodeOutcome) (time.Duration, int) {
	var ds []time.Duration
	for _, o := range hist {
		if o.Status == "success" && len(ds) < baselineRuns {
			ds = append(ds, o.Duration)
		}
	}
	if len(ds) < baselineMin {
		return 0, len(ds)
	}
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return m, len(ds)
}

// ---- data quality -----------------------------------------------------------

type qualityData struct {
	Chart      []byte
	Failing    []failingTest
	Duplicates []failingTest
	Tests      int
	Runs       int
}

type failingTest struct {
	Outcome duckenv.NodeOutcome
	Test    *project.DataTest
}

func (h *Handler) quality(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Data quality", "quality"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	runs, _, err := e.RunSummaries(ctx, duckenv.RunFilter{Limit: h.o.Runs})
	if err != nil {
		return "", err
	}
	var pts []ratePoint
	for i := len(runs) - 1; i >= 0; i-- {
		c := runs[i].NodeCounts
		tests := c["pass"] + c["warn"] + c["fail"]
		if tests == 0 {
			continue
		}
		pts = append(pts, ratePoint{At: runs[i].StartedAt, Rate: float64(c["fail"]) / float64(tests), Fail: c["fail"], Tests: tests, RunID: runs[i].RunID})
	}
	d := qualityData{Runs: len(pts), Tests: len(h.o.Project.Tests)}
	if d.Chart, err = h.rateChart(en.Name, pts); err != nil {
		return "", err
	}
	latest, err := h.latestOutcomes(r, e)
	if err != nil {
		return "", err
	}
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		o := latest[name]
		t := h.o.Project.Tests[name]
		if o.Kind != string(orchestrate.KindTest) || t == nil {
			continue
		}
		if o.Status == "fail" || o.Status == "error" || o.Status == "warn" {
			d.Failing = append(d.Failing, failingTest{Outcome: o, Test: t})
		}
		if t.Type == "unique" || t.Type == "unique_combination_of_columns" {
			d.Duplicates = append(d.Duplicates, failingTest{Outcome: o, Test: t})
		}
	}
	slices.SortStableFunc(d.Duplicates, func(a, b failingTest) int { return cmp.Compare(b.Outcome.Failures, a.Outcome.Failures) })
	v.Data = d
	return "quality", nil
}

// ---- snapshots and deployments -------------------------------------------------

type snapshotsData struct {
	Snapshots   []duckenv.SnapshotSummary
	Total       int
	Deployments []env.Deployment
	A, B        int64
	Diff        []snapshot.Change
	DiffErr     string
	Latest      int64
	Done        string
}

func (h *Handler) snapshots(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Snapshots and deployments", "snapshots"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	d := snapshotsData{Done: r.URL.Query().Get("done")}
	if d.Snapshots, d.Total, err = e.SnapshotSummaries(ctx, 50, 0); err != nil {
		return "", err
	}
	if len(d.Snapshots) > 0 {
		d.Latest = d.Snapshots[0].ID
	}
	if d.Deployments, err = e.Deployments(ctx, 20); err != nil {
		return "", err
	}
	q := r.URL.Query()
	d.A, _ = strconv.ParseInt(q.Get("a"), 10, 64)
	d.B, _ = strconv.ParseInt(q.Get("b"), 10, 64)
	if d.A > 0 {
		if d.B == 0 {
			d.B = d.Latest
		}
		a, errA := e.Snapshots().Get(ctx, d.A)
		b, errB := e.Snapshots().Get(ctx, d.B)
		if err := errors.Join(errA, errB); err != nil {
			d.DiffErr = err.Error()
		} else {
			d.Diff = snapshot.Diff(a, b)
		}
	}
	v.Data = d
	return "snapshots", nil
}

type rollbackData struct {
	Target  snapshot.Snapshot
	Current int64
	Changes []snapshot.Change
}

// rollbackConfirm is the confirmation page of a rollback: what would
// change. Administrators only.
func (h *Handler) rollbackConfirm(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Confirm rollback", "snapshots"
	e, err := servedEnv(en)
	if err != nil {
		return "", err
	}
	if !v.IsAdmin {
		return "", errStatus(http.StatusForbidden, "%s may not roll back %s: administrators only", v.User, en.Name)
	}
	to, err := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	if err != nil || to <= 0 {
		return "", errStatus(http.StatusBadRequest, "rollback: ?to= must be a snapshot id")
	}
	ctx := r.Context()
	target, err := e.Snapshots().Get(ctx, to)
	if errors.Is(err, snapshot.ErrNotFound) {
		return "", errStatus(http.StatusNotFound, "%v", err)
	}
	if err != nil {
		return "", err
	}
	cur, err := e.Snapshots().At(ctx, h.o.Now().Add(time.Hour))
	if err != nil {
		return "", err
	}
	v.Data = rollbackData{Target: target, Current: cur.ID, Changes: snapshot.Diff(cur, target)}
	return "rollback", nil
}

// rollback performs a confirmed rollback: a POST with the user's CSRF
// token, checked and audit-logged as env.ActionAdmin.
func (h *Handler) rollback(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !h.validCSRF(r, p.Name) {
		http.Error(w, "invalid or missing CSRF token", http.StatusForbidden)
		return
	}
	en, err := h.environment(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	to, err := strconv.ParseInt(r.PostFormValue("to"), 10, 64)
	if err != nil || to <= 0 {
		http.Error(w, "rollback: to must be a snapshot id", http.StatusBadRequest)
		return
	}
	object := fmt.Sprintf("rollback to snapshot #%d", to)
	if err := env.Check(r.Context(), h.o.Policy, h.o.Auditor, p, en.Name, env.ActionAdmin, object, "dashboard"); err != nil {
		code := http.StatusForbidden
		if !errors.Is(err, env.ErrDenied) {
			code = http.StatusInternalServerError
			h.o.Logger.Error("dashboard: audit failed", "err", err)
		}
		http.Error(w, err.Error(), code)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Error(w, "rollback: not confirmed", http.StatusBadRequest)
		return
	}
	e, err := servedEnv(en)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	sn, err := e.Rollback(r.Context(), duckenv.RollbackOptions{To: to, Actor: p.Name + " (dashboard)"})
	if h.o.Auditor != nil {
		result := "ok"
		if err != nil {
			result = err.Error()
		}
		if aerr := h.o.Auditor.Audit(r.Context(), env.AuditEvent{Time: h.o.Now(), Principal: p.Name, Environment: en.Name, Action: env.ActionAdmin,
			Object: object, Allowed: true, Result: result, Via: "dashboard"}); aerr != nil {
			h.o.Logger.Error("dashboard: audit failed", "err", aerr)
		}
	}
	if err != nil {
		code := http.StatusConflict
		if errors.Is(err, snapshot.ErrNotFound) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	h.o.Logger.Info("dashboard: rolled back", "environment", en.Name, "by", p.Name, "to", to, "snapshot", sn.ID)
	http.Redirect(w, r, h.link(en.Name, "/snapshots", "done", strconv.FormatInt(sn.ID, 10)), http.StatusSeeOther)
}

// ---- schedule ---------------------------------------------------------------

type scheduleData struct {
	Zone    string
	Jobs    []scheduleJob
	Windows []scheduleWindow
	None    bool
}

type scheduleJob struct {
	Job          *schedule.Job
	Next         time.Time
	NextDeadline time.Time
	What         string
	LastStatus   string
	LastStart    time.Time
}

type scheduleWindow struct {
	Name     string
	Open     bool
	NextOpen time.Time
}

func (h *Handler) schedule(r *http.Request, v *view, en Environment) (string, error) {
	v.Title, v.Page = "Schedule", "schedule"
	d := scheduleData{Zone: h.o.Location.String()}
	cfg := h.o.Schedule
	if cfg == nil {
		d.None = true
		v.Data = d
		return "schedule", nil
	}
	now := h.o.Now()
	var states map[string]schedule.JobState
	if en.Env != nil {
		var err error
		if states, err = en.Env.ScheduleState().Load(r.Context()); err != nil {
			return "", err
		}
	}
	for _, j := range cfg.Jobs {
		sj := scheduleJob{Job: j, Next: j.Schedule.Next(now), What: strings.Join(j.Select, " ")}
		if j.Operation != "" {
			sj.What = "operation: " + j.Operation
		}
		if j.Deadline != nil {
			sj.NextDeadline = j.Deadline.Next(now)
		}
		st := states[j.Name]
		sj.LastStatus, sj.LastStart = st.LastStatus, st.LastStart
		d.Jobs = append(d.Jobs, sj)
	}
	slices.SortStableFunc(d.Jobs, func(a, b scheduleJob) int { return a.Next.Compare(b.Next) })
	for _, name := range slices.Sorted(maps.Keys(cfg.Windows)) {
		w := cfg.Windows[name]
		d.Windows = append(d.Windows, scheduleWindow{Name: name, Open: w.Contains(now.In(h.o.Location)), NextOpen: w.NextOpen(now.In(h.o.Location))})
	}
	v.Data = d
	return "schedule", nil
}
