package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Outcome is one node's final outcome in a run: what a Tracker needs to know
// about it.
type Outcome struct {
	// Node is the node's name.
	Node string
	// Status is the node's final status: "error", "fail" and "fallback"
	// count as failures, "success", "pass" and "warn" as successes; other
	// statuses ("skipped", "cancelled") say nothing about the node's health
	// and are ignored.
	Status string
	// Class is the failure class (recovery.Class) of a failed node.
	Class string
	// Error is the final error message of a failed node.
	Error string
	// Owner is the team owning the node.
	Owner string
	// Attempts is how many times the node was tried in the run (0 counts
	// as 1).
	Attempts int
	// Critical marks a node whose failure is SeverityCritical.
	Critical bool
}

// Failed reports whether the outcome is a failure (error, fail or
// fallback).
func (o Outcome) Failed() bool {
	return o.Status == "error" || o.Status == "fail" || o.Status == "fallback"
}

// Succeeded reports whether the node was built or passed (success, pass or
// warn).
func (o Outcome) Succeeded() bool {
	return o.Status == "success" || o.Status == "pass" || o.Status == "warn"
}

// severity is the severity of a failed outcome.
func (o Outcome) severity() string {
	switch {
	case o.Critical:
		return SeverityCritical
	case o.Status == "fallback":
		return SeverityMedium
	}
	return SeverityHigh
}

// severityRank orders the Tracker's severities; hand-set ones rank -1 and
// are never replaced.
func severityRank(s string) int {
	switch s {
	case "":
		return 0
	case SeverityMedium:
		return 1
	case SeverityHigh:
		return 2
	case SeverityCritical:
		return 3
	}
	return -1
}

// escalate returns the more severe of current and next.
func escalate(current, next string) string {
	if r := severityRank(current); r >= 0 && severityRank(next) > r {
		return next
	}
	return current
}

// Changes is what Tracker.Observe did, each list in a stable order
// (incidents opened in the order their first model appears in the
// outcomes; updated and resolved ones oldest first). An incident appears in
// at most one list.
type Changes struct {
	// Opened are the new incidents, with their IDs.
	Opened []Incident
	// Updated are open incidents that changed: new failures, models that
	// recovered while others still fail.
	Updated []Incident
	// Resolved are the incidents whose last models recovered.
	Resolved []Incident
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.Opened) == 0 && len(c.Updated) == 0 && len(c.Resolved) == 0
}

// Tracker turns finished runs into incidents in Store.
//
// A Tracker only looks at the open incidents of its Environment (all open
// incidents when Environment is empty). Observe calls for the same store
// should not run concurrently: each reads the open incidents and writes them
// back.
type Tracker struct {
	// Store keeps the incidents.
	Store Store
	// Environment is the environment the observed runs ran in.
	Environment string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// tracked is an open incident being changed by Observe.
type tracked struct {
	inc     Incident
	isNew   bool
	changed bool
	// loadedRun and loadedModels are LastRunID and Models as stored before
	// this Observe, so that observing the same run twice does not count
	// its attempts twice.
	loadedRun    string
	loadedModels []string
}

// Observe applies the outcomes of finished run runID:
//
//   - Failed nodes (error, fail, fallback) already covered by an open
//     incident of the same failure class update it: Attempts, Occurrences,
//     LastError, Severity (which only escalates), LastFailedAt and
//     UpdatedAt, and the node no longer counts as recovered.
//   - The other failed nodes are grouped by failure class and owner: each
//     group joins an open incident of that class and owner that this run
//     already updated, or else opens one incident with all its models.
//   - Succeeded nodes (success, pass, warn) count as recovered in the open
//     incidents covering them; an incident whose models have all recovered
//     since they last failed is resolved, with ResolvedByRun set to runID.
//
// Observing the same run again changes nothing but UpdatedAt and
// LastFailedAt. Observe
// returns what it opened, updated and resolved; on a store error it returns
// the changes already stored along with the error.
func (t *Tracker) Observe(ctx context.Context, runID string, outcomes []Outcome) (Changes, error) {
	if runID == "" {
		return Changes{}, errors.New("observe run: empty run ID")
	}
	if t.Store == nil {
		return Changes{}, errors.New("observe run: nil Store")
	}
	now := t.now()
	open, err := t.Store.List(ctx, Filter{Status: StatusOpen, Environment: t.Environment})
	if err != nil {
		return Changes{}, fmt.Errorf("observe run %s: %w", runID, err)
	}
	slices.Reverse(open) // oldest first: the oldest covering incident wins
	var incs []*tracked
	for _, inc := range open {
		incs = append(incs, &tracked{inc: inc, loadedRun: inc.LastRunID, loadedModels: slices.Clone(inc.Models)})
	}

	// The last outcome of each node, in the order nodes first appear.
	var nodes []string
	last := map[string]Outcome{}
	for _, o := range outcomes {
		if _, seen := last[o.Node]; !seen {
			nodes = append(nodes, o.Node)
		}
		last[o.Node] = o
	}

	type groupKey struct{ class, owner string }
	var groups []groupKey
	grouped := map[groupKey][]Outcome{}
	for _, node := range nodes {
		o := last[node]
		if !o.Failed() {
			continue
		}
		var cover *tracked
		for _, tr := range incs {
			if !tr.inc.Covers(node) {
				continue
			}
			// A failing model has not recovered, whatever the class.
			if i := slices.Index(tr.inc.Recovered, node); i >= 0 {
				tr.inc.Recovered = slices.Delete(tr.inc.Recovered, i, i+1)
				tr.inc.UpdatedAt, tr.changed = now, true
			}
			if cover == nil && tr.inc.Class == o.Class {
				cover = tr
			}
		}
		if cover != nil {
			cover.fail(runID, o, now)
			continue
		}
		k := groupKey{o.Class, o.Owner}
		if _, ok := grouped[k]; !ok {
			groups = append(groups, k)
		}
		grouped[k] = append(grouped[k], o)
	}
	for _, k := range groups {
		var join *tracked
		for _, tr := range incs {
			if tr.inc.Class == k.class && tr.inc.Owner == k.owner && tr.inc.LastRunID == runID {
				join = tr
				break
			}
		}
		if join == nil {
			join = &tracked{isNew: true, inc: Incident{
				Environment: t.Environment,
				OpenedAt:    now,
				Status:      StatusOpen,
				Class:       k.class,
				Owner:       k.owner,
				RunID:       runID,
			}}
			incs = append(incs, join)
		}
		for _, o := range grouped[k] {
			join.inc.Models = append(join.inc.Models, o.Node)
			join.fail(runID, o, now)
		}
	}

	for _, node := range nodes {
		if !last[node].Succeeded() {
			continue
		}
		for _, tr := range incs {
			if tr.inc.Covers(node) && !slices.Contains(tr.inc.Recovered, node) {
				tr.inc.Recovered = append(tr.inc.Recovered, node)
				tr.inc.UpdatedAt, tr.changed = now, true
			}
		}
	}

	var ch Changes
	for _, tr := range incs {
		if !tr.isNew {
			continue
		}
		inc, err := t.Store.Open(ctx, tr.inc)
		if err != nil {
			return ch, fmt.Errorf("observe run %s: %w", runID, err)
		}
		ch.Opened = append(ch.Opened, inc)
	}
	for _, tr := range incs {
		if tr.isNew || !tr.changed {
			continue
		}
		resolved := len(tr.inc.Pending()) == 0
		if resolved {
			tr.inc.Status = StatusResolved
			tr.inc.ResolvedAt = now
			tr.inc.ResolvedByRun = runID
		}
		if err := t.Store.Update(ctx, tr.inc); err != nil {
			return ch, fmt.Errorf("observe run %s: %w", runID, err)
		}
		if resolved {
			ch.Resolved = append(ch.Resolved, Normalize(tr.inc))
		} else {
			ch.Updated = append(ch.Updated, Normalize(tr.inc))
		}
	}
	return ch, nil
}

// fail records failed outcome o of run runID.
func (tr *tracked) fail(runID string, o Outcome, now time.Time) {
	inc := &tr.inc
	if inc.LastRunID != runID {
		inc.LastRunID = runID
		inc.Occurrences++
	}
	if tr.loadedRun != runID || !slices.Contains(tr.loadedModels, o.Node) {
		inc.Attempts += max(o.Attempts, 1)
	}
	if o.Error != "" {
		if inc.FirstError == "" {
			inc.FirstError = o.Error
		}
		inc.LastError = o.Error
	}
	inc.Severity = escalate(inc.Severity, o.severity())
	inc.UpdatedAt, inc.LastFailedAt = now, now
	tr.changed = true
}
