package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/snapshot"
)

// deployPlan compares the project with the environment's manifest.
func (c *cli) deployPlan(ctx context.Context, p *project.Project, e *duckenv.Env) (*env.DeployPlan, map[string]env.Fingerprint, error) {
	state, err := p.State()
	if err != nil {
		return nil, nil, err
	}
	current := make(map[string]env.Fingerprint, len(state))
	for name, s := range state {
		current[name] = env.Fingerprint{Kind: s.Kind, Own: s.Own, Full: s.Full}
	}
	deployed, err := e.DeployedManifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	return env.NewDeployPlan(c.opts.target, p.Fingerprint(), c.gitCommit, current, deployed), current, nil
}

// writeArtifact writes v as JSON to target/name.
func writeArtifact(targetPath, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(targetPath, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(targetPath, "."+name+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return os.Rename(tmp.Name(), filepath.Join(targetPath, name))
}

// plan prints what deploying the project to --target would change.
func (c *cli) planCmd(ctx context.Context) error {
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	plan, _, err := c.deployPlan(ctx, p, e)
	if err != nil {
		return err
	}
	if err := writeArtifact(targetPath, "plan.json", plan); err != nil {
		fmt.Fprintf(c.stderr, "warning: plan.json not written: %v\n", err)
	}
	if c.opts.format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	fmt.Fprint(c.stdout, plan.Text())
	if s := c.envSettings; s != nil && s.Deploy.Approval && !plan.Empty() {
		fmt.Fprintf(c.stdout, "Deploying to %s needs an approval of this plan: vyaparbazaar approve --target %s --plan %s\n", c.opts.target, c.opts.target, plan.Fingerprint)
	}
	return nil
}

// approve records the principal's approval of the current plan.
func (c *cli) approveCmd(ctx context.Context) error {
	p, _, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	plan, _, err := c.deployPlan(ctx, p, e)
	if err != nil {
		return err
	}
	if c.opts.plan == "" {
		return &exitError{code: 2, err: fmt.Errorf("approve: name the plan you reviewed: --plan %s (see `plan --target %s`)", plan.Fingerprint, c.opts.target)}
	}
	if c.opts.plan != plan.Fingerprint {
		return &exitError{code: 1, err: fmt.Errorf("approve: plan %s no longer matches the code: the plan for %s is now %s; review it with `plan --target %s`",
			c.opts.plan, c.opts.target, plan.Fingerprint, c.opts.target)}
	}
	a := env.Approval{Plan: plan.Fingerprint, Environment: c.opts.target, Approver: c.principal.Name, Comment: c.opts.comment}
	if err := e.RecordApproval(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Approved plan %s for %s as %s.\n", plan.Fingerprint, c.opts.target, c.principal.Name)
	return nil
}

// deployCmd deploys the project to --target: build what changed and what is
// downstream of it (everything on a first deploy), test it before
// publishing, publish, run the post-deployment tests and roll back
// automatically when they fail.
func (c *cli) deployCmd(ctx context.Context) error {
	fsys, _, err := c.projectFS()
	if err != nil {
		return err
	}
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		if errors.Is(err, duckenv.ErrLocked) {
			return &exitError{code: 1, err: fmt.Errorf("deploy to %s: another process (a deploy, a build or the daemon) holds the environment: %w", c.opts.target, err)}
		}
		return err
	}
	defer e.Close()
	unlock, ok := e.TryLockDeploy()
	if !ok {
		return &exitError{code: 1, err: fmt.Errorf("deploy to %s: another deploy is running", c.opts.target)}
	}
	defer unlock()
	c.deploying = true
	s := c.envSettings
	// A deploy that died after publishing left the environment on an
	// untested snapshot: return it to where that deploy started.
	if err := c.recoverInterruptedDeploy(ctx, e); err != nil {
		return err
	}
	refuse := func(format string, args ...any) error {
		return &exitError{code: 1, err: fmt.Errorf("deploy to %s refused: %s", c.opts.target, fmt.Sprintf(format, args...))}
	}
	plan, current, err := c.deployPlan(ctx, p, e)
	if err != nil {
		return err
	}
	fmt.Fprint(c.stdout, plan.Text())
	if c.opts.plan != "" && c.opts.plan != plan.Fingerprint {
		return refuse("plan %s no longer matches the code (the plan is now %s)", c.opts.plan, plan.Fingerprint)
	}
	if s.Deploy.Window != "" {
		tt, err := c.loadTimetable(fsys, p)
		if err != nil {
			return err
		}
		w, ok := tt.Windows[s.Deploy.Window]
		if !ok {
			return &exitError{code: 2, err: fmt.Errorf("%s: environment %s: deploy window %q is not a time_intervals entry of schedules.yml", env.EnvironmentsFile, c.opts.target, s.Deploy.Window)}
		}
		if now := time.Now(); !w.Contains(now) {
			next := w.NextOpen(now)
			return refuse("outside the deploy window %q (it opens next at %s)", s.Deploy.Window, next.Format(time.RFC3339))
		}
	}
	var approver string
	if s.Deploy.Approval {
		a, ok, err := e.ApprovalOf(ctx, c.opts.target, plan.Fingerprint)
		if err != nil {
			return err
		}
		if !ok {
			return refuse("plan %s has no approval; a release manager or DBA runs: vyaparbazaar approve --target %s --plan %s", plan.Fingerprint, c.opts.target, plan.Fingerprint)
		}
		approver = a.Approver
		fmt.Fprintf(c.stdout, "Approved by %s at %s\n", a.Approver, a.At.Local().Format(time.DateTime))
	}
	if plan.Empty() {
		fmt.Fprintf(c.stdout, "Nothing to deploy: %s already runs this code.\n", c.opts.target)
		return nil
	}
	before, err := e.LatestSnapshotID(ctx)
	if err != nil {
		return err
	}
	dep := env.Deployment{ID: orchestrate.NewRunID(time.Now()), Environment: c.opts.target, Plan: plan.Fingerprint, Project: plan.Project,
		Commit: plan.Commit, Deployer: c.principal.Name, Approver: approver, StartedAt: time.Now(), Outcome: env.OutcomeRunning, SnapshotBefore: before}
	record := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := e.RecordDeployment(rctx, dep); err != nil {
			fmt.Fprintf(c.stderr, "warning: deployment not recorded: %v\n", err)
		}
	}
	record()
	finish := func(outcome, detail string) error {
		dep.Outcome, dep.Detail, dep.FinishedAt = outcome, detail, time.Now()
		if id, err := e.LatestSnapshotID(context.WithoutCancel(ctx)); err == nil {
			dep.SnapshotAfter = id
		}
		record()
		c.notifyDeployment(ctx, e, dep)
		fmt.Fprintf(c.stdout, "Deployment %s: %s", dep.ID, outcome)
		if detail != "" {
			fmt.Fprintf(c.stdout, " — %s", detail)
		}
		fmt.Fprintln(c.stdout)
		if outcome != env.OutcomeDeployed {
			return &exitError{code: 1}
		}
		return nil
	}
	rollback := func(why string) error {
		if before == 0 {
			return finish(env.OutcomeFailed, why+"; there was no previous snapshot to return to")
		}
		if _, err := e.Rollback(context.WithoutCancel(ctx), duckenv.RollbackOptions{To: before, Actor: c.principal.Name + " (automatic rollback of deployment " + dep.ID + ")"}); err != nil {
			return finish(env.OutcomeFailed, why+"; the automatic rollback failed too: "+err.Error())
		}
		return finish(env.OutcomeRolledBack, why+fmt.Sprintf("; rolled back to snapshot #%d", before))
	}

	sel := dag.SelectOptions{}
	if !plan.FirstDeploy {
		sel = dag.SelectOptions{Select: []string{"state:modified+"}, State: plan.State()}
	}
	buildPlan, err := orchestrate.NewPlanWith(p, sel)
	if err != nil {
		return finish(env.OutcomeFailed, err.Error())
	}
	run, err := c.execute(ctx, e, buildPlan, targetPath, "deploy")
	if err != nil {
		return finish(env.OutcomeFailed, err.Error())
	}
	dep.RunID = run.ID
	if !run.OK() {
		why := fmt.Sprintf("run %s %s", run.ID, run.Status)
		if run.Publication != nil && run.Publication.Snapshot != "" {
			return rollback(why)
		}
		return finish(env.OutcomeFailed, why+"; nothing was published")
	}
	if s.NeedsPostDeployTests() {
		tests, err := orchestrate.NewPlan(p, nil, nil)
		if err != nil {
			return finish(env.OutcomeFailed, err.Error())
		}
		tests = tests.Filter(func(n *orchestrate.Node) bool { return n.Kind == orchestrate.KindTest })
		fmt.Fprintf(c.stdout, "\nPost-deployment tests (%d) against the published data:\n", len(tests.Order))
		trun, err := c.execute(ctx, e, tests, targetPath, "deploy post-deployment tests")
		if err != nil {
			return rollback("post-deployment tests: " + err.Error())
		}
		if !trun.OK() {
			var failed []string
			for _, f := range trun.Failed() {
				failed = append(failed, f.Node)
			}
			return rollback("post-deployment tests failed: " + strings.Join(failed, ", "))
		}
	}
	// Models the project no longer has stop being served (a rollback
	// brings them back while their versions are retained).
	removed, err := e.Unpublish(context.WithoutCancel(ctx), plan.Removed, snapshot.Snapshot{RunID: dep.RunID, Actor: c.principal.Name + " (deploy " + dep.ID + ")",
		Fingerprint: plan.Project, GitCommit: plan.Commit})
	if err != nil {
		return rollback("removing " + strings.Join(plan.Removed, ", ") + ": " + err.Error())
	}
	if err := e.UpdateManifest(context.WithoutCancel(ctx), current, plan.Removed); err != nil {
		return finish(env.OutcomeFailed, "manifest not updated: "+err.Error())
	}
	for name, v := range map[string]any{"plan.json": plan, "manifest.json": manifestArtifact(c.opts.target, plan, current)} {
		if err := writeArtifact(targetPath, name, v); err != nil {
			fmt.Fprintf(c.stderr, "warning: %s not written: %v\n", name, err)
		}
	}
	detail := ""
	if len(removed) > 0 {
		detail = "no longer served (removed from the project): " + strings.Join(removed, ", ")
	}
	return finish(env.OutcomeDeployed, detail)
}

func manifestArtifact(environment string, plan *env.DeployPlan, nodes map[string]env.Fingerprint) any {
	return map[string]any{
		"environment": environment, "project_fingerprint": plan.Project, "git_commit": plan.Commit,
		"generated_at": time.Now().UTC(), "nodes": nodes,
	}
}

// deploymentsCmd lists deployment records.
func (c *cli) deploymentsCmd(ctx context.Context) error {
	_, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), false)
	if err != nil {
		return err
	}
	defer e.Close()
	list, err := e.Deployments(ctx, c.opts.limit)
	if err != nil {
		return err
	}
	if c.opts.format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintf(c.stdout, "No deployments to %s yet.\n", c.opts.target)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tOUTCOME\tPLAN\tCODE\tDEPLOYER\tAPPROVER\tSNAPSHOTS\tDETAIL")
	for _, d := range list {
		code := short(d.Commit)
		if code == "" {
			code = short(d.Project)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t#%d → #%d\t%s\n", d.ID, d.StartedAt.Local().Format(time.DateTime), d.Outcome, d.Plan,
			orDash(code), d.Deployer, orDash(d.Approver), d.SnapshotBefore, d.SnapshotAfter, d.Detail)
	}
	return tw.Flush()
}

// TypeDeployment is the alert type of deployment outcomes.
const TypeDeployment alert.Type = "deployment"

// notifyDeployment tells the alert channels (Slack and email by default)
// how a deployment ended: a failed or rolled-back deployment fires a high
// alert for the environment; a successful one resolves it.
func (c *cli) notifyDeployment(ctx context.Context, e *duckenv.Env, d env.Deployment) {
	al, err := c.newAlerting(e, nil, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: deployment not notified: %v\n", err)
		return
	}
	a := alert.Alert{
		Type: TypeDeployment, Severity: alert.SeverityHigh,
		Labels: map[string]string{alert.LabelEnvironment: d.Environment},
		Title:  fmt.Sprintf("Deployment %s to %s: %s", d.ID, d.Environment, d.Outcome),
		Body: fmt.Sprintf("Plan %s by %s (approved by %s). %s\nSnapshots #%d → #%d.", d.Plan, d.Deployer, orDash(d.Approver), d.Detail,
			d.SnapshotBefore, d.SnapshotAfter),
		Runbook:  "See `vyaparbazaar deployments --target " + d.Environment + "` and the run's output; fix the change and deploy again, or roll back with `snapshots rollback`.",
		StartsAt: d.StartedAt,
	}
	if d.Outcome == env.OutcomeDeployed {
		a.Severity = alert.SeverityLow
		a.EndsAt = d.FinishedAt
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), alertCloseTimeout)
	defer cancel()
	if err := al.d.Send(cctx, a); err != nil {
		fmt.Fprintf(c.stderr, "warning: deployment not notified: %v\n", err)
	}
	if err := al.d.Close(cctx); err != nil {
		fmt.Fprintf(c.stderr, "warning: deployment notification not delivered: %v\n", err)
	}
}

// recoverInterruptedDeploy finds a deployment still recorded as running
// (its process died) and, when the environment moved on from the snapshot
// it started on, rolls back to that snapshot and records the outcome.
func (c *cli) recoverInterruptedDeploy(ctx context.Context, e *duckenv.Env) error {
	list, err := e.Deployments(ctx, 1)
	if err != nil || len(list) == 0 || list[0].Outcome != env.OutcomeRunning {
		return err
	}
	d := list[0]
	cur, err := e.LatestSnapshotID(ctx)
	if err != nil {
		return err
	}
	d.Outcome, d.FinishedAt = env.OutcomeFailed, time.Now()
	d.Detail = "interrupted: the deploying process died"
	if d.SnapshotBefore > 0 && cur != d.SnapshotBefore {
		if _, err := e.Rollback(ctx, duckenv.RollbackOptions{To: d.SnapshotBefore, Actor: c.principal.Name + " (recovery of interrupted deployment " + d.ID + ")"}); err != nil {
			return fmt.Errorf("deployment %s was interrupted after publishing and could not be rolled back: %w", d.ID, err)
		}
		d.Outcome = env.OutcomeRolledBack
		d.Detail += fmt.Sprintf("; rolled back to snapshot #%d", d.SnapshotBefore)
	}
	d.SnapshotAfter, _ = e.LatestSnapshotID(ctx)
	fmt.Fprintf(c.stdout, "Deployment %s was interrupted: %s\n", d.ID, d.Detail)
	return e.RecordDeployment(ctx, d)
}
