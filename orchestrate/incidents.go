package orchestrate

import (
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/recovery/incident"
)

// IncidentOutcomes turns a run's results into what an incident.Tracker
// observes: each node's final status, failure class, error, owner, attempts
// and criticality.
func IncidentOutcomes(run *Run, plan *Plan) []incident.Outcome {
	out := make([]incident.Outcome, 0, len(run.Results))
	for _, r := range run.Results {
		o := incident.Outcome{
			Node: r.Node, Status: string(r.Status), Class: string(r.Class),
			Error: r.Error, Attempts: len(r.Attempts),
		}
		if r.Class == recovery.ClassCancelled {
			// An interrupted node says nothing about its health.
			o.Status = string(StatusCancelled)
		}
		if n := plan.Node(r.Node); n != nil {
			o.Owner = n.Owner
			o.Critical = n.Critical
		}
		out = append(out, o)
	}
	return out
}
