package main

// Alerting for the CLI and the daemon: the dispatcher wired into every run
// (withAlerts, one call in cli.execute), the daemon's long-lived
// dispatcher and periodic checks (serveAlerts, one call in cli.serve), and
// the `alerts` and `status` commands.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	alertemail "github.com/vyaparbazaar/dataops/alert/email"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	alertslack "github.com/vyaparbazaar/dataops/alert/slack"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/internal/telemetry"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
	"github.com/vyaparbazaar/dataops/schedule"
)

// alertCloseTimeout bounds how long a command waits, when it ends, for
// its alerts to be delivered (retries of a broken channel included).
var alertCloseTimeout = 30 * time.Second

// alerting is the alerting of one command, or of the daemon.
type alerting struct {
	d        *alert.Dispatcher
	obs      *monitor.Observer
	cfg      alert.Config
	channels []string // "name (kind)" for humans
}

// alertConfig reads the alerts section of the project's dataops.yml.
func (c *cli) alertConfig() (alert.Config, error) {
	fsys, _, err := c.projectFS()
	if err != nil {
		return alert.Config{}, err
	}
	data, err := fs.ReadFile(fsys, settingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return alert.Config{}, nil
	}
	if err != nil {
		return alert.Config{}, err
	}
	return alert.ParseConfig(data, settingsFile)
}

// receivers builds the channels: those configured under alerts.receivers
// with their secrets from the environment; for the default names "slack"
// and "email" without configuration, SLACK_WEBHOOK_URL (or SLACK_BOT_TOKEN
// with SLACK_CHANNEL) and SMTP_HOST, SMTP_PORT, SMTP_USERNAME,
// SMTP_PASSWORD, SMTP_FROM, SMTP_TO, SMTP_TLS; every other channel, and one
// whose secret is not set, writes to the log.
func receivers(cfg alert.Config, router *alert.Router, log *slog.Logger) (map[string]alert.Notifier, []string) {
	out := map[string]alert.Notifier{}
	var desc []string
	logged := &onceLog{log: alert.Slog{Logger: log}, seen: map[string]bool{}}
	logTo := func(name, why string) {
		out[name] = logged
		desc = append(desc, fmt.Sprintf("%s (log: %s)", name, why))
	}
	names := router.Receivers()
	for n := range cfg.Receivers {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rc, configured := cfg.Receivers[name]
		if !configured {
			switch name {
			case alert.ReceiverSlack:
				rc = alert.ReceiverConfig{Type: "slack", Settings: map[string]string{"webhook_url_env": "SLACK_WEBHOOK_URL", "token_env": "SLACK_BOT_TOKEN", "channel": os.Getenv("SLACK_CHANNEL")}}
			case alert.ReceiverEmail:
				rc = alert.ReceiverConfig{Type: "email", Settings: map[string]string{
					"host": os.Getenv("SMTP_HOST"), "port": os.Getenv("SMTP_PORT"), "tls": os.Getenv("SMTP_TLS"),
					"username": os.Getenv("SMTP_USERNAME"), "password_env": "SMTP_PASSWORD",
					"from": os.Getenv("SMTP_FROM"), "to": os.Getenv("SMTP_TO"),
				}}
			default:
				logTo(name, "not configured")
				continue
			}
		}
		s := rc.Settings
		switch rc.Type {
		case "slack":
			n := &alertslack.Notifier{Channel: s["channel"], Username: s["username"], APIURL: s["api_url"]}
			if v := s["webhook_url_env"]; v != "" {
				n.WebhookURL = os.Getenv(v)
			}
			if n.WebhookURL == "" && s["token_env"] != "" && n.Channel != "" {
				n.Token = os.Getenv(s["token_env"])
			}
			if n.WebhookURL == "" && n.Token == "" {
				logTo(name, "no webhook URL or bot token in the environment ("+strings.Trim(s["webhook_url_env"]+" "+s["token_env"], " ")+")")
				continue
			}
			out[name] = n
			desc = append(desc, name+" (slack)")
		case "email":
			if s["host"] == "" || s["from"] == "" || s["to"] == "" {
				logTo(name, "no SMTP host, from and to configured")
				continue
			}
			port, _ := strconv.Atoi(s["port"])
			n := &alertemail.Notifier{Host: s["host"], Port: port, TLS: alertemail.TLSMode(s["tls"]), Username: s["username"],
				From: s["from"], To: strings.Split(s["to"], ",")}
			if v := s["password_env"]; v != "" {
				n.Password = os.Getenv(v)
			}
			n.InsecureSkipVerify, _ = strconv.ParseBool(s["insecure_skip_verify"]) // checked by alert.ParseConfig
			out[name] = n
			desc = append(desc, name+" (email via "+s["host"]+")")
		default:
			logTo(name, "log receiver")
		}
	}
	return out, desc
}

// onceLog writes each notification to the log once, however many of the
// channels fall back to the log.
type onceLog struct {
	log  alert.Slog
	mu   sync.Mutex
	seen map[string]bool
}

func (o *onceLog) Notify(ctx context.Context, n alert.Notification) error {
	var key strings.Builder
	key.WriteString(n.GroupKey + "|" + n.Status() + "|" + strconv.FormatBool(n.Escalated))
	for _, a := range n.Alerts {
		key.WriteString("|" + a.Fingerprint() + a.Status())
	}
	o.mu.Lock()
	if len(o.seen) > 10000 {
		clear(o.seen)
	}
	dup := o.seen[key.String()]
	o.seen[key.String()] = true
	o.mu.Unlock()
	if dup {
		return nil
	}
	n.Receiver = "log"
	return o.log.Notify(ctx, n)
}

// upstreamOf returns a function listing every ancestor of a node.
func upstreamOf(nodes []*orchestrate.Node) func(string) []string {
	deps := map[string][]string{}
	for _, n := range nodes {
		deps[n.Name] = n.Deps
	}
	return func(model string) []string {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(n string) {
			for _, d := range deps[n] {
				if !seen[d] {
					seen[d] = true
					walk(d)
				}
			}
		}
		walk(model)
		out := make([]string, 0, len(seen))
		for d := range seen {
			out = append(out, d)
		}
		slices.Sort(out)
		return out
	}
}

// newAlerting starts a dispatcher for the project's configuration.
func (c *cli) newAlerting(e *duckenv.Env, nodes []*orchestrate.Node, metrics alert.Metrics) (*alerting, error) {
	cfg, err := c.alertConfig()
	if err != nil {
		return nil, err
	}
	root := cfg.Route
	if root == nil {
		root = alert.DefaultRoute()
	}
	var notices *monitor.Notices
	if len(cfg.Notices.Receivers) > 0 {
		if notices, err = monitor.NewNotices(cfg.Notices.Delayed, cfg.Notices.Recovered); err != nil {
			return nil, fmt.Errorf("%s:%d: alerts.notices: %w", settingsFile, cfg.Notices.Line, err)
		}
		// Notices go to the stakeholders' channels only, one group per model.
		withNotices := *root
		withNotices.Routes = append([]*alert.Route{{
			Name: "notices", Matchers: alert.Matchers{alert.Eq(alert.LabelType, string(monitor.TypeNotice))},
			Receivers: cfg.Notices.Receivers, GroupBy: []string{alert.LabelModel},
		}}, root.Routes...)
		root = &withNotices
	}
	router, err := alert.NewRouter(root)
	if err != nil {
		return nil, err
	}
	notifiers, desc := receivers(cfg, router, c.log)
	retry := recovery.Backoff{Attempts: cfg.Delivery.Attempts, InitialDelay: cfg.Delivery.InitialDelay, Multiplier: 2, MaxDelay: cfg.Delivery.MaxDelay, Jitter: 0.2}
	if retry.Attempts == 0 {
		retry.Attempts = 4
	}
	if retry.InitialDelay == 0 {
		retry.InitialDelay = time.Second
	}
	if retry.MaxDelay == 0 {
		retry.MaxDelay = 30 * time.Second
	}
	d, err := alert.NewDispatcher(alert.Options{
		Router: router, Receivers: notifiers, Store: e.Alerts(), Inhibit: cfg.Inhibit,
		Upstream: upstreamOf(nodes), Escalation: c.settings.Escalation, Retry: retry,
		AttemptTimeout: cfg.Delivery.Timeout, Logger: c.log, Metrics: metrics,
	})
	if err != nil {
		return nil, err
	}
	obs := &monitor.Observer{Alerter: d, Environment: c.opts.target, Runbooks: recovery.DefaultRunbooks().With(c.settings.Runbooks), Notices: notices}
	if open, err := e.Alerts().Alerts(context.Background(), alert.Filter{Open: true}); err == nil {
		obs.Track(open)
	} else {
		c.log.Warn("open alerts not loaded", "err", err)
	}
	return &alerting{d: d, obs: obs, cfg: cfg, channels: desc}, nil
}

// checker is the monitors over the environment's history and resources.
func (c *cli) checker(e *duckenv.Env, a alert.Alerter, cfg alert.Config, nodes []*orchestrate.Node) *monitor.Checker {
	ch := &monitor.Checker{
		Alerter: a, Environment: c.opts.target, Thresholds: cfg.Thresholds, History: e.AlertHistory(),
		Resources: e.Resources(), CPU: &monitor.ProcessCPU{}, LoadedAt: e, SourceClock: c.runnerOptions("", "", "").Now,
	}
	if e.Path() != "" {
		ch.DiskPath = filepath.Dir(e.Path())
	}
	for _, n := range nodes {
		switch spec := n.Spec.(type) {
		case *project.Model:
			if spec.Materialized != project.MaterializedEphemeral {
				ch.Models = append(ch.Models, monitor.Model{Name: n.Name, Layer: n.Layer, Owner: n.Owner})
			}
		case *project.Source:
			if spec.LoadedAtField != "" && (spec.WarnAfter > 0 || spec.ErrorAfter > 0) {
				rel := spec.Relation()
				ch.Sources = append(ch.Sources, monitor.Source{Name: n.Name, Schema: rel.Schema, Table: rel.Name, Column: spec.LoadedAtField,
					Owner: n.Owner, Freshness: alert.Freshness{WarnAfter: spec.WarnAfter, ErrorAfter: spec.ErrorAfter}})
			}
		default:
			if n.Spec == nil && n.Kind == orchestrate.KindModel {
				ch.Models = append(ch.Models, monitor.Model{Name: n.Name, Layer: n.Layer, Owner: n.Owner})
			}
		}
	}
	return ch
}

// watchSchedule gives the checker's models the intervals of the
// timetable's jobs that build them, so that their freshness thresholds
// follow their schedule (a nightly model is not stale after 2 hours), and
// stops watching the freshness of models no job builds (unless
// alerts.thresholds.models names them). Without a readable timetable the
// models keep the configured thresholds.
func (c *cli) watchSchedule(ch *monitor.Checker, p *project.Project, now time.Time) {
	fsys, _, err := c.projectFS()
	if err != nil {
		return
	}
	cfg, err := c.loadTimetable(fsys, p)
	if err != nil {
		if c.log != nil {
			c.log.Debug("freshness: no timetable; every model gets the configured thresholds", "err", err)
		}
		return
	}
	g, err := orchestrate.NewGraph(p)
	if err != nil {
		return
	}
	intervals := map[string]time.Duration{}
	for _, j := range cfg.Jobs {
		if j.Operation != "" || len(j.Select) == 0 {
			continue
		}
		nodes, err := g.Select(j.Select, j.Exclude)
		if err != nil {
			continue
		}
		iv := monitor.Interval(j.Schedule, now)
		if iv <= 0 {
			continue
		}
		for _, n := range nodes {
			if cur, ok := intervals[n]; !ok || iv < cur {
				intervals[n] = iv
			}
		}
	}
	for i := range ch.Models {
		ch.Models[i].Interval = intervals[ch.Models[i].Name]
	}
	ch.ScheduledOnly = true
}

// withAlerts is the alerting hook of one run: it adds the observer that
// raises alerts to observers, and returns the function to call when the
// run is recorded, which checks performance and row counts of what ran
// and, for a one-shot command, delivers the alerts and stops. Alerting
// problems are warnings: they never fail the run.
func (c *cli) withAlerts(ctx context.Context, e *duckenv.Env, plan *orchestrate.Plan, observers []orchestrate.Observer) ([]orchestrate.Observer, func()) {
	al := c.alerts
	oneShot := al == nil
	if oneShot {
		var err error
		if al, err = c.newAlerting(e, plan.Order, nil); err != nil {
			fmt.Fprintf(c.stderr, "warning: alerts disabled: %v\n", err)
			return observers, func() {}
		}
	}
	return append(observers, al.obs), func() {
		ctx := context.WithoutCancel(ctx)
		ch := c.checker(e, al.d, al.cfg, plan.Order)
		ch.NoFreshness, ch.Resources, ch.DiskPath, ch.Sources, ch.HistoryRuns = true, nil, "", nil, 60
		if _, err := ch.Check(ctx, time.Now()); err != nil {
			fmt.Fprintf(c.stderr, "warning: alert checks: %v\n", err)
		}
		if oneShot {
			cctx, cancel := context.WithTimeout(ctx, alertCloseTimeout)
			defer cancel()
			if err := al.d.Close(cctx); err != nil {
				fmt.Fprintf(c.stderr, "warning: alerts not all delivered: %v\n", err)
			}
		}
	}
}

// alertCheckInterval is how often the daemon checks freshness and
// resources.
var alertCheckInterval = time.Minute

// serveAlerts starts the daemon's dispatcher, shared by its jobs, checks
// freshness, source lag and resources every alertCheckInterval, serves
// GET /alerts and POST /alerts/{id}/ack, and returns the function that
// stops it all.
func (c *cli) serveAlerts(ctx context.Context, e *duckenv.Env, p *project.Project, m *telemetry.Metrics, mux *http.ServeMux) func() {
	metrics, err := telemetry.NewAlertMetrics(m.Meter)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: alert metrics: %v\n", err)
	}
	var am alert.Metrics
	if metrics != nil {
		am = metrics
	}
	al, err := c.newAlerting(e, p.Nodes(), am)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: alerts disabled: %v\n", err)
		return func() {}
	}
	c.alerts = al
	fmt.Fprintf(c.stdout, "Alerts go to: %s\n", strings.Join(al.channels, ", "))
	ch := c.checker(e, al.d, al.cfg, p.Nodes())
	c.watchSchedule(ch, p, time.Now())
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(alertCheckInterval)
		defer t.Stop()
		for {
			if _, err := ch.Check(cctx, time.Now()); err != nil && cctx.Err() == nil {
				c.log.Warn("alert checks", "err", err)
			}
			select {
			case <-t.C:
			case <-cctx.Done():
				return
			}
		}
	}()
	mux.HandleFunc("GET /alerts", func(w http.ResponseWriter, r *http.Request) {
		recs, err := e.Alerts().Alerts(r.Context(), alert.Filter{Open: r.URL.Query().Get("all") == ""})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(alertViews(recs))
	})
	mux.HandleFunc("POST /alerts/{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		by := r.URL.Query().Get("by")
		if by == "" {
			http.Error(w, "say who acknowledges: ?by=NAME", http.StatusBadRequest)
			return
		}
		rec, err := al.d.Ack(r.Context(), r.PathValue("id"), by)
		if errors.Is(err, alert.ErrNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(alertViews([]alert.Record{rec})[0])
	})
	return func() {
		cancel()
		<-done
		sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), alertCloseTimeout)
		defer stop()
		if err := al.d.Close(sctx); err != nil {
			fmt.Fprintf(c.stderr, "warning: alerts not all delivered: %v\n", err)
		}
	}
}

// alertSchedule raises and resolves deadline_missed alerts from the
// daemon's scheduler events (one call in daemon.onEvent).
func (c *cli) alertSchedule(ev schedule.Event) {
	if c.alerts == nil {
		return
	}
	if a, ok := monitor.ScheduleAlert(ev, c.opts.target); ok {
		if err := c.alerts.d.Send(context.Background(), a); err != nil {
			c.log.Warn("deadline alert", "err", err)
		}
	}
}

// alertView is an alert as /alerts and `alerts list --format json` show it.
type alertView struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Severity  string            `json:"severity"`
	Status    string            `json:"status"`
	Title     string            `json:"title"`
	Labels    map[string]string `json:"labels,omitempty"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Count     int               `json:"count"`
	Notified  time.Time         `json:"last_notified,omitzero"`
	AckedBy   string            `json:"acked_by,omitempty"`
	AckedAt   time.Time         `json:"acked_at,omitzero"`
	Escalated time.Time         `json:"escalated_at,omitzero"`
}

func alertViews(recs []alert.Record) []alertView {
	out := make([]alertView, len(recs))
	for i, r := range recs {
		out[i] = alertView{ID: r.ID, Type: string(r.Alert.Type), Severity: string(r.Alert.Severity), Status: r.Alert.Status(),
			Title: r.Alert.Title, Labels: r.Alert.Labels, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, Count: r.Count,
			Notified: r.LastNotified, AckedBy: r.AckedBy, AckedAt: r.AckedAt, Escalated: r.EscalatedAt}
	}
	return out
}

func init() {
	register("alerts", command{
		Summary: "alerts [list|ack ID|silence --match M --for D|silences|expire SID|test]: open alerts, acks and silences",
		Run:     runAlerts,
	})
	register("status", command{
		Summary: "freshness of every model and source, the last runs, open alerts and resource use",
		Run:     runStatus,
	})
}

// dbFlags are the common flags of the alerts and status commands.
func dbFlags(fs *flag.FlagSet) *cliOptions {
	o := &cliOptions{lockRetries: 3}
	fs.StringVar(&o.projectDir, "project", "", "project folder")
	fs.StringVar(&o.database, "database", "", "DuckDB file")
	fs.StringVar(&o.target, "target", "dev", "target name")
	fs.StringVar(&o.targetPath, "target-path", "", "output folder")
	fs.StringVar(&o.format, "format", "table", "table or json")
	fs.StringVar(&o.as, "as", "", "act as this principal (access control)")
	fs.Func("as-of", "now for source freshness", func(v string) error {
		t, err := time.Parse(time.RFC3339, v)
		o.asOf = t
		return err
	})
	return o
}

// parseInterleaved parses flags that may come after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func runAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := dbFlags(fs)
	all := fs.Bool("all", false, "list: resolved alerts too")
	by := fs.String("by", currentUser(), "ack/silence: who")
	var matches listFlag
	fs.Var(&matches, "match", `silence: a matcher such as model=fct_orders or team=~"fin.*" (repeatable)`)
	dur := fs.Duration("for", 2*time.Hour, "silence: how long")
	comment := fs.String("comment", "", "silence: why")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	sub := "list"
	if len(pos) > 0 {
		sub, pos = pos[0], pos[1:]
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "vyaparbazaar alerts: %s\nusage: vyaparbazaar alerts [list [--all]] | ack ID [--by NAME] | silence --match M [--for 2h] [--comment C] | silences | expire SID | test\n", msg)
		return 2
	}
	c := &cli{opts: o, stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	_, targetPath, err := c.projectFS()
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar alerts: %v\n", err)
		return 1
	}
	readOnly := sub == "list" || sub == "silences"
	e, err := c.open(ctx, c.databasePath(targetPath), readOnly)
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar alerts: %v\n", err)
		return 1
	}
	defer e.Close()
	store := e.Alerts()
	now := time.Now()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vyaparbazaar alerts %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "list":
		recs, err := store.Alerts(ctx, alert.Filter{Open: !*all})
		if err != nil {
			return fail(err)
		}
		if o.format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(alertViews(recs)); err != nil {
				return fail(err)
			}
			return 0
		}
		printAlerts(stdout, recs, now)
	case "ack":
		if len(pos) != 1 {
			return usage("ack needs one alert ID")
		}
		rec, err := store.Ack(ctx, pos[0], *by, now)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Acknowledged %s by %s: %s (no escalation)\n", rec.ID, rec.AckedBy, rec.Alert.Title)
	case "silence":
		if len(matches) == 0 {
			return usage("silence needs at least one --match")
		}
		var ms alert.Matchers
		for _, s := range matches {
			m, err := alert.ParseMatcher(s)
			if err != nil {
				return usage(err.Error())
			}
			ms = append(ms, m)
		}
		sil, err := store.AddSilence(ctx, alert.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(*dur), CreatedBy: *by, Comment: *comment})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Silence %s until %s: %s\n", sil.ID, sil.EndsAt.Local().Format("2006-01-02 15:04"), matcherText(sil.Matchers))
	case "silences":
		sils, err := store.Silences(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tUNTIL\tMATCHERS\tBY\tCOMMENT")
		for _, s := range sils {
			state := "expired"
			if s.Active(now) {
				state = "active"
			} else if now.Before(s.StartsAt) {
				state = "pending"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, state, s.EndsAt.Local().Format("2006-01-02 15:04"), matcherText(s.Matchers), orDash(s.CreatedBy), orDash(s.Comment))
		}
		_ = tw.Flush()
	case "expire":
		if len(pos) != 1 {
			return usage("expire needs one silence ID")
		}
		if err := store.ExpireSilence(ctx, pos[0], now); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Silence %s expired\n", pos[0])
	case "test":
		cfg, err := c.alertConfig()
		if err != nil {
			return fail(err)
		}
		router, err := alert.NewRouter(cfg.Route)
		if err != nil {
			return fail(err)
		}
		notifiers, desc := receivers(cfg, router, c.log)
		fmt.Fprintf(stdout, "Channels: %s\n", strings.Join(desc, ", "))
		err = alert.Fanout(notifiers).Send(ctx, alert.Alert{
			Type: alert.TypeRunFailed, Severity: alert.SeverityLow, Title: "Test alert from vyaparbazaar",
			Body: "If you read this, the channel works.", Labels: map[string]string{alert.LabelEnvironment: o.target},
			StartsAt: now,
		})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, "Test alert delivered to every channel")
	default:
		return usage(fmt.Sprintf("unknown subcommand %q", sub))
	}
	return 0
}

func matcherText(ms alert.Matchers) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String() + " ago"
	case d < 48*time.Hour:
		return d.Round(time.Minute).String() + " ago"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func printAlerts(w io.Writer, recs []alert.Record, now time.Time) {
	if len(recs) == 0 {
		fmt.Fprintln(w, "No open alerts.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTYPE\tSTATUS\tMODEL\tTEAM\tSINCE\tCOUNT\tACK\tTITLE")
	for _, r := range recs {
		ack := "-"
		if r.Acknowledged() {
			ack = r.AckedBy
		} else if !r.EscalatedAt.IsZero() {
			ack = "escalated"
		}
		subject := r.Alert.Labels[alert.LabelModel]
		if subject == "" {
			subject = r.Alert.Labels[alert.LabelResource] + r.Alert.Labels[alert.LabelReceiver]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Alert.Severity, r.Alert.Type, r.Alert.Status(), orDash(subject),
			orDash(r.Alert.Labels[alert.LabelTeam]), ago(now, r.FirstSeen), r.Count, ack, r.Alert.Title)
	}
	_ = tw.Flush()
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := dbFlags(fs)
	if _, err := parseInterleaved(fs, args); err != nil {
		return 2
	}
	c := &cli{opts: o, stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := c.status(ctx); err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar status: %v\n", err)
		return 1
	}
	return 0
}

func (c *cli) status(ctx context.Context) error {
	p, targetPath, err := c.load(ctx)
	if err != nil {
		return err
	}
	cfg, err := c.alertConfig()
	if err != nil {
		return err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), true)
	if err != nil {
		return err
	}
	defer e.Close()
	now := time.Now()
	ch := c.checker(e, nil, cfg, p.Nodes())
	c.watchSchedule(ch, p, now)
	rep, err := ch.Evaluate(ctx, now)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: %v\n", err)
	}
	w := c.stdout
	fmt.Fprintf(w, "Environment %s — %s\n\n", c.opts.target, now.Local().Format("2006-01-02 15:04 MST"))

	fmt.Fprintf(w, "Freshness: %.0f%% of models and sources on schedule\n", rep.OnSchedule*100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tLEVEL\tLAST\tAGE\tWARN/ERROR AFTER")
	for _, f := range rep.Freshness {
		last, age := "never", "-"
		if f.Level != monitor.LevelNever {
			last, age = f.LastSuccess.Local().Format("2006-01-02 15:04"), roundDur(f.Age)
		}
		name := f.Name
		if f.Source {
			name = "source " + name
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s / %s\n", name, strings.ToUpper(string(f.Level)), last, age, f.Thresholds.WarnAfter, f.Thresholds.ErrorAfter)
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nLast runs:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range rep.Runs {
		if i == 5 {
			break
		}
		counts := map[string]int{}
		for _, n := range r.Nodes {
			counts[n.Status]++
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tok=%d error=%d fail=%d skipped=%d\n", r.RunID, r.StartedAt.Local().Format("2006-01-02 15:04"),
			r.Status, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond), counts["success"]+counts["pass"], counts["error"]+counts["fallback"], counts["fail"], counts["skipped"])
	}
	_ = tw.Flush()
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "  none recorded")
	}
	if rep.Tests > 0 {
		fmt.Fprintf(w, "\nData quality (last run with tests): %d tests, %.1f%% failing", rep.Tests, rep.TestFailureRate*100)
		for _, k := range slices.Sorted(maps.Keys(rep.Duplicates)) {
			fmt.Fprintf(w, "; %s: %d duplicates", k, rep.Duplicates[k])
		}
		fmt.Fprintln(w)
	}
	var slow []string
	for _, p := range rep.Perf {
		if p.Ratio > cfg.Thresholds.WithDefaults().Performance {
			slow = append(slow, fmt.Sprintf("%s %.0f%% of baseline %s", p.Model, p.Ratio*100, p.Baseline.Round(time.Millisecond)))
		}
	}
	if len(slow) > 0 {
		fmt.Fprintf(w, "Slower than baseline: %s\n", strings.Join(slow, "; "))
	}
	if len(rep.Resources) > 0 {
		parts := make([]string, len(rep.Resources))
		for i, r := range rep.Resources {
			parts[i] = fmt.Sprintf("%s %.0f%%", r.Name, r.Used*100)
		}
		fmt.Fprintf(w, "Resources: %s\n", strings.Join(parts, ", "))
	}
	recs, err := e.Alerts().Alerts(ctx, alert.Filter{Open: true})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nOpen alerts:")
	printAlerts(w, recs, now)
	return nil
}

func roundDur(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
