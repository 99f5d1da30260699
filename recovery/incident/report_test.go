package incident_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/recovery/incident"
)

func reportOf(t *testing.T, inc incident.Incident, runbook string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, incident.WriteReport(&b, inc, runbook))
	return b.String()
}

// section returns the body of a "## name" section.
func section(t *testing.T, report, name string) string {
	t.Helper()
	_, rest, found := strings.Cut(report, "\n## "+name+"\n")
	require.True(t, found, "section %q in\n%s", name, report)
	body, _, _ := strings.Cut(rest, "\n## ")
	return strings.TrimSpace(body)
}

func resolvedIncident() incident.Incident {
	opened := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	return incident.Incident{
		ID:            "INC-20261125-0001",
		Environment:   "prod",
		OpenedAt:      opened,
		UpdatedAt:     opened.Add(3 * time.Hour),
		ResolvedAt:    opened.Add(3*time.Hour + 5*time.Minute),
		Status:        incident.StatusResolved,
		Models:        []string{"stg_orders", "stg_payments"},
		Recovered:     []string{"stg_orders", "stg_payments"},
		Class:         "permanent",
		FirstError:    "models/staging/stg_orders.sql:3: model stg_orders: Binder Error: Referenced column \"amount\" not found",
		LastError:     "timed out",
		Attempts:      7,
		Occurrences:   3,
		RunID:         "run-1",
		LastRunID:     "run-3",
		LastFailedAt:  opened.Add(2 * time.Hour),
		ResolvedByRun: "run-4",
		Owner:         "finance",
		Severity:      incident.SeverityHigh,
		Notes: []incident.Note{
			{At: opened.Add(20 * time.Minute), Author: "asha", Text: "Paged finance on-call."},
			{At: opened.Add(time.Hour), Author: "ravi", Text: "Upstream renamed amount to amount_inr.\nPR opened."},
		},
		RootCause: "The orders export renamed `amount` without notice.",
	}
}

func TestWriteReport(t *testing.T) {
	inc := resolvedIncident()
	r := reportOf(t, inc, "See [runbook: schema changes](https://wiki.example.com/runbooks/schema).")

	assert.True(t, strings.HasPrefix(r, "# INC-20261125-0001: permanent failure in stg_orders, stg_payments\n\n"), r)
	assert.Contains(t, r, "**Status:** resolved (2026-11-25 09:05:00 UTC, after 3h5m0s)")

	assert.Equal(t, strings.Join([]string{
		"- 2026-11-25 06:00:00 UTC: opened by run `run-1`",
		"- 2026-11-25 06:20:00 UTC: note by asha: Paged finance on-call.",
		"- 2026-11-25 07:00:00 UTC: note by ravi:",
		"  Upstream renamed amount to amount_inr.",
		"  PR opened.",
		"- 2026-11-25 08:00:00 UTC: last failed in run `run-3`",
		"- 2026-11-25 09:05:00 UTC: resolved: all models succeeded again in run `run-4`",
	}, "\n"), section(t, r, "Timeline"))

	impact := section(t, r, "Impact")
	assert.Contains(t, impact, "- Models (2): `stg_orders`, `stg_payments`")
	assert.Contains(t, impact, "- Owner: finance")
	assert.Contains(t, impact, "- Severity: high")
	assert.Contains(t, impact, "- Environment: prod")
	assert.NotContains(t, impact, "Still failing", "resolved incidents do not list progress")

	failure := section(t, r, "Failure")
	assert.Contains(t, failure, "- Class: permanent")
	assert.Contains(t, failure, "- Attempts: 7 over 3 runs")
	assert.Contains(t, failure, "First error:\n\n```text\n"+inc.FirstError+"\n```")
	assert.Contains(t, failure, "Last error:\n\n```text\ntimed out\n```")

	assert.Equal(t, inc.RootCause, section(t, r, "Root cause"))
	assert.Equal(t, "See [runbook: schema changes](https://wiki.example.com/runbooks/schema).", section(t, r, "Runbook"))
	assert.Contains(t, section(t, r, "Lessons learned"), "post-incident review")

	// Sections come in order.
	var last int
	for _, h := range []string{"## Timeline", "## Impact", "## Failure", "## Root cause", "## Runbook", "## Lessons learned"} {
		i := strings.Index(r, "\n"+h+"\n")
		require.Greater(t, i, last, h)
		last = i
	}
}

func TestWriteReportOpen(t *testing.T) {
	inc := resolvedIncident()
	inc.Status = incident.StatusOpen
	inc.ResolvedAt, inc.ResolvedByRun = time.Time{}, ""
	inc.Recovered = []string{"stg_orders"}
	inc.Models = []string{"stg_orders", "stg_payments", "int_payments", "mart_sales", "mart_customers"}
	inc.LastError = inc.FirstError
	inc.Occurrences = 1
	inc.RootCause = ""
	inc.Notes = nil
	inc.FirstError = "weird ``` error with ```` fences"
	r := reportOf(t, inc, "")

	assert.True(t, strings.HasPrefix(r, "# INC-20261125-0001: permanent failure in stg_orders, stg_payments, int_payments and 2 more\n"), r)
	assert.Contains(t, r, "**Status:** open since 2026-11-25 06:00:00 UTC")
	assert.NotContains(t, section(t, r, "Timeline"), "resolved")
	assert.Contains(t, section(t, r, "Impact"), "- Recovered so far: `stg_orders`")
	assert.Contains(t, section(t, r, "Impact"), "- Still failing: `stg_payments`, `int_payments`, `mart_sales`, `mart_customers`")
	failure := section(t, r, "Failure")
	assert.Contains(t, failure, "- Attempts: 7\n")
	assert.Contains(t, failure, "`````text\nweird ``` error with ```` fences\n`````", "the fence outlasts the error's backticks")
	assert.Equal(t, "_Not yet determined._", section(t, r, "Root cause"))
	assert.Equal(t, "_No runbook linked._", section(t, r, "Runbook"))
}

func TestWriteReportEmpty(t *testing.T) {
	r := reportOf(t, incident.Incident{}, "")
	assert.True(t, strings.HasPrefix(r, "# Incident: unclassified failure\n"), r)
	assert.Contains(t, r, "(no error message)")
	assert.Contains(t, r, "## Lessons learned")
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteReportError(t *testing.T) {
	assert.EqualError(t, incident.WriteReport(errWriter{}, resolvedIncident(), ""), "broken pipe")
}
