package orchestrate

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Progress is an Observer that prints dbt-style progress lines and, when the
// run finishes, a summary with a tree of failures and the nodes they skipped:
//
//	12 of 48 OK mart_daily_sales .......................... [1.21s, 3,402 rows]
//
// Time spent waiting for a free thread is shown apart from execution time.
type Progress struct {
	w io.Writer
	// Verbose also prints a START line for each node.
	Verbose bool
	nodes   map[string]*Node
}

// NewProgress returns a Progress writing to w.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, nodes: map[string]*Node{}}
}

const progressWidth = 64

// OnEvent prints one event.
func (p *Progress) OnEvent(e Event) {
	if e.Node != nil {
		p.nodes[e.Node.Name] = e.Node
	}
	ts := e.Time.Format("15:04:05")
	switch e.Type {
	case RunStarted:
		fmt.Fprintf(p.w, "%s  Running %d nodes with %d thread%s (run %s)\n", ts, e.Total, e.Run.Threads, plural(e.Run.Threads), e.RunID)
	case NodeStarted:
		if p.Verbose || e.Attempt > 1 {
			label := "START"
			if e.Attempt > 1 {
				label = fmt.Sprintf("START attempt %d", e.Attempt)
			}
			p.line(ts, e, label, describe(e.Node), "[RUN]")
		}
	case NodeRetrying:
		p.line(ts, e, "RETRY", describe(e.Node), fmt.Sprintf("[attempt %d failed, retrying in %s]", e.Attempt, e.Delay.Round(time.Millisecond)))
		fmt.Fprintf(p.w, "          %s\n", firstLine(errText(e.Err)))
	case NodeFinished:
		r := e.Result
		if r.Status == StatusSkipped {
			p.line(ts, e, "SKIP", describe(e.Node), "["+r.SkippedBecause+"]")
			if r.Serving != nil {
				fmt.Fprintf(p.w, "          %s\n", servingText(r.Serving))
			}
			return
		}
		p.line(ts, e, statusLabel(r), describe(e.Node), "["+resultFacts(r)+"]")
		if r.Status == StatusError || r.Status == StatusFail || r.Status == StatusFallback {
			fmt.Fprintf(p.w, "          %s\n", firstLine(r.Error))
		}
		if r.Serving != nil {
			fmt.Fprintf(p.w, "          %s\n", servingText(r.Serving))
		}
	case RunFinished:
		p.summary(e.Run)
	}
}

func (p *Progress) line(ts string, e Event, label, what, facts string) {
	head := fmt.Sprintf("%s  %d of %d %s %s ", ts, e.Index, e.Total, label, what)
	if e.Index == 0 {
		head = fmt.Sprintf("%s  %s %s ", ts, label, what)
	}
	dots := progressWidth - len(head)
	if dots < 3 {
		dots = 3
	}
	fmt.Fprintf(p.w, "%s%s %s\n", head, strings.Repeat(".", dots), facts)
}

func describe(n *Node) string {
	return n.Name
}

func statusLabel(r *NodeResult) string {
	switch r.Status {
	case StatusSuccess:
		return "OK"
	case StatusPass:
		return "PASS"
	case StatusWarn:
		return "WARN"
	case StatusFail:
		return "FAIL"
	case StatusFallback:
		return "FALLBACK"
	default:
		return "ERROR"
	}
}

func resultFacts(r *NodeResult) string {
	parts := []string{fmtDur(r.ExecutionTime)}
	switch {
	case r.Kind == KindTest && (r.Status == StatusFail || r.Status == StatusWarn):
		parts = append(parts, humanize.Comma(r.Failures)+" failing rows")
	case r.RowsAffected >= 0 && r.Status == StatusSuccess:
		parts = append(parts, humanize.Comma(r.RowsAffected)+" rows")
	}
	if r.Wait >= 50*time.Millisecond {
		parts = append(parts, "waited "+fmtDur(r.Wait))
	}
	if len(r.Attempts) > 1 {
		parts = append(parts, fmt.Sprintf("%d attempts", len(r.Attempts)))
	}
	if r.Class != "" && r.Status != StatusFail {
		parts = append(parts, string(r.Class))
	}
	return strings.Join(parts, ", ")
}

func servingText(sv *Serving) string {
	return fmt.Sprintf("still serving the version built by run %s at %s", sv.RunID, sv.BuiltAt.Local().Format("2006-01-02 15:04:05"))
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (p *Progress) summary(run *Run) {
	c := run.Counts()
	fmt.Fprintf(p.w, "\nFinished %d nodes in %s: PASS=%d WARN=%d ERROR=%d FAIL=%d SKIP=%d",
		len(run.Results), fmtDur(run.Elapsed), c[StatusSuccess]+c[StatusPass], c[StatusWarn], c[StatusError], c[StatusFail], c[StatusSkipped])
	if c[StatusFallback] > 0 {
		fmt.Fprintf(p.w, " FALLBACK=%d", c[StatusFallback])
	}
	fmt.Fprintln(p.w)
	fmt.Fprint(p.w, run.Publication.describe())
	failed := run.Failed()
	if len(failed) == 0 {
		switch run.Status {
		case StatusSuccess:
			fmt.Fprintln(p.w, "Completed successfully")
		default:
			fmt.Fprintf(p.w, "Run %s\n", run.Status)
		}
		return
	}
	fmt.Fprintf(p.w, "\nCompleted with %d failure%s:\n", len(failed), plural(len(failed)))
	// Children by tree parent: a skipped node hangs under the first of its
	// dependencies that failed or was skipped for the same root cause.
	byName := map[string]*NodeResult{}
	for _, r := range run.Results {
		byName[r.Node] = r
	}
	kids := map[string][]string{}
	for _, r := range run.Results {
		if r.Status != StatusSkipped || !isUpstreamSkip(r.SkippedBecause) {
			continue
		}
		n := p.nodes[r.Node]
		if n == nil {
			continue
		}
		root := upstreamOf(r.SkippedBecause)
		parent := root
		for _, d := range n.Deps {
			dr := byName[d]
			if dr != nil && (d == root || (dr.Status == StatusSkipped && dr.SkippedBecause == r.SkippedBecause)) {
				parent = d
				break
			}
		}
		kids[parent] = append(kids[parent], r.Node)
	}
	for _, f := range failed {
		fmt.Fprintf(p.w, "  %s %s\n", statusLabel(f), f.Node)
		for _, l := range strings.Split(strings.TrimSpace(f.Error), "\n") {
			fmt.Fprintf(p.w, "      %s\n", l)
		}
		p.tree(kids, f.Node, "    ")
	}
	var other []string
	for _, r := range run.Results {
		if r.Status == StatusSkipped && !isUpstreamSkip(r.SkippedBecause) {
			other = append(other, r.Node)
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		fmt.Fprintf(p.w, "  not started (%s): %s\n", byName[other[0]].SkippedBecause, strings.Join(other, ", "))
	}
}

func isUpstreamSkip(reason string) bool {
	return strings.HasPrefix(reason, "upstream failed: ") || strings.HasPrefix(reason, "upstream fell back: ")
}

func upstreamOf(reason string) string {
	_, name, _ := strings.Cut(reason, ": ")
	return name
}

func (p *Progress) tree(kids map[string][]string, name, indent string) {
	list := kids[name]
	sort.Strings(list)
	for i, k := range list {
		branch, next := "├─ ", "│  "
		if i == len(list)-1 {
			branch, next = "└─ ", "   "
		}
		fmt.Fprintf(p.w, "%s%sUPSTREAM FAILED %s\n", indent, branch, k)
		p.tree(kids, k, indent+next)
	}
}
