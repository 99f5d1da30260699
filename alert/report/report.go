// Package report builds the weekly status report of an environment from
// its run history, incidents and alerts: runs and outcomes, missed
// deadlines, freshness, test failure rate, the slowest models and the
// build-time trend, incidents opened and resolved, and recurring failure
// patterns by class, model and owner; as markdown or HTML.
package report

import (
	"bytes"
	"cmp"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	"github.com/vyaparbazaar/dataops/recovery/incident"
)

// Inputs are what a report is made of. Runs, incidents and alerts outside
// [From, To) are ignored.
type Inputs struct {
	Environment string
	From, To    time.Time
	Runs        []monitor.RunSummary
	Incidents   []incident.Incident
	Alerts      []alert.Record
	// Owners maps nodes to their owner teams.
	Owners map[string]string
	// Freshness is the current freshness evaluation, if any.
	Freshness *monitor.Report
}

// Count is a name with a number.
type Count struct {
	Name  string
	Count int
}

// ModelTime is a model's run time over the period.
type ModelTime struct {
	Model       string
	Median, Max time.Duration
	Runs        int
	// Trend is the median of the second half of the period against the
	// first (1.2 = 20% slower); 0 when either half has no run.
	Trend float64
}

// Day is one day's builds.
type Day struct {
	Date        string
	Runs        int
	Failed      int
	MedianBuild time.Duration
}

// Weekly is the report.
type Weekly struct {
	Environment     string
	From, To        time.Time
	Runs            int
	Outcomes        []Count
	Days            []Day
	Tests           int
	TestFailures    int
	TestFailureRate float64
	Slowest         []ModelTime
	Opened          []incident.Incident
	Resolved        []incident.Incident
	ByClass         []Count
	ByModel         []Count
	ByOwner         []Count
	Deadlines       []alert.Record
	OnSchedule      float64
	HasFreshness    bool
	Stale           []string
}

func in(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

func counts(m map[string]int, limit int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Name, b.Name)) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Build computes the report.
func Build(in_ Inputs) Weekly {
	w := Weekly{Environment: in_.Environment, From: in_.From, To: in_.To}
	outcomes := map[string]int{}
	days := map[string]*Day{}
	dayBuilds := map[string][]time.Duration{}
	times := map[string][]monitor.NodeRun{}
	byClass, byModel, byOwner := map[string]int{}, map[string]int{}, map[string]int{}
	mid := in_.From.Add(in_.To.Sub(in_.From) / 2)
	for _, r := range in_.Runs {
		if !in(r.StartedAt, in_.From, in_.To) {
			continue
		}
		w.Runs++
		outcomes[r.Status]++
		date := r.StartedAt.UTC().Format("2006-01-02 Mon")
		d := days[date]
		if d == nil {
			d = &Day{Date: date}
			days[date] = d
		}
		d.Runs++
		if r.Status != "success" {
			d.Failed++
		}
		if !r.FinishedAt.IsZero() {
			dayBuilds[date] = append(dayBuilds[date], r.FinishedAt.Sub(r.StartedAt))
		}
		for _, n := range r.Nodes {
			switch {
			case n.Kind == "test" && n.Status != "skipped":
				w.Tests++
				if n.Status == "fail" || n.Status == "error" {
					w.TestFailures++
				}
			case n.Status == "success" && n.Kind == "model":
				n.FinishedAt = r.StartedAt // which half of the period
				times[n.Node] = append(times[n.Node], n)
			}
			if n.Status == "error" || n.Status == "fail" || n.Status == "fallback" {
				byClass[cmp.Or(n.Class, "unclassified")]++
				byModel[n.Node]++
				byOwner[cmp.Or(in_.Owners[n.Node], "(no owner)")]++
			}
		}
	}
	if w.Tests > 0 {
		w.TestFailureRate = float64(w.TestFailures) / float64(w.Tests)
	}
	w.Outcomes = counts(outcomes, 0)
	for _, date := range slices.Sorted(maps.Keys(days)) {
		d := days[date]
		d.MedianBuild = median(dayBuilds[date])
		w.Days = append(w.Days, *d)
	}
	for model, runs := range times {
		var all, first, second []time.Duration
		mt := ModelTime{Model: model, Runs: len(runs)}
		for _, n := range runs {
			all = append(all, n.Duration)
			mt.Max = max(mt.Max, n.Duration)
			if n.FinishedAt.Before(mid) {
				first = append(first, n.Duration)
			} else {
				second = append(second, n.Duration)
			}
		}
		mt.Median = median(all)
		if m1, m2 := median(first), median(second); m1 > 0 && m2 > 0 {
			mt.Trend = float64(m2) / float64(m1)
		}
		w.Slowest = append(w.Slowest, mt)
	}
	slices.SortFunc(w.Slowest, func(a, b ModelTime) int {
		return cmp.Or(cmp.Compare(b.Median, a.Median), strings.Compare(a.Model, b.Model))
	})
	if len(w.Slowest) > 10 {
		w.Slowest = w.Slowest[:10]
	}
	w.ByClass, w.ByModel, w.ByOwner = counts(byClass, 10), counts(byModel, 10), counts(byOwner, 10)
	for _, inc := range in_.Incidents {
		if in(inc.OpenedAt, in_.From, in_.To) {
			w.Opened = append(w.Opened, inc)
		}
		if !inc.ResolvedAt.IsZero() && in(inc.ResolvedAt, in_.From, in_.To) {
			w.Resolved = append(w.Resolved, inc)
		}
	}
	for _, r := range in_.Alerts {
		if r.Alert.Type == alert.TypeDeadlineMissed && in(r.FirstSeen, in_.From, in_.To) {
			w.Deadlines = append(w.Deadlines, r)
		}
	}
	if f := in_.Freshness; f != nil {
		w.HasFreshness, w.OnSchedule = true, f.OnSchedule
		for _, s := range f.Freshness {
			if s.Level == monitor.LevelError || s.Level == monitor.LevelWarn {
				w.Stale = append(w.Stale, fmt.Sprintf("%s (%s, %s old)", s.Name, s.Level, s.Age.Round(time.Minute)))
			}
		}
	}
	return w
}

var funcs = map[string]any{
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"dur":  func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"trend": func(f float64) string {
		if f == 0 {
			return "-"
		}
		return fmt.Sprintf("%+.0f%%", (f-1)*100)
	},
	"join": strings.Join,
}

const mdText = `# Weekly data status: {{.Environment}}, {{date .From}} to {{date .To}}

## Runs
{{.Runs}} runs:{{range .Outcomes}} {{.Name}} {{.Count}};{{end}}

| day | runs | not successful | median build |
|---|---|---|---|
{{range .Days}}| {{.Date}} | {{.Runs}} | {{.Failed}} | {{dur .MedianBuild}} |
{{end}}
## Deadlines (SLA)
{{if .Deadlines}}{{range .Deadlines}}- {{.Alert.Title}}{{if not .Alert.EndsAt.IsZero}} (met later){{end}}
{{end}}{{else}}No deadline missed.
{{end}}
## Freshness
{{if .HasFreshness}}{{pct .OnSchedule}} of models and sources on schedule.{{if .Stale}} Stale: {{join .Stale ", "}}.{{end}}{{else}}Not evaluated.{{end}}

## Data quality
{{.Tests}} test runs, {{.TestFailures}} failed ({{pct .TestFailureRate}}).

## Slowest models
| model | median | max | runs | trend |
|---|---|---|---|---|
{{range .Slowest}}| {{.Model}} | {{dur .Median}} | {{dur .Max}} | {{.Runs}} | {{trend .Trend}} |
{{end}}
## Incidents
Opened: {{len .Opened}}. Resolved: {{len .Resolved}}.
{{range .Opened}}- {{.ID}} ({{.Severity}}, {{.Class}}, owner {{or .Owner "-"}}): {{join .Models ", "}} — {{.Status}}
{{end}}
## Recurring failures
By class:{{range .ByClass}} {{.Name}} {{.Count}};{{else}} none{{end}}
By model:{{range .ByModel}} {{.Name}} {{.Count}};{{else}} none{{end}}
By owner:{{range .ByOwner}} {{.Name}} {{.Count}};{{else}} none{{end}}
`

const htmlText = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Weekly data status: {{.Environment}}</title></head>
<body style="font-family: sans-serif">
<h1>Weekly data status: {{.Environment}}, {{date .From}} to {{date .To}}</h1>
<h2>Runs</h2>
<p>{{.Runs}} runs:{{range .Outcomes}} {{.Name}} {{.Count}};{{end}}</p>
<table border="1" cellpadding="4"><tr><th>day</th><th>runs</th><th>not successful</th><th>median build</th></tr>
{{range .Days}}<tr><td>{{.Date}}</td><td>{{.Runs}}</td><td>{{.Failed}}</td><td>{{dur .MedianBuild}}</td></tr>
{{end}}</table>
<h2>Deadlines (SLA)</h2>
{{if .Deadlines}}<ul>{{range .Deadlines}}<li>{{.Alert.Title}}</li>{{end}}</ul>{{else}}<p>No deadline missed.</p>{{end}}
<h2>Freshness</h2>
<p>{{if .HasFreshness}}{{pct .OnSchedule}} of models and sources on schedule.{{if .Stale}} Stale: {{join .Stale ", "}}.{{end}}{{else}}Not evaluated.{{end}}</p>
<h2>Data quality</h2>
<p>{{.Tests}} test runs, {{.TestFailures}} failed ({{pct .TestFailureRate}}).</p>
<h2>Slowest models</h2>
<table border="1" cellpadding="4"><tr><th>model</th><th>median</th><th>max</th><th>runs</th><th>trend</th></tr>
{{range .Slowest}}<tr><td>{{.Model}}</td><td>{{dur .Median}}</td><td>{{dur .Max}}</td><td>{{.Runs}}</td><td>{{trend .Trend}}</td></tr>
{{end}}</table>
<h2>Incidents</h2>
<p>Opened: {{len .Opened}}. Resolved: {{len .Resolved}}.</p>
<ul>{{range .Opened}}<li>{{.ID}} ({{.Severity}}, {{.Class}}, owner {{or .Owner "-"}}): {{join .Models ", "}} — {{.Status}}</li>{{end}}</ul>
<h2>Recurring failures</h2>
<p>By class:{{range .ByClass}} {{.Name}} {{.Count}};{{else}} none{{end}}<br>
By model:{{range .ByModel}} {{.Name}} {{.Count}};{{else}} none{{end}}<br>
By owner:{{range .ByOwner}} {{.Name}} {{.Count}};{{else}} none{{end}}</p>
</body></html>
`

var (
	mdTmpl   = template.Must(template.New("md").Funcs(funcs).Parse(mdText))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(htmlText))
)

// Markdown renders the report as markdown.
func (w Weekly) Markdown() (string, error) {
	var b bytes.Buffer
	if err := mdTmpl.Execute(&b, w); err != nil {
		return "", fmt.Errorf("weekly report: %w", err)
	}
	return b.String(), nil
}

// HTML renders the report as an HTML page (names are escaped).
func (w Weekly) HTML() (string, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, w); err != nil {
		return "", fmt.Errorf("weekly report: %w", err)
	}
	return b.String(), nil
}
