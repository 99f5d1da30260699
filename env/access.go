package env

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a principal may do in an environment, granted per
// environment by a Policy.
type Role string

// The roles of the deployment strategy.
const (
	// RoleReader reads published data (business users, stakeholders, BI
	// tools).
	RoleReader Role = "reader"
	// RoleQA reads, including dataops' own tables (QA in staging).
	RoleQA Role = "qa"
	// RoleEngineer reads and builds (analytics engineers in dev and
	// staging).
	RoleEngineer Role = "engineer"
	// RoleDeployer builds and publishes (the deployment pipeline).
	RoleDeployer Role = "deployer"
	// RoleApprover approves deployment plans (release managers).
	RoleApprover Role = "approver"
	// RoleAdmin may also restore, roll back, collect garbage, back up,
	// approve and change the policy (database administrators).
	RoleAdmin Role = "admin"
)

// Action is something a principal asks to do in an environment.
type Action string

// Actions checked by a Policy.
const (
	// ActionRead runs read-only queries on published data.
	ActionRead Action = "read"
	// ActionWrite builds, tests and publishes models (build, run, seed,
	// retry, refresh).
	ActionWrite Action = "write"
	// ActionAdmin is rollback, restore, gc, compact, backup and policy
	// changes.
	ActionAdmin Action = "admin"
	// ActionApprove approves a deployment plan.
	ActionApprove Action = "approve"
)

// Principal is who acts: a person, a BI tool's account or a pipeline.
type Principal struct {
	Name string
	// Groups the principal belongs to (e.g. "analytics-engineers",
	// "business-users"); policies grant roles to names and groups.
	Groups []string
}

// String returns the principal's name.
func (p Principal) String() string { return p.Name }

// Authorizer decides whether a principal may do an action in an
// environment. It returns nil when allowed, and an error matching
// ErrDenied otherwise (deny by default).
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, environment string, a Action) error
}

// ErrDenied is matched (errors.Is) by every refusal of an Authorizer.
var ErrDenied = &DeniedError{}

// DeniedError says who was refused what, where, and why.
type DeniedError struct {
	Principal   string
	Environment string
	Action      Action
	Reason      string
}

func (e *DeniedError) Error() string {
	if e.Principal == "" && e.Reason == "" {
		return "permission denied"
	}
	if e.Environment == "" {
		return fmt.Sprintf("permission denied: %s may not %s (%s)", e.Principal, e.Action, e.Reason)
	}
	return fmt.Sprintf("permission denied: %s may not %s in %s (%s)", e.Principal, e.Action, e.Environment, e.Reason)
}

// Is matches ErrDenied.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// AuditEvent is one allowed or denied action.
type AuditEvent struct {
	Time        time.Time `json:"time"`
	Principal   string    `json:"principal"`
	Environment string    `json:"environment"`
	Action      Action    `json:"action"`
	// Object is what was acted on: a command line, a statement (without
	// literals' secrets), a snapshot id.
	Object  string `json:"object,omitempty"`
	Allowed bool   `json:"allowed"`
	// Result is "ok", the refusal reason, or the error.
	Result string `json:"result,omitempty"`
	// Via is the entry point: "cli", "pgwire", "api", "dashboard".
	Via string `json:"via,omitempty"`
}

// Auditor records audit events. Implementations must be safe for
// concurrent use.
type Auditor interface {
	Audit(ctx context.Context, ev AuditEvent) error
}

// Grant gives a role to principals (by name) and groups in environments.
type Grant struct {
	// Environments the grant applies to; "*" means every one.
	Environments []string `yaml:"environments" json:"environments"`
	// Principals and Groups receive the role.
	Principals []string `yaml:"principals" json:"principals,omitempty"`
	Groups     []string `yaml:"groups" json:"groups,omitempty"`
	Role       Role     `yaml:"role" json:"role"`
}

// Policy is a list of grants: an action is allowed when a grant for the
// environment gives the principal (or one of its groups) a role that
// permits it. Everything else is denied.
type Policy struct {
	Grants []Grant `yaml:"grants" json:"grants"`
}

var _ Authorizer = (*Policy)(nil)

// Permits reports whether role r allows action a.
func (r Role) Permits(a Action) bool {
	switch r {
	case RoleReader, RoleQA:
		return a == ActionRead
	case RoleEngineer, RoleDeployer:
		return a == ActionRead || a == ActionWrite
	case RoleApprover:
		return a == ActionRead || a == ActionApprove
	case RoleAdmin:
		return true
	}
	return false
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleReader, RoleQA, RoleEngineer, RoleDeployer, RoleApprover, RoleAdmin:
		return true
	}
	return false
}

// Roles returns the roles the policy gives p in environment.
func (pol *Policy) Roles(p Principal, environment string) []Role {
	var out []Role
	for _, g := range pol.Grants {
		if !slices.Contains(g.Environments, environment) && !slices.Contains(g.Environments, "*") {
			continue
		}
		match := slices.Contains(g.Principals, p.Name)
		for _, grp := range p.Groups {
			match = match || slices.Contains(g.Groups, grp)
		}
		if match && !slices.Contains(out, g.Role) {
			out = append(out, g.Role)
		}
	}
	return out
}

// Authorize implements Authorizer.
func (pol *Policy) Authorize(_ context.Context, p Principal, environment string, a Action) error {
	roles := pol.Roles(p, environment)
	for _, r := range roles {
		if r.Permits(a) {
			return nil
		}
	}
	reason := "no role in " + environment
	if len(roles) > 0 {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		reason = "roles " + strings.Join(names, ", ") + " do not allow " + string(a)
	}
	return &DeniedError{Principal: p.Name, Environment: environment, Action: a, Reason: reason}
}

// DefaultPolicy is the deployment strategy's access control:
//
//   - dev: analytics engineers only (group "analytics-engineers"), who
//     build, read and administer their sandbox; no one else.
//   - staging: analytics engineers build and read; the analytics team and
//     QA (groups "analytics", "qa") read; stakeholders ("stakeholders")
//     read.
//   - production: business users and stakeholders ("business-users",
//     "stakeholders", "analytics", "analytics-engineers") read; only the
//     deployment pipeline (group "deployment") writes; release managers
//     ("release-managers") approve deployment plans; database
//     administrators ("dba") administer everywhere.
//
// Everything else is denied.
func DefaultPolicy() *Policy {
	return &Policy{Grants: []Grant{
		// Dev is the engineers' sandbox: they also roll back, collect and
		// restore there.
		{Environments: []string{"dev"}, Groups: []string{"analytics-engineers"}, Role: RoleAdmin},
		{Environments: []string{"staging"}, Groups: []string{"analytics-engineers"}, Role: RoleEngineer},
		{Environments: []string{"staging"}, Groups: []string{"analytics"}, Role: RoleReader},
		{Environments: []string{"staging"}, Groups: []string{"qa"}, Role: RoleQA},
		{Environments: []string{"staging"}, Groups: []string{"stakeholders"}, Role: RoleReader},
		{Environments: []string{"production"}, Groups: []string{"business-users", "stakeholders", "analytics", "analytics-engineers"}, Role: RoleReader},
		{Environments: []string{"production"}, Groups: []string{"deployment"}, Role: RoleDeployer},
		{Environments: []string{"production", "staging"}, Groups: []string{"release-managers"}, Role: RoleApprover},
		{Environments: []string{"*"}, Groups: []string{"dba"}, Role: RoleAdmin},
	}}
}
