package incident

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// reportTime is how WriteReport prints times.
const reportTime = "2006-01-02 15:04:05 MST"

// WriteReport writes inc as a markdown incident report, ready for the
// post-incident review: a title, the status, a timeline (opened, notes,
// resolved), the impact (environment, models, owner, severity), the failure
// (class, attempts, the first and last errors in code blocks), the root
// cause, the runbook (runbook is markdown, such as a link; "" prints a
// placeholder) and an empty "Lessons learned" section to fill in.
func WriteReport(w io.Writer, inc Incident, runbook string) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# %s: %s\n\n", orDefault(inc.ID, "Incident"), title(&inc))
	status := string(inc.Status)
	switch {
	case inc.Status == StatusResolved && !inc.ResolvedAt.IsZero():
		status += " (" + formatTime(inc.ResolvedAt) + ", after " + formatDuration(inc.ResolvedAt.Sub(inc.OpenedAt)) + ")"
	case inc.Status == StatusOpen && !inc.OpenedAt.IsZero():
		status += " since " + formatTime(inc.OpenedAt)
	}
	p("**Status:** %s\n\n", orDefault(status, "unknown"))

	p("## Timeline\n\n")
	if !inc.OpenedAt.IsZero() {
		p("- %s: opened%s\n", formatTime(inc.OpenedAt), runRef(" by run ", inc.RunID))
	}
	for _, n := range inc.Notes {
		p("- %s: note by %s:", formatTime(n.At), orDefault(n.Author, "unknown"))
		writeIndented(b, n.Text)
	}
	if inc.LastRunID != "" && inc.LastRunID != inc.RunID {
		when := "unknown time"
		if !inc.LastFailedAt.IsZero() {
			when = formatTime(inc.LastFailedAt)
		}
		p("- %s: last failed%s\n", when, runRef(" in run ", inc.LastRunID))
	}
	if inc.Status == StatusResolved {
		when := "unknown time"
		if !inc.ResolvedAt.IsZero() {
			when = formatTime(inc.ResolvedAt)
		}
		if inc.ResolvedByRun != "" {
			p("- %s: resolved: all models succeeded again in run `%s`\n", when, inc.ResolvedByRun)
		} else {
			p("- %s: resolved by hand\n", when)
		}
	}
	p("\n")

	p("## Impact\n\n")
	p("- Environment: %s\n", orDefault(inc.Environment, "unknown"))
	p("- Models (%d): %s\n", len(inc.Models), codeList(inc.Models))
	if inc.Status == StatusOpen && len(inc.Recovered) > 0 {
		p("- Recovered so far: %s\n", codeList(inc.Recovered))
		p("- Still failing: %s\n", codeList(inc.Pending()))
	}
	p("- Owner: %s\n", orDefault(inc.Owner, "unassigned"))
	p("- Severity: %s\n\n", orDefault(inc.Severity, "unset"))

	p("## Failure\n\n")
	p("- Class: %s\n", orDefault(inc.Class, "unclassified"))
	p("- Attempts: %d", inc.Attempts)
	if inc.Occurrences > 1 {
		p(" over %d runs", inc.Occurrences)
	}
	p("\n\nFirst error:\n\n")
	writeCode(b, orDefault(inc.FirstError, "(no error message)"))
	if inc.LastError != "" && inc.LastError != inc.FirstError {
		p("\nLast error:\n\n")
		writeCode(b, inc.LastError)
	}
	p("\n")

	p("## Root cause\n\n")
	if strings.TrimSpace(inc.RootCause) == "" {
		p("_Not yet determined._\n\n")
	} else {
		p("%s\n\n", strings.TrimRight(inc.RootCause, "\n"))
	}

	p("## Runbook\n\n")
	if strings.TrimSpace(runbook) == "" {
		p("_No runbook linked._\n\n")
	} else {
		p("%s\n\n", strings.TrimRight(runbook, "\n"))
	}

	p("## Lessons learned\n\n")
	p("_To be completed in the post-incident review: what went well, what went wrong, where we got lucky, and the action items (with owners)._\n")
	return b.Flush()
}

// title summarises the incident: "permanent failure in a, b and 3 more".
func title(inc *Incident) string {
	class := orDefault(inc.Class, "unclassified")
	if len(inc.Models) == 0 {
		return class + " failure"
	}
	const shown = 3
	models := inc.Models
	more := ""
	if len(models) > shown+1 {
		more = fmt.Sprintf(" and %d more", len(models)-shown)
		models = models[:shown]
	}
	return class + " failure in " + strings.Join(models, ", ") + more
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func runRef(prefix, run string) string {
	if run == "" {
		return ""
	}
	return prefix + "`" + run + "`"
}

func formatTime(t time.Time) string { return t.UTC().Format(reportTime) }

func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

func codeList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = "`" + s + "`"
	}
	return strings.Join(out, ", ")
}

// writeIndented writes text after a list item's first line: one line goes
// on the same line, more lines are indented under the item.
func writeIndented(b *bufio.Writer, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 1 {
		b.WriteString(" " + lines[0] + "\n")
		return
	}
	b.WriteString("\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + l + "\n")
	}
}

// writeCode writes text as a fenced code block whose fence is longer than
// any run of backticks in text.
func writeCode(b *bufio.Writer, text string) {
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	b.WriteString(fence + "text\n" + strings.TrimRight(text, "\n") + "\n" + fence + "\n")
}
