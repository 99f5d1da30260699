package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/goccy/go-yaml"

	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/recovery/incident"
)

const usage = `vyaparbazaar — run the VyaparBazaar analytics pipeline (or any dbt-style project) on DuckDB

Usage: vyaparbazaar <command> [flags]

Commands:
  demo      generate the synthetic VyaparBazaar data, build and test everything, show what was built
  generate  generate the synthetic source data (schema raw) into the database
  build     run seeds, sources, models and tests in DAG order (tests right after their model)
  run       build models only
  retry     re-run only what failed, fell back or was skipped in the last run (also a run that died)
  test      run data tests only
  seed      load seeds only
  compile   render the selected models and tests to target/compiled and bind them against an empty copy
            of the schema (syntax, unknown columns, type errors; file:line); --bind=false renders only
  ls        list the selected nodes
  graph     print the DAG as Mermaid (default) or DOT
  query     run one read-only SQL statement: query "select ..."
  history   show the run history stored in the database
  incidents list incidents; incidents show|note|root-cause|resolve ID ...
  schedule  schedule list: the timetable (schedules.yml) with the next run of every job
  serve     the scheduler daemon: runs the timetable, serves the dashboard (/ui/), /healthz, /jobs and /metrics
            (--addr), and with --pg-addr the environment to PostgreSQL clients, read-only
  plan      what deploying the project to --target changes (added, modified, removed, rebuilt downstream)
  approve   approve the current plan for --target: approve --target production --plan FINGERPRINT
  deploy    build what changed and its downstream, test, publish; post-deployment tests roll back on failure
  deployments  the deployment records of --target
  refresh   refresh --target from production: anonymized (staging) or a consistent sample (dev); fails closed
            on PII without a rule; --from-backup DIR reads a backup instead of the live database
  perf      build the critical models (or --select) and fail when one is slower than --threshold (1.5) × its baseline
  snapshots what readers see and when: list | show ID | diff A [B] | rollback ID|--undo | restore-at TIME
            | gc [--keep-last N --keep-for D --dry-run] | compact | backup DIR | restore DIR [--force]

Common flags:
  --project DIR        dbt-style project folder (default: the embedded VyaparBazaar demo)
  --database FILE      DuckDB file (default: <target-path>/<target>.duckdb)
  --target NAME        target/environment name (default dev)
  --target-path DIR    output folder (default: DIR/target, or ./target for the embedded demo)
  -s, --select SPEC    dbt selector, e.g. "+mart_daily_sales tag:hourly" (repeatable)
  --exclude SPEC       dbt selector of nodes to leave out (repeatable)
  --threads N          nodes run at once (default 4)
  --full-refresh       rebuild incremental models from scratch
  --fail-fast          stop at the first failure
  --no-retry           do not retry transient failures (default: 3 attempts, exponential backoff)
  --run-timeout D      bound the whole run, e.g. 30m
  --lock-retries N     attempts to open a database locked by another process (default 3)
  --config FILE        serve/schedule: the timetable (default: the project's schedules.yml)
  --addr HOST:PORT     serve: where to listen (default 127.0.0.1:8080)
  --pg-addr HOST:PORT  serve: also serve the environment to PostgreSQL clients (psql, BI tools), e.g. 127.0.0.1:5433
  --users FILE         serve: users for --pg-addr and the dashboard (names, bcrypt hashes, groups; see "users hash");
                       without it the dashboard acts as --as / the local user
  --tls-cert F --tls-key F  serve: TLS for --pg-addr (default: a self-signed certificate; clients use sslmode=require)
  --audit-log FILE     serve: JSON-lines audit log of connections and refusals (default <target-path>/pg-audit.jsonl)
  --pg-allow-plaintext serve: accept passwords without TLS (loopback development only)
  --as-of TIME         "now" for source freshness checks (default: the real clock; the demo: its data's as-of time)
  --vars YAML          override project vars, e.g. '{anchor_date: 2025-06-30}'
  --scale X            data size for demo/generate: 1.0 ≈ 1 M orders (default 0.01)
  --format F           query: table|csv|json; graph: mermaid|dot; ls: name|table|json
  --verbose            print a START line for every node
  --as NAME            act as this principal (default $DATAOPS_USER, else the OS user); see environments.yml
`

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type cliOptions struct {
	projectDir  string
	database    string
	target      string
	targetPath  string
	selects     listFlag
	excludes    listFlag
	threads     int
	fullRefresh bool
	failFast    bool
	noRetry     bool
	runTimeout  time.Duration
	lockRetries int
	asOf        time.Time
	config      string
	addr        string
	vars        string
	scale       float64
	seed        int64
	format      string
	verbose     bool
	logLevel    string
	positional  []string
	// snapshots
	keepLast int
	keepFor  time.Duration
	dryRun   bool
	force    bool
	undo     bool
	limit    int
	as       string
	// deploy
	plan      string
	comment   string
	threshold float64
	// refresh
	fromBackup string
	keyFile    string
	// bind: compile also binds every model and test (bind.go).
	bind bool
	// serve's PostgreSQL front (pgserve.go)
	pg pgOptions
}

// exitError carries an exit code and a message for the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// Main runs the CLI with args (without the program name) and returns the
// process exit code: 0 when everything passed, 1 when something failed, 2
// for usage errors.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usageText())
		return 0
	}
	cmd := args[0]
	if sub, ok := commands[cmd]; ok {
		// Commands with their own flags are authorized like the others
		// when they touch an environment's data.
		if _, touches := commandAction(cmd, positionals(args[1:])); touches {
			c := &cli{opts: scanEnvFlags(args[1:]), stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
			c.opts.positional = positionals(args[1:])
			if err := c.authorize(ctx, cmd); err != nil {
				fmt.Fprintf(stderr, "%v\n", errors.Unwrap(err))
				return 1
			}
			code := sub.Run(ctx, args[1:], stdout, stderr)
			var res error
			if code != 0 {
				res = &exitError{code: code, err: fmt.Errorf("exit status %d", code)}
			}
			c.auditResult(ctx, cmd, res)
			return code
		}
		return sub.Run(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseFlags(cmd, args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar %s: %v\n\n%s", cmd, err, usageText())
		return 2
	}
	c := &cli{opts: opts, stdout: stdout, stderr: stderr}
	c.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: parseLevel(opts.logLevel)}))
	if err = c.authorize(ctx, cmd); err != nil {
		cmd = "" // report below
	}
	switch cmd {
	case "":
	case "demo":
		err = c.demo(ctx)
	case "generate":
		err = c.generate(ctx)
	case "build", "run", "test", "seed":
		err = c.build(ctx, cmd)
	case "retry":
		err = c.retry(ctx)
	case "incidents":
		err = c.incidents(ctx)
	case "serve":
		err = c.serve(ctx)
	case "schedule":
		if len(opts.positional) != 1 || opts.positional[0] != "list" {
			fmt.Fprintf(stderr, "usage: vyaparbazaar schedule list\n")
			return 2
		}
		err = c.scheduleList(ctx)
	case "compile":
		err = c.compile(ctx)
	case "ls", "list":
		err = c.list(ctx)
	case "graph":
		err = c.graph(ctx)
	case "query":
		err = c.query(ctx)
	case "history":
		err = c.history(ctx)
	case "snapshots":
		err = c.snapshots(ctx)
	case "plan":
		err = c.planCmd(ctx)
	case "approve":
		err = c.approveCmd(ctx)
	case "deploy":
		err = c.deployCmd(ctx)
	case "deployments":
		err = c.deploymentsCmd(ctx)
	case "perf":
		err = c.perfCmd(ctx)
	case "refresh":
		err = c.refreshCmd(ctx)
	default:
		fmt.Fprintf(stderr, "vyaparbazaar: unknown command %q\n\n%s", cmd, usageText())
		return 2
	}
	if cmd == "" {
		cmd = args[0]
	} else {
		c.auditResult(ctx, cmd, err)
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "%v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "vyaparbazaar %s: %v\n", cmd, err)
	return 1
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelWarn
	}
	return l
}

func parseFlags(cmd string, args []string) (*cliOptions, error) {
	o := &cliOptions{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.projectDir, "project", "", "")
	fs.StringVar(&o.database, "database", "", "")
	fs.StringVar(&o.target, "target", "dev", "")
	fs.StringVar(&o.targetPath, "target-path", "", "")
	fs.Var(&o.selects, "select", "")
	fs.Var(&o.selects, "s", "")
	fs.Var(&o.selects, "models", "")
	fs.Var(&o.selects, "m", "")
	fs.Var(&o.excludes, "exclude", "")
	fs.IntVar(&o.threads, "threads", 4, "")
	fs.BoolVar(&o.fullRefresh, "full-refresh", false, "")
	fs.BoolVar(&o.failFast, "fail-fast", false, "")
	fs.BoolVar(&o.noRetry, "no-retry", false, "")
	fs.DurationVar(&o.runTimeout, "run-timeout", 0, "")
	fs.IntVar(&o.lockRetries, "lock-retries", 3, "")
	fs.StringVar(&o.config, "config", "", "")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "")
	fs.Func("as-of", "", func(v string) error {
		for _, layout := range []string{time.RFC3339, time.DateTime, time.DateOnly} {
			if t, err := time.Parse(layout, v); err == nil {
				o.asOf = t
				return nil
			}
		}
		return fmt.Errorf("--as-of %q: want RFC 3339, \"2006-01-02 15:04:05\" or a date", v)
	})
	fs.StringVar(&o.vars, "vars", "", "")
	fs.Float64Var(&o.scale, "scale", demo.DefaultScale, "")
	fs.Int64Var(&o.seed, "seed", 1, "")
	fs.StringVar(&o.format, "format", "", "")
	fs.StringVar(&o.format, "output", "", "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.BoolVar(&o.bind, "bind", true, "")
	fs.StringVar(&o.logLevel, "log-level", "warn", "")
	fs.IntVar(&o.keepLast, "keep-last", -1, "")
	fs.DurationVar(&o.keepFor, "keep-for", -1, "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.BoolVar(&o.force, "force", false, "")
	fs.BoolVar(&o.undo, "undo", false, "")
	fs.IntVar(&o.limit, "limit", 20, "")
	fs.StringVar(&o.as, "as", "", "")
	fs.StringVar(&o.plan, "plan", "", "")
	fs.StringVar(&o.comment, "comment", "", "")
	fs.Float64Var(&o.threshold, "threshold", 1.5, "")
	fs.StringVar(&o.fromBackup, "from-backup", "", "")
	fs.StringVar(&o.keyFile, "key-file", "", "")
	o.pg.register(fs)
	// Flags and positional arguments may be interleaved.
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		o.positional = append(o.positional, rest[0])
		args = rest[1:]
	}
	if o.threads < 1 {
		return nil, fmt.Errorf("--threads must be at least 1")
	}
	if o.scale <= 0 {
		return nil, fmt.Errorf("--scale must be positive")
	}
	return o, nil
}

type cli struct {
	opts   *cliOptions
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// settings is the project's dataops.yml (retries, runbooks, escalation).
	settings recovery.Config
	// fingerprint and gitCommit identify the loaded project's code, for
	// snapshots.
	fingerprint, gitCommit string
	// envCfg is the project's environments.yml (or the default) and
	// envSettings the --target environment's settings.
	envCfg      *env.Config
	envSettings *env.Settings
	// principal is who runs the command (after authorize).
	principal env.Principal
	// alerts is the daemon's alerting, shared by its jobs (nil: each
	// command run has its own; see alerts.go).
	alerts *alerting
	// runTelemetry records run and node metrics and spans (the daemon's).
	runTelemetry orchestrate.Observer
	// project is the loaded project; stateSel the state: selection against
	// the environment's manifest, when a selector uses it.
	project  *project.Project
	stateSel map[string]string
	// deploying: runs of a deploy leave the manifest to the deploy.
	deploying bool
}

// settingsFile holds a project's dataops settings, next to dbt_project.yml.
const settingsFile = "dataops.yml"

// loadSettings reads dataops.yml from the project, if it has one.
func (c *cli) loadSettings(fsys fs.FS) error {
	data, err := fs.ReadFile(fsys, settingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := recovery.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%s: %w", settingsFile, err)
	}
	if _, err := recovery.NewPolicy(cfg); err != nil {
		return fmt.Errorf("%s: %w", settingsFile, err)
	}
	c.settings = cfg
	return nil
}

// projectFS returns the project's files and its target folder, and loads
// the environments' settings.
func (c *cli) projectFS() (fs.FS, string, error) {
	fsys, tp, err := c.projectFiles()
	if err != nil {
		return nil, "", err
	}
	if _, _, err := c.environments(fsys); err != nil {
		return nil, "", err
	}
	return fsys, tp, nil
}

// projectFiles returns the project's files and its target folder.
func (c *cli) projectFiles() (fs.FS, string, error) {
	if c.opts.projectDir == "" {
		tp := c.opts.targetPath
		if tp == "" {
			tp = "target"
		}
		return demo.Project(), tp, nil
	}
	st, err := os.Stat(c.opts.projectDir)
	if err != nil {
		return nil, "", fmt.Errorf("project folder: %w", err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("project folder %s is not a directory", c.opts.projectDir)
	}
	tp := c.opts.targetPath
	if tp == "" {
		tp = filepath.Join(c.opts.projectDir, "target")
	}
	return os.DirFS(c.opts.projectDir), tp, nil
}

func (c *cli) load(ctx context.Context) (*project.Project, string, error) {
	fsys, targetPath, err := c.projectFS()
	if err != nil {
		return nil, "", err
	}
	var vars map[string]any
	if strings.TrimSpace(c.opts.vars) != "" {
		if err := yaml.Unmarshal([]byte(c.opts.vars), &vars); err != nil {
			return nil, "", &exitError{code: 2, err: fmt.Errorf("--vars: %w", err)}
		}
	}
	if err := c.loadSettings(fsys); err != nil {
		return nil, "", err
	}
	p, err := project.Load(ctx, fsys, project.Options{
		Vars:   vars,
		Target: project.Target{Name: c.opts.target, Threads: c.opts.threads},
		Logger: c.log,
	})
	if err != nil {
		return nil, "", fmt.Errorf("load project: %w", err)
	}
	c.fingerprint = p.Fingerprint()
	c.gitCommit = gitCommit(ctx, c.opts.projectDir)
	c.project = p
	return p, targetPath, nil
}

// loadOpen loads the project and opens its database for writing.
func (c *cli) loadOpen(ctx context.Context) (*project.Project, string, *duckenv.Env, error) {
	p, targetPath, err := c.load(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), false)
	if err != nil {
		return nil, "", nil, err
	}
	return p, targetPath, e, nil
}

// loadPlan loads the project and selects nodes.
func (c *cli) loadPlan(ctx context.Context) (*project.Project, string, *orchestrate.Plan, error) {
	p, targetPath, err := c.load(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	plan, err := c.plan(p)
	if err != nil {
		return nil, "", nil, err
	}
	return p, targetPath, plan, nil
}

func (c *cli) databasePath(targetPath string) string {
	if c.opts.database != "" {
		return c.opts.database
	}
	if s := c.envSettings; s != nil && s.Database != "" {
		if filepath.IsAbs(s.Database) {
			return s.Database
		}
		return filepath.Join(targetPath, filepath.FromSlash(s.Database))
	}
	return filepath.Join(targetPath, c.opts.target+".duckdb")
}

// lockBackoff is how opening a database locked by another process is
// retried.
var lockBackoff = recovery.Backoff{Attempts: 3, InitialDelay: time.Second, Multiplier: 2, MaxDelay: 10 * time.Second}

func (c *cli) open(ctx context.Context, path string, readOnly bool) (*duckenv.Env, error) {
	b := lockBackoff
	b.Attempts = max(c.opts.lockRetries, 1)
	for attempt := 1; ; attempt++ {
		cfg := duckenv.Config{Name: c.opts.target, Path: path, ReadOnly: readOnly, Logger: c.log}
		if s := c.envSettings; s != nil {
			cfg.Threads, cfg.MemoryLimit = s.Threads, s.MemoryLimit
		}
		e, err := duckenv.Open(ctx, cfg)
		if err == nil || !errors.Is(err, duckenv.ErrLocked) || attempt >= b.Attempts {
			if err != nil && errors.Is(err, duckenv.ErrLocked) {
				return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return e, err
		}
		delay := b.Delay(attempt, rand.Float64())
		fmt.Fprintf(c.stderr, "database %s is locked by another process; retrying in %s (attempt %d of %d)\n", path, delay.Round(time.Millisecond), attempt+1, b.Attempts)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *cli) plan(p *project.Project) (*orchestrate.Plan, error) {
	return c.planWith(p, nil)
}

// planWith selects nodes; results are the previous run's statuses for
// `result:` selectors.
func (c *cli) planWith(p *project.Project, results map[string]string) (*orchestrate.Plan, error) {
	plan, err := orchestrate.NewPlanWith(p, dag.SelectOptions{Select: c.opts.selects, Exclude: c.opts.excludes, Results: results, State: c.stateSel})
	if err != nil {
		return nil, err
	}
	for _, u := range plan.Unmatched {
		fmt.Fprintf(c.stderr, "warning: selector %q matched no node\n", u)
	}
	return plan, nil
}

var commandKinds = map[string][]orchestrate.Kind{
	"run":  {orchestrate.KindModel, orchestrate.KindSource},
	"test": {orchestrate.KindTest},
	"seed": {orchestrate.KindSeed},
}

func (c *cli) build(ctx context.Context, cmd string) error {
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	var results map[string]string
	if usesResults(c.opts.selects) || usesResults(c.opts.excludes) {
		if _, results, err = lastResults(ctx, e); err != nil {
			return err
		}
	}
	if usesState(c.opts.selects) || usesState(c.opts.excludes) {
		dp, _, err := c.deployPlan(ctx, p, e)
		if err != nil {
			return err
		}
		c.stateSel = dp.State()
		if dp.FirstDeploy {
			fmt.Fprintf(c.stderr, "note: %s has no manifest yet; state:modified selects every node\n", c.opts.target)
			for _, n := range p.Nodes() {
				c.stateSel[n.Name] = "new"
			}
		}
	}
	plan, err := c.planWith(p, results)
	if err != nil {
		return err
	}
	if kinds, ok := commandKinds[cmd]; ok {
		plan = plan.Filter(func(n *orchestrate.Node) bool { return slices.Contains(kinds, n.Kind) })
	}
	run, err := c.execute(ctx, e, plan, targetPath, cmd)
	if err != nil {
		return err
	}
	if !run.OK() {
		return &exitError{code: 1}
	}
	return nil
}

func (c *cli) execute(ctx context.Context, e *duckenv.Env, plan *orchestrate.Plan, targetPath, cmd string) (*orchestrate.Run, error) {
	progress := orchestrate.NewProgress(c.stdout)
	progress.Verbose = c.opts.verbose
	invocation := strings.Join(append([]string{"vyaparbazaar", cmd}, c.invocationArgs()...), " ")
	runID := orchestrate.NewRunID(time.Now())
	// Record the run as running, every planned node pending, before it
	// starts: if the process dies, `retry` still knows what was selected.
	pending := make([]pendingNode, len(plan.Order))
	for i, n := range plan.Order {
		pending[i] = pendingNode{Node: n.Name, Kind: string(n.Kind), Status: "pending"}
	}
	pendingJSON, _ := json.Marshal(pending)
	if err := e.RecordRun(ctx, duckenv.RunRecord{
		RunID: runID, StartedAt: time.Now(), Status: "running", Invocation: invocation, Results: pendingJSON,
	}); err != nil {
		fmt.Fprintf(c.stderr, "warning: run history not recorded: %v\n", err)
	}
	observers := []orchestrate.Observer{progress}
	recorder, err := e.NodeRecorder(ctx, runID)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: node results not recorded: %v\n", err)
	} else {
		observers = append(observers, recorder)
	}
	if c.runTelemetry != nil {
		observers = append(observers, c.runTelemetry)
	}
	observers, finishAlerts := c.withAlerts(ctx, e, plan, observers)
	defer finishAlerts()
	policy, err := recovery.NewPolicy(c.settings)
	if err != nil {
		return nil, err
	}
	var decide recovery.RecoveryPolicy = policy
	if c.opts.noRetry {
		decide = recovery.PolicyFunc(func(_ context.Context, f recovery.Failure) recovery.Decision {
			if f.Critical && f.Class != recovery.ClassCancelled && !policy.DisableFallback {
				return recovery.Decision{Action: recovery.Fallback, Reason: "critical model: serving its last good version"}
			}
			return recovery.Decision{Action: recovery.Fail, Reason: "--no-retry"}
		})
	}
	run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{
		RunID:      runID,
		Threads:    c.opts.threads,
		FailFast:   c.opts.failFast,
		RunTimeout: c.opts.runTimeout,
		Runner:     e.Runner(c.runnerOptions(targetPath, runID, cmd)),
		Recovery:   decide,
		LastGood: func(ctx context.Context, node string) (orchestrate.Serving, bool) {
			id, at, ok, err := e.LastGood(ctx, node)
			if err != nil || !ok {
				return orchestrate.Serving{}, false
			}
			return orchestrate.Serving{RunID: id, BuiltAt: at}, true
		},
		Observers:  observers,
		Invocation: invocation,
		Logger:     c.log,
	})
	if recorder != nil {
		if cerr := recorder.Close(); cerr != nil {
			fmt.Fprintf(c.stderr, "warning: node results not recorded: %v\n", cerr)
		}
	}
	if err != nil {
		return nil, err
	}
	c.trackIncidents(ctx, e, run, plan)
	c.recordManifest(ctx, e, run)
	if err := run.WriteResults(filepath.Join(targetPath, "run_results.json")); err != nil {
		fmt.Fprintf(c.stderr, "warning: %v\n", err)
	}
	results, _ := json.Marshal(run.Results)
	counts := map[string]int{}
	for s, n := range run.Counts() {
		counts[string(s)] = n
	}
	// Record history even when the run was interrupted.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.RecordRun(hctx, duckenv.RunRecord{
		RunID: run.ID, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Status: string(run.Status),
		Invocation: invocation, NodeCounts: counts, Results: results,
	}); err != nil {
		fmt.Fprintf(c.stderr, "warning: run history not recorded: %v\n", err)
	}
	return run, nil
}

// runnerOptions configures the DuckDB runner. Freshness is measured
// against --as-of, else, for the embedded demo, the time its data was
// generated as of, else the real clock.
func (c *cli) runnerOptions(targetPath, runID, cmd string) duckenv.RunnerOptions {
	o := duckenv.RunnerOptions{FullRefresh: c.opts.fullRefresh, TargetDir: targetPath, ProjectDir: c.opts.projectDir,
		RunID: runID, Actor: actorAs(c.principal.Name, cmd), Fingerprint: c.fingerprint, GitCommit: c.gitCommit}
	if c.envSettings != nil && c.envSettings.Data == env.DataSample && c.envCfg != nil && c.envCfg.File != "" {
		o.FreshnessWarnOnly = true
	}
	switch {
	case !c.opts.asOf.IsZero():
		asOf := c.opts.asOf
		o.Now = func() time.Time { return asOf }
	case c.opts.projectDir == "":
		o.Now = demo.Now
	}
	return o
}

// trackIncidents opens incidents for what failed and resolves those whose
// models all recovered, and says so.
func (c *cli) trackIncidents(ctx context.Context, e *duckenv.Env, run *orchestrate.Run, plan *orchestrate.Plan) {
	tr := incident.Tracker{Store: e.Incidents(), Environment: c.opts.target}
	ch, err := tr.Observe(context.WithoutCancel(ctx), run.ID, orchestrate.IncidentOutcomes(run, plan))
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: incidents not updated: %v\n", err)
		return
	}
	for _, inc := range ch.Opened {
		fmt.Fprintf(c.stdout, "Opened incident %s (%s, %s, owner %s): %s\n", inc.ID, inc.Severity, inc.Class, orDash(inc.Owner), strings.Join(inc.Models, ", "))
	}
	for _, inc := range ch.Resolved {
		fmt.Fprintf(c.stdout, "Resolved incident %s: %s recovered\n", inc.ID, strings.Join(inc.Models, ", "))
	}
}

// recordManifest records in the environment's manifest the fingerprints of
// the nodes the run published (and of the tests and sources that passed),
// so that state:modified compares against what the environment holds.
func (c *cli) recordManifest(ctx context.Context, e *duckenv.Env, run *orchestrate.Run) {
	if c.project == nil || run.Publication == nil || c.deploying {
		return // a deploy records its manifest once it succeeded
	}
	state, err := c.project.State()
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: manifest not updated: %v\n", err)
		return
	}
	set := map[string]env.Fingerprint{}
	for _, name := range run.Publication.Published {
		if s, ok := state[name]; ok {
			set[name] = env.Fingerprint{Kind: s.Kind, Own: s.Own, Full: s.Full}
		}
	}
	for _, r := range run.Results {
		eph := r.Kind == orchestrate.KindModel && c.project.Models[r.Node] != nil && c.project.Models[r.Node].Materialized == project.MaterializedEphemeral
		if (eph || r.Kind == orchestrate.KindTest || r.Kind == orchestrate.KindSource) && r.Status.OK() {
			if s, ok := state[r.Node]; ok {
				set[r.Node] = env.Fingerprint{Kind: s.Kind, Own: s.Own, Full: s.Full}
			}
		}
	}
	if len(set) == 0 {
		return
	}
	if err := e.UpdateManifest(context.WithoutCancel(ctx), set, nil); err != nil {
		fmt.Fprintf(c.stderr, "warning: manifest not updated: %v\n", err)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// incidents lists, shows and annotates incidents:
//
//	incidents [list]            open and recent incidents
//	incidents show ID           the markdown incident report
//	incidents note ID "text"    add a note to the timeline
//	incidents root-cause ID "text"
//	incidents resolve ID
func (c *cli) incidents(ctx context.Context) error {
	fsys, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	if err := c.loadSettings(fsys); err != nil {
		return err
	}
	args := c.opts.positional
	verb := "list"
	if len(args) > 0 {
		verb, args = args[0], args[1:]
	}
	need := map[string]int{"list": 0, "show": 1, "note": 2, "root-cause": 2, "resolve": 1}
	n, ok := need[verb]
	if !ok || len(args) != n {
		return &exitError{code: 2, err: errors.New(`usage: incidents [list] | show ID | note ID "text" | root-cause ID "text" | resolve ID`)}
	}
	e, err := c.open(ctx, c.databasePath(targetPath), verb == "list" || verb == "show")
	if err != nil {
		return err
	}
	defer e.Close()
	store := e.Incidents()
	author := os.Getenv("USER")
	switch verb {
	case "list":
		incs, err := store.List(ctx, incident.Filter{Limit: 50})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tCLASS\tOWNER\tOPENED\tMODELS")
		for _, inc := range incs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Status, inc.Severity, inc.Class, orDash(inc.Owner), inc.OpenedAt.Local().Format("2006-01-02 15:04"), strings.Join(inc.Models, ","))
		}
		return tw.Flush()
	case "show":
		inc, err := store.Get(ctx, args[0])
		if err != nil {
			return err
		}
		runbook := recovery.DefaultRunbooks().With(c.settings.Runbooks).For(recovery.Class(inc.Class))
		if esc, ok := c.settings.Escalation[inc.Owner]; ok {
			runbook += fmt.Sprintf("\n\nEscalation for %s: %s, then %s after %s without acknowledgement.", inc.Owner, esc.Primary, esc.Secondary, esc.After)
		}
		return incident.WriteReport(c.stdout, inc, runbook)
	case "note":
		return incident.AddNote(ctx, store, args[0], author, args[1], time.Now())
	case "root-cause":
		return incident.SetRootCause(ctx, store, args[0], args[1])
	default:
		return incident.Resolve(ctx, store, args[0], author, time.Now())
	}
}

// pendingNode is a planned node's entry in the run history before it runs.
type pendingNode struct {
	Node     string `json:"unique_id"`
	Kind     string `json:"resource_type"`
	Status   string `json:"status"`
	Withheld string `json:"withheld,omitempty"`
}

func usesState(selectors []string) bool {
	for _, s := range selectors {
		if strings.Contains(s, "state:") {
			return true
		}
	}
	return false
}

func usesResults(selectors []string) bool {
	for _, s := range selectors {
		if strings.Contains(s, "result:") {
			return true
		}
	}
	return false
}

// lastResults reads the latest run of the history and its node statuses
// ("pending" for nodes of a run that died before finishing them).
func lastResults(ctx context.Context, e *duckenv.Env) (duckenv.RunRecord, map[string]string, error) {
	runs, err := e.RunHistory(ctx, 1)
	if err != nil {
		return duckenv.RunRecord{}, nil, err
	}
	if len(runs) == 0 {
		return duckenv.RunRecord{}, nil, &exitError{code: 1, err: errors.New("no previous run in the run history")}
	}
	last := runs[0]
	var nodes []pendingNode
	if err := json.Unmarshal(last.Results, &nodes); err != nil {
		return last, nil, fmt.Errorf("read run %s: %w", last.RunID, err)
	}
	results := make(map[string]string, len(nodes))
	for _, n := range nodes {
		results[n.Node] = n.Status
		if n.Withheld != "" {
			// Built but not published (a test failed): not done.
			results[n.Node] = "withheld"
		}
	}
	if last.Status == "running" {
		// The run died before it published: every node it selected is
		// still to do (the ones that finished are "built", not done).
		done, err := e.NodeResults(ctx, last.RunID)
		if err != nil {
			return last, nil, err
		}
		for node, status := range done {
			if status == "success" || status == "pass" || status == "warn" {
				status = "pending"
			}
			results[node] = status
		}
	}
	return last, results, nil
}

// retry re-runs the nodes of the last run that did not pass: failed, fell
// back, skipped, cancelled, or never finished because the process died.
func (c *cli) retry(ctx context.Context) error {
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	last, results, err := lastResults(ctx, e)
	if err != nil {
		return err
	}
	again := map[string]bool{}
	for node, status := range results {
		switch orchestrate.Status(status) {
		case orchestrate.StatusSuccess, orchestrate.StatusPass, orchestrate.StatusWarn:
		default:
			again[node] = true
		}
	}
	if len(again) == 0 {
		fmt.Fprintf(c.stdout, "Nothing to retry: run %s (%s) passed.\n", last.RunID, last.Invocation)
		return nil
	}
	plan, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		return err
	}
	plan = plan.Filter(func(n *orchestrate.Node) bool { return again[n.Name] })
	fmt.Fprintf(c.stdout, "Retrying %d of %d nodes of run %s (%s, %s)\n", len(plan.Order), len(results), last.RunID, last.Invocation, last.Status)
	run, err := c.execute(ctx, e, plan, targetPath, "retry")
	if err != nil {
		return err
	}
	if !run.OK() {
		return &exitError{code: 1}
	}
	return nil
}

func (c *cli) invocationArgs() []string {
	var a []string
	for _, s := range c.opts.selects {
		a = append(a, "--select", s)
	}
	for _, s := range c.opts.excludes {
		a = append(a, "--exclude", s)
	}
	if c.opts.fullRefresh {
		a = append(a, "--full-refresh")
	}
	return a
}

func (c *cli) generate(ctx context.Context) error {
	_, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), false)
	if err != nil {
		return err
	}
	defer e.Close()
	_, err = c.generateInto(ctx, e)
	return err
}

func (c *cli) generateInto(ctx context.Context, e *duckenv.Env) (demo.Stats, error) {
	fmt.Fprintf(c.stdout, "Generating VyaparBazaar source data (scale %g, seed %d) into %s …\n", c.opts.scale, c.opts.seed, e.Path())
	st, err := demo.Generate(ctx, e.DB(), demo.Options{Scale: c.opts.scale, Seed: c.opts.seed})
	if err != nil {
		return st, fmt.Errorf("generate: %w", err)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, t := range demo.RawTables() {
		fmt.Fprintf(tw, "  raw.%s\t%s rows\t\n", t, humanize.Comma(st.Rows[t]))
	}
	_ = tw.Flush()
	fmt.Fprintf(c.stdout, "Generated %s rows in %.2fs\n\n", humanize.Comma(st.Total()), st.Duration.Seconds())
	return st, nil
}

func (c *cli) demo(ctx context.Context) error {
	if c.opts.projectDir != "" {
		return &exitError{code: 2, err: errors.New("demo runs the embedded VyaparBazaar project; use build for --project")}
	}
	p, targetPath, err := c.load(ctx)
	if err != nil {
		return err
	}
	plan, err := c.plan(p)
	if err != nil {
		return err
	}
	dbPath := c.databasePath(targetPath)
	e, err := c.open(ctx, dbPath, false)
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := c.generateInto(ctx, e); err != nil {
		return err
	}
	run, err := c.execute(ctx, e, plan, targetPath, "demo")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "\nWhat was built in %s:\n", dbPath)
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	built := slices.Clone(run.Results)
	slices.SortStableFunc(built, func(a, b *orchestrate.NodeResult) int {
		return cmp.Or(cmp.Compare(layerRank(plan.Node(a.Node)), layerRank(plan.Node(b.Node))), cmp.Compare(a.Relation, b.Relation))
	})
	for _, r := range built {
		n := plan.Node(r.Node)
		if n == nil || n.Kind != orchestrate.KindModel || r.Relation == "" {
			continue
		}
		rows := "view"
		if r.RowsAffected >= 0 {
			rows = humanize.Comma(r.RowsAffected) + " rows"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", n.Layer, r.Relation, rows, r.Status)
	}
	_ = tw.Flush()
	self := "go run ./examples/vyaparbazaar"
	fmt.Fprintf(c.stdout, `
Query it (read-only):
  %[1]s query "select * from marts.mart_daily_sales order by order_date desc limit 7"
  %[1]s query "select segment, count(*) as customers from ml.ml_customer_segments group by 1 order by 2 desc"
  %[1]s query --format csv "select * from marts.mart_inventory_status where reorder_flag limit 20"
Rebuild part of it:
  %[1]s build --select +mart_daily_sales
Run results: %[2]s
`, self, filepath.Join(targetPath, "run_results.json"))
	if !run.OK() {
		return &exitError{code: 1}
	}
	return nil
}

// layerRank orders the seed's layers from sources to ML features.
func layerRank(n *orchestrate.Node) int {
	if n == nil {
		return 99
	}
	order := []string{"sources", "seeds", "staging", "intermediate", "dimensions", "facts", "marts", "ml_features"}
	if i := slices.Index(order, n.Layer); i >= 0 {
		return i
	}
	return len(order)
}

func (c *cli) compile(ctx context.Context) error {
	p, targetPath, plan, err := c.loadPlan(ctx)
	if err != nil {
		return err
	}
	var compiled []string
	var lastSQL string
	for _, n := range plan.Order {
		if n.Kind != orchestrate.KindModel && n.Kind != orchestrate.KindTest {
			continue
		}
		comp, err := p.Compile(n.Name, project.CompileState{})
		if err != nil {
			if c.opts.bind {
				continue // reported with the binding errors
			}
			return err
		}
		rel := comp.Path
		if rel == "" {
			rel = n.Name + ".sql"
		}
		if n.Kind == orchestrate.KindTest && !strings.HasPrefix(rel, "tests/") {
			rel = filepath.Join(filepath.Dir(rel), n.Name+".sql")
		}
		out := filepath.Join(targetPath, "compiled", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, []byte(comp.SQL+"\n"), 0o644); err != nil {
			return err
		}
		compiled = append(compiled, out)
		lastSQL = comp.SQL
	}
	summary := c.stdout
	if len(compiled) == 1 {
		fmt.Fprintln(c.stdout, lastSQL)
		summary = c.stderr
	} else {
		fmt.Fprintf(c.stdout, "Compiled %d nodes into %s\n", len(compiled), filepath.Join(targetPath, "compiled"))
	}
	if c.opts.bind {
		return c.bindCheck(ctx, p, plan, targetPath, summary)
	}
	return nil
}

func (c *cli) list(ctx context.Context) error {
	_, _, plan, err := c.loadPlan(ctx)
	if err != nil {
		return err
	}
	switch c.opts.format {
	case "", "name":
		for _, n := range plan.Order {
			fmt.Fprintln(c.stdout, n.Name)
		}
	case "json":
		type item struct {
			Name         string   `json:"name"`
			Kind         string   `json:"resource_type"`
			Layer        string   `json:"layer,omitempty"`
			Materialized string   `json:"materialized,omitempty"`
			Owner        string   `json:"owner,omitempty"`
			Priority     string   `json:"priority"`
			Critical     bool     `json:"critical,omitempty"`
			Tags         []string `json:"tags,omitempty"`
			Path         string   `json:"path,omitempty"`
			DependsOn    []string `json:"depends_on,omitempty"`
		}
		enc := json.NewEncoder(c.stdout)
		for _, n := range plan.Order {
			if err := enc.Encode(item{n.Name, string(n.Kind), n.Layer, n.Config["materialized"], n.Owner, n.Priority.String(), n.Critical, n.Tags, n.Path, n.Deps}); err != nil {
				return err
			}
		}
	case "table":
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tLAYER\tMATERIALIZED\tOWNER\tPRIORITY\tTAGS")
		for _, n := range plan.Order {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.Layer, n.Config["materialized"], n.Owner, n.Priority, strings.Join(n.Tags, ","))
		}
		return tw.Flush()
	default:
		return &exitError{code: 2, err: fmt.Errorf("ls: unknown --format %q (name, table or json)", c.opts.format)}
	}
	return nil
}

func (c *cli) graph(ctx context.Context) error {
	_, _, plan, err := c.loadPlan(ctx)
	if err != nil {
		return err
	}
	g := plan.Graph
	if len(c.opts.selects) > 0 || len(c.opts.excludes) > 0 {
		names := make([]string, len(plan.Order))
		for i, n := range plan.Order {
			names[i] = n.Name
		}
		if g, err = g.Subgraph(names); err != nil {
			return err
		}
	}
	switch c.opts.format {
	case "", "mermaid":
		fmt.Fprint(c.stdout, g.Mermaid())
	case "dot":
		fmt.Fprint(c.stdout, g.DOT())
	default:
		return &exitError{code: 2, err: fmt.Errorf("graph: unknown --format %q (mermaid or dot)", c.opts.format)}
	}
	return nil
}

func (c *cli) query(ctx context.Context) error {
	if len(c.opts.positional) != 1 {
		return &exitError{code: 2, err: errors.New(`query takes exactly one SQL statement: query "select ..."`)}
	}
	path := c.opts.database
	if path == "" {
		_, targetPath, err := c.projectFS()
		if err != nil {
			return err
		}
		path = c.databasePath(targetPath)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database %s does not exist (run `vyaparbazaar demo` or `build` first)", path)
	}
	e, err := c.open(ctx, path, true)
	if err != nil {
		return err
	}
	defer e.Close()
	if c.readerOnly() && duckenv.MentionsInternalSchemas(c.opts.positional[0]) {
		return &exitError{code: 1, err: fmt.Errorf("query: the _dataops schemas hold dataops' own tables (run history, versions, incidents, approvals), which a reader of %s may not read", c.opts.target)}
	}
	res, err := e.Query(ctx, c.opts.positional[0])
	if err != nil {
		return err
	}
	return writeResult(c.stdout, res, c.opts.format)
}

func writeResult(w io.Writer, res *duckenv.QueryResult, format string) error {
	cell := func(v any) string {
		switch x := v.(type) {
		case nil:
			return "NULL"
		case time.Time:
			if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
				return x.Format("2006-01-02")
			}
			return x.Format("2006-01-02 15:04:05")
		case []byte:
			return string(x)
		default:
			return fmt.Sprint(x)
		}
	}
	switch format {
	case "", "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(res.Columns, "\t"))
		for _, row := range res.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cell(v)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "(%d row%s)\n", len(res.Rows), map[bool]string{true: "", false: "s"}[len(res.Rows) == 1])
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(res.Columns)
		for _, row := range res.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				if v == nil {
					cells[i] = ""
				} else {
					cells[i] = cell(v)
				}
			}
			_ = cw.Write(cells)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		enc := json.NewEncoder(w)
		for _, row := range res.Rows {
			obj := make(map[string]any, len(row))
			for i, v := range row {
				obj[res.Columns[i]] = jsonValue(v)
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	}
	return &exitError{code: 2, err: fmt.Errorf("query: unknown --format %q (table, csv or json)", format)}
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	default:
		return v
	}
}

func (c *cli) history(ctx context.Context) error {
	_, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	path := c.databasePath(targetPath)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database %s does not exist", path)
	}
	e, err := c.open(ctx, path, true)
	if err != nil {
		return err
	}
	defer e.Close()
	runs, err := e.RunHistory(ctx, 20)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tDURATION\tSTATUS\tNODES\tINVOCATION")
	for _, r := range runs {
		var total int
		for _, n := range r.NodeCounts {
			total += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2fs\t%s\t%d\t%s\n", r.RunID, r.StartedAt.Local().Format("2006-01-02 15:04:05"), r.FinishedAt.Sub(r.StartedAt).Seconds(), r.Status, total, r.Invocation)
	}
	return tw.Flush()
}
