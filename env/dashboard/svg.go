package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"time"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
)

func urlPathEscape(s string) string { return url.PathEscape(s) }

// ---- Gantt timeline of a run ---------------------------------------------------

type ganttBar struct {
	X, Y, W, H float64
	Class      string
	Kind       string // wait, attempt, backoff
	Attempt    int
	Title      string
}

type ganttRow struct {
	Y, TY     float64
	Node      string
	Href      string
	Status    string
	Class     string
	Attempts  int
	Bars      []ganttBar
	Stripe    bool
	StripeW   float64
	LabelText string
}

type ganttTick struct {
	X     float64
	Label string
}

type ganttData struct {
	W, H   float64
	Left   float64
	Rows   []ganttRow
	Ticks  []ganttTick
	AxisY  float64
	Bottom float64
}

const (
	ganttLeft  = 240.0
	ganttWidth = 760.0
	ganttRowH  = 18.0
	ganttTop   = 22.0
)

// gantt draws a run's nodes on a time axis: for each node, the time it
// waited for a thread (grey), each attempt (coloured by its outcome), and
// the backoff between attempts (hatched).
func (h *Handler) gantt(envName string, results []*nodeResult) ([]byte, error) {
	var start, end time.Time
	for _, r := range results {
		for _, t := range []time.Time{r.ReadyAt, r.StartedAt} {
			if !t.IsZero() && (start.IsZero() || t.Before(start)) {
				start = t
			}
		}
		for _, a := range r.Attempts {
			if !a.StartedAt.IsZero() && (start.IsZero() || a.StartedAt.Before(start)) {
				start = a.StartedAt
			}
		}
		if r.FinishedAt.After(end) {
			end = r.FinishedAt
		}
	}
	if start.IsZero() || !end.After(start) {
		return nil, nil
	}
	span := end.Sub(start)
	x := func(t time.Time) float64 { return ganttLeft + ganttWidth*float64(t.Sub(start))/float64(span) }
	w := func(d time.Duration) float64 { return max(ganttWidth*float64(d)/float64(span), 1.5) }
	d := ganttData{W: ganttLeft + ganttWidth + 20, Left: ganttLeft, AxisY: ganttTop - 6}
	// Rows in the order nodes started.
	ordered := slices.Clone(results)
	slices.SortStableFunc(ordered, func(a, b *nodeResult) int { return a.StartedAt.Compare(b.StartedAt) })
	i := 0
	for _, r := range ordered {
		if r.StartedAt.IsZero() && len(r.Attempts) == 0 {
			continue // skipped: never ran
		}
		y := ganttTop + float64(i)*ganttRowH
		row := ganttRow{Y: y, TY: y + 12, Node: r.Node, Status: string(r.Status), Class: "st-" + statusClass(string(r.Status)),
			Attempts: max(len(r.Attempts), 1), Stripe: i%2 == 1, StripeW: ganttLeft + ganttWidth, LabelText: shortLabel(r.Node, 34)}
		if r.Kind != orchestrate.KindTest {
			row.Href = h.link(envName, "/models/"+url.PathEscape(r.Node))
		}
		if !r.ReadyAt.IsZero() && r.StartedAt.After(r.ReadyAt) {
			row.Bars = append(row.Bars, ganttBar{X: x(r.ReadyAt), Y: y + 4, W: w(r.StartedAt.Sub(r.ReadyAt)), H: 10, Class: "g-wait", Kind: "wait",
				Title: fmt.Sprintf("%s waited %s for a thread", r.Node, fmtDuration(r.Wait))})
		}
		if len(r.Attempts) == 0 {
			row.Bars = append(row.Bars, ganttBar{X: x(r.StartedAt), Y: y + 2, W: w(r.ExecutionTime), H: 14, Class: "g-" + statusClass(string(r.Status)), Kind: "attempt", Attempt: 1,
				Title: fmt.Sprintf("%s: %s in %s", r.Node, r.Status, fmtDuration(r.ExecutionTime))})
		}
		for k, a := range r.Attempts {
			cls := "g-ok"
			outcome := "succeeded"
			if a.Error != "" {
				cls, outcome = "g-bad", "failed ("+string(a.Class)+"): "+firstLine(a.Error)
				if a.Decision != "" {
					outcome += " → " + a.Decision
				}
			} else if !r.Status.OK() {
				cls = "g-" + statusClass(string(r.Status))
			}
			row.Bars = append(row.Bars, ganttBar{X: x(a.StartedAt), Y: y + 2, W: w(a.Duration), H: 14, Class: cls, Kind: "attempt", Attempt: a.Number,
				Title: fmt.Sprintf("%s attempt %d: %s in %s", r.Node, a.Number, outcome, fmtDuration(a.Duration))})
			if k+1 < len(r.Attempts) {
				end := a.StartedAt.Add(a.Duration)
				next := r.Attempts[k+1].StartedAt
				if next.After(end) {
					row.Bars = append(row.Bars, ganttBar{X: x(end), Y: y + 7, W: w(next.Sub(end)), H: 4, Class: "g-backoff", Kind: "backoff",
						Title: fmt.Sprintf("backoff %s before attempt %d", fmtDuration(next.Sub(end)), a.Number+1)})
				}
			}
		}
		d.Rows = append(d.Rows, row)
		i++
	}
	for k := 0; k <= 5; k++ {
		off := span * time.Duration(k) / 5
		d.Ticks = append(d.Ticks, ganttTick{X: ganttLeft + ganttWidth*float64(k)/5, Label: "+" + fmtDuration(off.Round(time.Millisecond))})
	}
	d.Bottom = ganttTop + float64(i)*ganttRowH
	d.H = d.Bottom + 8
	return render(ganttTmpl, d)
}

func shortLabel(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

var ganttTmpl = template.Must(template.New("gantt").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="Run timeline" font-family="sans-serif" font-size="11">
{{- range .Rows}}{{if .Stripe}}<rect x="0" y="{{.Y}}" width="{{.StripeW}}" height="18" class="g-stripe"/>{{end}}{{end}}
{{- range .Ticks}}
<line x1="{{.X}}" y1="{{$.AxisY}}" x2="{{.X}}" y2="{{$.Bottom}}" class="g-tick"/><text x="{{.X}}" y="{{$.AxisY}}" text-anchor="middle" class="g-ticklabel">{{.Label}}</text>
{{- end}}
{{- range .Rows}}
<g class="g-row {{.Class}}" data-node="{{.Node}}" data-status="{{.Status}}" data-attempts="{{.Attempts}}">
{{- if .Href}}<a href="{{.Href}}"><text x="4" y="{{.TY}}" class="g-label">{{.LabelText}}</text></a>{{else}}<text x="4" y="{{.TY}}" class="g-label">{{.LabelText}}</text>{{end}}
{{- range .Bars}}<rect x="{{printf "%.1f" .X}}" y="{{.Y}}" width="{{printf "%.1f" .W}}" height="{{.H}}" class="{{.Class}}" data-kind="{{.Kind}}"{{if eq .Kind "attempt"}} data-attempt="{{.Attempt}}"{{end}}><title>{{.Title}}</title></rect>{{end}}
</g>
{{- end}}
</svg>`))

// ---- time series charts ----------------------------------------------------------

type chartPoint struct {
	X, Y   float64
	Class  string
	Title  string
	Marker bool
}

type chartLabel struct {
	X             float64
	Label, Anchor string
}

type chartData struct {
	Label        string
	W, H         float64
	Line         string
	Points       []chartPoint
	BaselineY    float64
	HasBaseline  bool
	BaselineText string
	YTicks       []ganttTick
	XLabels      []chartLabel
	PlotL, PlotR float64
	PlotT, PlotB float64
}

const (
	chartW = 640.0
	chartH = 200.0
	plotL  = 60.0
	plotR  = 620.0
	plotT  = 14.0
	plotB  = 170.0
)

type series struct {
	at    time.Time
	v     float64
	title string
	class string
}

// chart draws a series (oldest first) as a line with points, an optional
// dashed baseline, and y ticks formatted by yfmt.
func (h *Handler) chart(label string, pts []series, base float64, hasBase bool, baseText string, floor float64, yfmt func(float64) string) ([]byte, error) {
	if len(pts) == 0 {
		return nil, nil
	}
	maxV := max(base*1.2, floor)
	for _, p := range pts {
		maxV = max(maxV, p.v)
	}
	if maxV <= 0 {
		maxV = 1
	}
	maxV *= 1.1
	n := len(pts)
	xAt := func(i int) float64 {
		if n == 1 {
			return (plotL + plotR) / 2
		}
		return plotL + (plotR-plotL)*float64(i)/float64(n-1)
	}
	yAt := func(v float64) float64 { return plotB - (plotB-plotT)*v/maxV }
	d := chartData{Label: label, W: chartW, H: chartH, PlotL: plotL, PlotR: plotR, PlotT: plotT, PlotB: plotB}
	var line bytes.Buffer
	for i, p := range pts {
		x, y := xAt(i), yAt(p.v)
		if i == 0 {
			fmt.Fprintf(&line, "M%.1f %.1f", x, y)
		} else {
			fmt.Fprintf(&line, " L%.1f %.1f", x, y)
		}
		d.Points = append(d.Points, chartPoint{X: x, Y: y, Class: p.class, Title: p.title})
	}
	d.Line = line.String()
	if hasBase {
		d.HasBaseline, d.BaselineY, d.BaselineText = true, yAt(base), baseText
	}
	for k := 0; k <= 4; k++ {
		v := maxV * float64(k) / 4
		d.YTicks = append(d.YTicks, ganttTick{X: yAt(v), Label: yfmt(v)})
	}
	d.XLabels = []chartLabel{{X: xAt(0), Label: pts[0].at.In(h.o.Location).Format("Jan 2 15:04"), Anchor: "start"}}
	if n > 1 {
		d.XLabels = append(d.XLabels, chartLabel{X: xAt(n - 1), Label: pts[n-1].at.In(h.o.Location).Format("Jan 2 15:04"), Anchor: "end"})
	}
	return render(chartTmpl, d)
}

var chartTmpl = template.Must(template.New("chart").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}" font-family="sans-serif" font-size="10">
<title>{{.Label}}</title>
{{- range .YTicks}}
<line x1="{{$.PlotL}}" y1="{{printf "%.1f" .X}}" x2="{{$.PlotR}}" y2="{{printf "%.1f" .X}}" class="c-grid"/><text x="{{$.PlotL}}" dx="-4" y="{{printf "%.1f" .X}}" dy="3" text-anchor="end" class="c-tick">{{.Label}}</text>
{{- end}}
{{- range .XLabels}}
<text x="{{printf "%.1f" .X}}" y="{{$.PlotB}}" dy="16" text-anchor="{{.Anchor}}" class="c-tick">{{.Label}}</text>
{{- end}}
{{- if .HasBaseline}}
<line x1="{{$.PlotL}}" y1="{{printf "%.1f" .BaselineY}}" x2="{{$.PlotR}}" y2="{{printf "%.1f" .BaselineY}}" class="c-baseline" data-kind="baseline"><title>{{.BaselineText}}</title></line>
{{- end}}
<path d="{{.Line}}" class="c-line"/>
{{- range .Points}}
<circle cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="{{if eq .Class "c-anomaly"}}5{{else}}3{{end}}" class="{{.Class}}"{{if eq .Class "c-anomaly"}} data-kind="anomaly"{{end}}><title>{{.Title}}</title></circle>
{{- end}}
</svg>`))

// durationChart charts a model's execution time over its history (newest
// first), with the baseline, and counts the anomalies (runs slower than
// anomalyFactor × the baseline).
func (h *Handler) durationChart(hist []duckenv.NodeOutcome, base time.Duration) ([]byte, int, error) {
	var pts []series
	anomalies := 0
	for i := len(hist) - 1; i >= 0; i-- {
		o := hist[i]
		if o.Duration <= 0 && o.Status != "success" {
			continue
		}
		cls := "c-point st-" + statusClass(o.Status)
		title := fmt.Sprintf("run %s: %s in %s", o.RunID, o.Status, fmtDuration(o.Duration))
		if base > 0 && float64(o.Duration) > anomalyFactor*float64(base) {
			cls = "c-anomaly"
			anomalies++
			title += fmt.Sprintf(" — %.1f× the baseline", float64(o.Duration)/float64(base))
		}
		pts = append(pts, series{at: o.StartedAt, v: o.Duration.Seconds(), title: title, class: cls})
	}
	out, err := h.chart("Execution time", pts, base.Seconds(), base > 0, "baseline (median of recent successes): "+fmtDuration(base), 0,
		func(v float64) string { return fmtDuration(time.Duration(v * float64(time.Second))) })
	return out, anomalies, err
}

// rowsChart charts a model's row counts over its history; a count that
// differs from the median of the others by more than half is marked.
func (h *Handler) rowsChart(hist []duckenv.NodeOutcome) ([]byte, error) {
	var rows []float64
	for _, o := range hist {
		if o.Status == "success" {
			rows = append(rows, float64(o.Rows))
		}
	}
	med := median(rows)
	var pts []series
	for i := len(hist) - 1; i >= 0; i-- {
		o := hist[i]
		if o.Status != "success" {
			continue
		}
		cls := "c-point st-ok"
		title := fmt.Sprintf("run %s: %d rows", o.RunID, o.Rows)
		if len(rows) >= baselineMin && med > 0 && (float64(o.Rows) < med/2 || float64(o.Rows) > med*1.5) {
			cls, title = "c-anomaly", title+fmt.Sprintf(" — median %.0f", med)
		}
		pts = append(pts, series{at: o.StartedAt, v: float64(o.Rows), title: title, class: cls})
	}
	return h.chart("Rows", pts, med, len(rows) >= baselineMin, fmt.Sprintf("median rows: %.0f", med), 0, func(v float64) string { return fmt.Sprintf("%.0f", v) })
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type ratePoint struct {
	At          time.Time
	Rate        float64
	Fail, Tests int
	RunID       string
}

func (h *Handler) rateChart(_ string, pts []ratePoint) ([]byte, error) {
	var s []series
	for _, p := range pts {
		cls := "c-point st-ok"
		if p.Fail > 0 {
			cls = "c-point st-bad"
		}
		s = append(s, series{at: p.At, v: p.Rate * 100, class: cls, title: fmt.Sprintf("run %s: %d of %d tests failed", p.RunID, p.Fail, p.Tests)})
	}
	return h.chart("Test failure rate", s, 0, false, "", 10, func(v float64) string { return fmt.Sprintf("%.0f%%", v) })
}

func render(t *template.Template, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
