package env

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Fingerprint is a node's state: its own definition's hash and the hash
// including everything upstream (see project.NodeState).
type Fingerprint struct {
	Kind string `json:"kind"`
	Own  string `json:"own"`
	Full string `json:"full"`
}

// DeployPlan is what deploying the project's code to an environment
// changes, compared with the environment's manifest (what was deployed).
type DeployPlan struct {
	Environment string `json:"environment"`
	// Project is the project's fingerprint; Commit its git commit.
	Project string `json:"project_fingerprint"`
	Commit  string `json:"git_commit,omitempty"`
	// Added nodes are new; Modified changed their own definition; Removed
	// are in the manifest but no longer in the project; Downstream did not
	// change themselves but are rebuilt because something upstream did.
	Added      []string `json:"added"`
	Modified   []string `json:"modified"`
	Removed    []string `json:"removed"`
	Downstream []string `json:"downstream"`
	// FirstDeploy is true when the environment has no manifest yet:
	// everything is built.
	FirstDeploy bool `json:"first_deploy"`
	// Fingerprint identifies this exact plan: approvals are for it.
	Fingerprint string `json:"fingerprint"`
}

// NewDeployPlan compares the project's fingerprints (current) with the
// environment's manifest (deployed; nil when it has none).
func NewDeployPlan(environment, projectFP, commit string, current, deployed map[string]Fingerprint) *DeployPlan {
	p := &DeployPlan{Environment: environment, Project: projectFP, Commit: commit, FirstDeploy: deployed == nil,
		Added: []string{}, Modified: []string{}, Removed: []string{}, Downstream: []string{}}
	for _, name := range slices.Sorted(maps.Keys(current)) {
		c := current[name]
		d, ok := deployed[name]
		switch {
		case !ok:
			p.Added = append(p.Added, name)
		case d.Own != c.Own:
			p.Modified = append(p.Modified, name)
		case d.Full != c.Full:
			p.Downstream = append(p.Downstream, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(deployed)) {
		if _, ok := current[name]; !ok {
			p.Removed = append(p.Removed, name)
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", environment, projectFP)
	for _, list := range [][]string{p.Added, p.Modified, p.Removed, p.Downstream} {
		fmt.Fprintf(h, "%s\n", strings.Join(list, ","))
	}
	for _, name := range slices.Sorted(maps.Keys(current)) {
		fmt.Fprintf(h, "%s=%s\n", name, current[name].Full)
	}
	p.Fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
	return p
}

// Empty reports whether the plan changes nothing.
func (p *DeployPlan) Empty() bool {
	return !p.FirstDeploy && len(p.Added)+len(p.Modified)+len(p.Removed)+len(p.Downstream) == 0
}

// State maps each added or modified node to "new" or "modified", for the
// state: selector (state:modified+ then adds the downstream nodes).
func (p *DeployPlan) State() map[string]string {
	st := map[string]string{}
	for _, n := range p.Added {
		st[n] = "new"
	}
	for _, n := range p.Modified {
		st[n] = "modified"
	}
	return st
}

// Text renders the plan for people.
func (p *DeployPlan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan %s for %s (code %s", p.Fingerprint, p.Environment, short(p.Project))
	if p.Commit != "" {
		fmt.Fprintf(&b, ", git %s", short(p.Commit))
	}
	b.WriteString(")\n")
	if p.FirstDeploy {
		b.WriteString("  first deploy: every node is built\n")
	}
	section := func(sign, title string, list []string) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "  %s (%d):\n", title, len(list))
		for _, n := range list {
			fmt.Fprintf(&b, "    %s %s\n", sign, n)
		}
	}
	section("+", "added", p.Added)
	section("~", "modified", p.Modified)
	section("-", "removed", p.Removed)
	section(">", "rebuilt because upstream changed", p.Downstream)
	if p.Empty() {
		b.WriteString("  no changes\n")
	}
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Approval is a principal's approval of a deployment plan.
type Approval struct {
	Plan        string    `json:"plan"`
	Environment string    `json:"environment"`
	Approver    string    `json:"approver"`
	At          time.Time `json:"at"`
	Comment     string    `json:"comment,omitempty"`
}

// Deployment is the record of one deploy.
type Deployment struct {
	ID          string    `json:"id"`
	Environment string    `json:"environment"`
	Plan        string    `json:"plan"`
	Project     string    `json:"project_fingerprint"`
	Commit      string    `json:"git_commit,omitempty"`
	Deployer    string    `json:"deployer"`
	Approver    string    `json:"approver,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	// Outcome is running, deployed, failed, rolled_back or refused.
	Outcome string `json:"outcome"`
	// Detail explains a failure or rollback.
	Detail string `json:"detail,omitempty"`
	RunID  string `json:"run_id,omitempty"`
	// SnapshotBefore and SnapshotAfter are the environment's snapshots
	// before and after (0 when none).
	SnapshotBefore int64 `json:"snapshot_before,omitempty"`
	SnapshotAfter  int64 `json:"snapshot_after,omitempty"`
}

// Deployment outcomes.
const (
	OutcomeRunning    = "running"
	OutcomeDeployed   = "deployed"
	OutcomeFailed     = "failed"
	OutcomeRolledBack = "rolled_back"
)
