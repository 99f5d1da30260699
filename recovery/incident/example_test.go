package incident_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vyaparbazaar/dataops/recovery/incident"
)

func ExampleTracker() {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	tr := &incident.Tracker{
		Store:       incident.NewMemoryStore(),
		Environment: "prod",
		Now:         func() time.Time { return now },
	}

	// The 06:00 run: two models of the finance team fail the same way.
	ch, _ := tr.Observe(ctx, "run-0600", []incident.Outcome{
		{Node: "stg_orders", Status: "error", Class: "permanent", Owner: "finance", Attempts: 1,
			Error: `Binder Error: Referenced column "amount" not found`},
		{Node: "stg_payments", Status: "error", Class: "permanent", Owner: "finance", Attempts: 1,
			Error: `Binder Error: Referenced column "fee" not found`},
		{Node: "mart_sales", Status: "skipped"},
	})
	inc := ch.Opened[0]
	fmt.Println("opened", inc.ID, inc.Models, inc.Severity)

	// 07:00: one is fixed, the other still fails: the incident stays open.
	now = now.Add(time.Hour)
	ch, _ = tr.Observe(ctx, "run-0700", []incident.Outcome{
		{Node: "stg_orders", Status: "success"},
		{Node: "stg_payments", Status: "error", Class: "permanent", Owner: "finance", Attempts: 1,
			Error: `Binder Error: Referenced column "fee" not found`},
	})
	inc = ch.Updated[0]
	fmt.Println("updated", inc.ID, inc.Status, "attempts:", inc.Attempts, "still failing:", inc.Pending())

	_ = incident.AddNote(ctx, tr.Store, inc.ID, "asha", "Upstream renamed the columns.", now)

	// 08:00: everything succeeds: resolved.
	now = now.Add(time.Hour)
	ch, _ = tr.Observe(ctx, "run-0800", []incident.Outcome{
		{Node: "stg_payments", Status: "success"},
		{Node: "mart_sales", Status: "success"},
	})
	inc = ch.Resolved[0]
	fmt.Println("resolved", inc.ID, "by", inc.ResolvedByRun, "after", inc.ResolvedAt.Sub(inc.OpenedAt))

	_ = incident.WriteReport(os.Stdout, inc, "https://wiki.example.com/runbooks/schema-change")
	// Output:
	// opened INC-20261125-0001 [stg_orders stg_payments] high
	// updated INC-20261125-0001 open attempts: 3 still failing: [stg_payments]
	// resolved INC-20261125-0001 by run-0800 after 2h0m0s
	// # INC-20261125-0001: permanent failure in stg_orders, stg_payments
	//
	// **Status:** resolved (2026-11-25 08:00:00 UTC, after 2h0m0s)
	//
	// ## Timeline
	//
	// - 2026-11-25 06:00:00 UTC: opened by run `run-0600`
	// - 2026-11-25 07:00:00 UTC: note by asha: Upstream renamed the columns.
	// - 2026-11-25 07:00:00 UTC: last failed in run `run-0700`
	// - 2026-11-25 08:00:00 UTC: resolved: all models succeeded again in run `run-0800`
	//
	// ## Impact
	//
	// - Environment: prod
	// - Models (2): `stg_orders`, `stg_payments`
	// - Owner: finance
	// - Severity: high
	//
	// ## Failure
	//
	// - Class: permanent
	// - Attempts: 3 over 2 runs
	//
	// First error:
	//
	// ```text
	// Binder Error: Referenced column "amount" not found
	// ```
	//
	// Last error:
	//
	// ```text
	// Binder Error: Referenced column "fee" not found
	// ```
	//
	// ## Root cause
	//
	// _Not yet determined._
	//
	// ## Runbook
	//
	// https://wiki.example.com/runbooks/schema-change
	//
	// ## Lessons learned
	//
	// _To be completed in the post-incident review: what went well, what went wrong, where we got lucky, and the action items (with owners)._
}
