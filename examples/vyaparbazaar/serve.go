package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/internal/telemetry"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/schedule"
	"go.opentelemetry.io/otel"
)

// schedulesFile is the project's timetable, next to dbt_project.yml.
const schedulesFile = "schedules.yml"

// operations are the operational jobs the daemon can run, by name.
var operations = map[string]func(ctx context.Context, d *daemon) error{
	"backup": func(ctx context.Context, d *daemon) error {
		path, err := d.env.Backup(ctx, filepath.Join(d.targetPath, "backups"), time.Now())
		if err == nil {
			fmt.Fprintf(d.c.stdout, "backup written to %s\n", path)
		}
		return err
	},
	// refresh: the environment's refresh (environments.yml) from production,
	// anonymized or sampled, read from production's newest backup when its
	// daemon holds the file.
	"refresh": func(ctx context.Context, d *daemon) error {
		if s := d.c.envSettings; s == nil || s.Refresh == nil {
			fmt.Fprintf(d.c.stdout, "refresh: %s has no refresh configured; nothing to do\n", d.c.opts.target)
			return nil
		}
		return d.c.refreshInto(ctx, d.env)
	},
	"janitor": func(ctx context.Context, d *daemon) error {
		deleted, err := d.env.PruneBackups(filepath.Join(d.targetPath, "backups"), 7*24*time.Hour, 10, time.Now())
		if len(deleted) > 0 {
			fmt.Fprintf(d.c.stdout, "janitor: deleted %d old backups\n", len(deleted))
		}
		// Versions no retained snapshot references (the environment's
		// default retention).
		rep, gcErr := d.env.GC(ctx, duckenv.GCOptions{Retention: d.c.retention()})
		if gcErr == nil && (len(rep.Dropped) > 0 || len(rep.Forgotten) > 0) {
			fmt.Fprintf(d.c.stdout, "janitor: forgot %d snapshots, dropped %d relations, freed %d bytes\n", len(rep.Forgotten), len(rep.Dropped), rep.FreedBytes)
		}
		return errors.Join(err, gcErr)
	},
}

// The weekly status report, by email to the alerts' email receivers (set
// in init: it reaches code that reads operations).
func init() {
	operations["weekly-report"] = func(ctx context.Context, d *daemon) error {
		n, err := d.c.mailWeeklyReport(ctx, d.env, d.p, time.Now())
		if n > 0 {
			fmt.Fprintf(d.c.stdout, "weekly report sent to %d email %s\n", n, plural(int64(n), "receiver", "receivers"))
		}
		return err
	}
}

// loadTimetable reads and validates the timetable: --config FILE, else the
// project's schedules.yml. Every selection must match nodes of the project
// and every operation must be one the daemon knows.
func (c *cli) loadTimetable(fsys fs.FS, p *project.Project) (*schedule.Config, error) {
	name := schedulesFile
	var data []byte
	var err error
	if c.opts.config != "" {
		name = c.opts.config
		data, err = os.ReadFile(c.opts.config)
	} else {
		data, err = fs.ReadFile(fsys, schedulesFile)
	}
	if err != nil {
		return nil, fmt.Errorf("timetable: %w", err)
	}
	cfg, err := schedule.ParseConfig(data, name)
	if err != nil {
		return nil, err
	}
	g, err := orchestrate.NewGraph(p)
	if err != nil {
		return nil, err
	}
	known := func(selector string) error {
		sel, err := g.SelectDetailed([]string{selector}, nil)
		if err != nil {
			return err
		}
		if len(sel.Nodes) == 0 || len(sel.Unmatched) > 0 {
			return fmt.Errorf("selector %q matches no node of project %s", selector, p.Name)
		}
		return nil
	}
	var errs []error
	if err := cfg.Validate(known); err != nil {
		errs = append(errs, err)
	}
	for _, j := range cfg.Jobs {
		if j.Operation != "" {
			if _, ok := operations[j.Operation]; !ok {
				errs = append(errs, fmt.Errorf("%s: job %q: unknown operation %q (known: backup, janitor, refresh, weekly-report)", name, j.Name, j.Operation))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// scheduleList prints the timetable with the next run of every job.
func (c *cli) scheduleList(ctx context.Context) error {
	fsys, _, err := c.projectFS()
	if err != nil {
		return err
	}
	p, _, err := c.load(ctx)
	if err != nil {
		return err
	}
	cfg, err := c.loadTimetable(fsys, p)
	if err != nil {
		return err
	}
	now := time.Now()
	if !c.opts.asOf.IsZero() {
		now = c.opts.asOf
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "JOB\tSCHEDULE\tNEXT RUN (%s)\tPRIORITY\tREFRESH\tOWNER\tWHAT\n", loc)
	for _, j := range cfg.Jobs {
		next := j.Schedule.Next(now)
		what := strings.Join(j.Select, " ")
		if j.Operation != "" {
			what = "operation: " + j.Operation
		}
		nextText := "never"
		if !next.IsZero() {
			nextText = next.In(loc).Format("Mon 2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Name, j.Spec, nextText, j.Priority, orDash(string(j.Refresh)), orDash(j.Owner), what)
	}
	return tw.Flush()
}

// daemon is the state of `serve`.
type daemon struct {
	c          *cli
	p          *project.Project
	env        *duckenv.Env
	targetPath string
	sched      *schedule.Scheduler
	runs       metric.Int64Counter
	duration   metric.Float64Histogram
	events     metric.Int64Counter
}

// serve runs the scheduler with the project's timetable and serves
// /healthz, /metrics and /jobs until interrupted.
func (c *cli) serve(ctx context.Context) error {
	fsys, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	p, _, err := c.load(ctx)
	if err != nil {
		return err
	}
	cfg, err := c.loadTimetable(fsys, p)
	if err != nil {
		return err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), false)
	if err != nil {
		return err
	}
	defer e.Close()
	m, err := telemetry.New("github.com/vyaparbazaar/dataops/examples/vyaparbazaar")
	if err != nil {
		return err
	}
	d := &daemon{c: c, p: p, env: e, targetPath: targetPath}
	// Run and node metrics (and spans, for an embedding service that sets
	// a TracerProvider), and each model's freshness lag.
	runObs, err := telemetry.NewRunObserver(m.Meter, otel.GetTracerProvider(), c.opts.target)
	if err != nil {
		return err
	}
	c.runTelemetry = runObs
	if err := telemetry.RegisterFreshness(m.Meter, c.opts.target, func(ctx context.Context) (map[string]time.Time, error) {
		s, err := e.Snapshots().At(ctx, time.Now().Add(time.Hour))
		if err != nil {
			return nil, err
		}
		out := make(map[string]time.Time, len(s.Models))
		for name, v := range s.Models {
			out[name] = v.BuiltAt
		}
		return out, nil
	}, time.Now); err != nil {
		return err
	}
	if d.runs, err = m.Meter.Int64Counter("dataops_job_runs", metric.WithDescription("Job runs by job and status")); err != nil {
		return err
	}
	if d.duration, err = m.Meter.Float64Histogram("dataops_job_duration_seconds", metric.WithDescription("Job run time"), metric.WithUnit("s")); err != nil {
		return err
	}
	if d.events, err = m.Meter.Int64Counter("dataops_scheduler_events", metric.WithDescription("Scheduler decisions by type")); err != nil {
		return err
	}
	d.sched, err = schedule.New(schedule.Options{
		Jobs:              cfg.Jobs,
		Runner:            schedule.JobRunnerFunc(d.runJob),
		MaxConcurrency:    max(cfg.MaxConcurrency, 1),
		Pools:             cfg.Pools,
		State:             e.ScheduleState(),
		Resources:         e.Resources(),
		ResourceThreshold: cfg.ResourceThreshold,
		Windows:           cfg.WindowMap(),
		ShutdownTimeout:   time.Minute,
		OnEvent:           d.onEvent,
		Logger:            c.log,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "environment": c.opts.target, "jobs": len(cfg.Jobs)})
	})
	mux.Handle("GET /metrics", m.Handler())
	defer c.serveAlerts(ctx, e, p, m, mux)()
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(jobsView(d.sched.NextRuns(time.Now())))
	})
	mux.HandleFunc("POST /jobs/{name}/run", func(w http.ResponseWriter, r *http.Request) {
		if err := d.sched.Trigger(r.PathValue("name")); err != nil {
			code := http.StatusConflict
			switch {
			case errors.Is(err, schedule.ErrUnknownJob):
				code = http.StatusNotFound
			case errors.Is(err, schedule.ErrNotRunning):
				code = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	// The PostgreSQL front (pgserve.go), sharing the environment.
	pg, err := c.startPG(ctx, e, targetPath, m.Meter, mux)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// The dashboard (dashboard.go) at /ui/.
	if err := c.serveDashboard(fsys, targetPath, p, cfg, e, mux); err != nil {
		_ = pg.shutdown(time.Second)
		return err
	}
	ln, err := net.Listen("tcp", c.opts.addr)
	if err != nil {
		_ = pg.shutdown(time.Second)
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(c.stdout, "Serving %d jobs of %s on http://%s (/ui/, /healthz, /jobs, POST /jobs/NAME/run, /metrics); Ctrl-C to stop\n", len(cfg.Jobs), p.Name, ln.Addr())
	runErr := d.sched.Run(ctx)
	if err := pg.shutdown(30 * time.Second); err != nil {
		fmt.Fprintf(c.stderr, "PostgreSQL front: %v\n", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return runErr
}

// jobView is a job as /jobs shows it.
type jobView struct {
	Job         string    `json:"job"`
	Schedule    string    `json:"schedule"`
	Next        time.Time `json:"next_run,omitzero"`
	Priority    string    `json:"priority"`
	Owner       string    `json:"owner,omitempty"`
	Select      []string  `json:"select,omitempty"`
	Operation   string    `json:"operation,omitempty"`
	Running     bool      `json:"running"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastStatus  string    `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
}

func jobsView(up []schedule.Upcoming) []jobView {
	out := make([]jobView, len(up))
	for i, u := range up {
		out[i] = jobView{
			Job: u.Job.Name, Schedule: u.Job.Spec, Next: u.Next, Priority: u.Job.Priority.String(),
			Owner: u.Job.Owner, Select: u.Job.Select, Operation: u.Job.Operation, Running: u.Running,
			LastRun: u.LastRun, LastStatus: u.LastStatus, LastError: u.LastError, LastSuccess: u.LastSuccess,
		}
	}
	return out
}

func (d *daemon) onEvent(ev schedule.Event) {
	d.c.alertSchedule(ev)
	d.events.Add(context.Background(), 1, metric.WithAttributes(attribute.String("type", string(ev.Type)), attribute.String("job", ev.Job)))
	msg := fmt.Sprintf("%s  scheduler: %s %s", ev.Time.Local().Format("15:04:05"), ev.Type, ev.Job)
	if ev.Detail != "" {
		msg += " (" + ev.Detail + ")"
	}
	if ev.Err != nil {
		msg += ": " + firstLineOf(ev.Err.Error())
	}
	fmt.Fprintln(d.c.stdout, msg)
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// runJob runs one job: an operation, or its selection of the pipeline
// through the engine (recorded in run history and incidents like any run).
// Jobs share the environment's database; the scheduler's concurrency limits
// and pools bound how many run at once, and a write conflict between two
// of them is a transient failure the recovery policy retries.
func (d *daemon) runJob(ctx context.Context, job *schedule.Job, t schedule.Trigger) (err error) {
	start := time.Now()
	defer func() {
		status := "success"
		if err != nil {
			status = "error"
		}
		attrs := metric.WithAttributes(attribute.String("job", job.Name), attribute.String("status", status))
		d.runs.Add(context.Background(), 1, attrs)
		d.duration.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(attribute.String("job", job.Name)))
	}()
	if job.Operation != "" {
		return operations[job.Operation](ctx, d)
	}
	plan, err := orchestrate.NewPlanWith(d.p, dag.SelectOptions{Select: job.Select, Exclude: job.Exclude})
	if err != nil {
		return err
	}
	jc := *d.c
	opts := *d.c.opts
	opts.fullRefresh = job.Refresh == schedule.RefreshFull
	jc.opts = &opts
	run, err := jc.execute(ctx, d.env, plan, d.targetPath, "job "+job.Name)
	if err != nil {
		return err
	}
	if !run.OK() {
		return fmt.Errorf("job %s: run %s %s", job.Name, run.ID, run.Status)
	}
	return nil
}
