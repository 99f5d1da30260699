package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	alertemail "github.com/vyaparbazaar/dataops/alert/email"
	"github.com/vyaparbazaar/dataops/alert/report"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery/incident"
)

func init() {
	register("report", command{
		Summary: "report weekly [--to DATE] [--format md|html] [--out FILE]: the weekly status report",
		Run:     runReport,
	})
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := dbFlags(fs)
	o.format = "md"
	fs.Lookup("format").DefValue = "md"
	out := fs.String("out", "", "write to FILE instead of stdout")
	to := time.Now()
	fs.Func("to", "end of the week reported (RFC 3339 or a date; default now)", func(v string) error {
		for _, layout := range []string{time.RFC3339, time.DateOnly} {
			if t, err := time.Parse(layout, v); err == nil {
				to = t
				return nil
			}
		}
		return fmt.Errorf("--to %q: want RFC 3339 or a date", v)
	})
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || pos[0] != "weekly" {
		fmt.Fprintln(stderr, "usage: vyaparbazaar report weekly [--to DATE] [--format md|html] [--out FILE]")
		return 2
	}
	if o.format == "table" {
		o.format = "md"
	}
	if o.format != "md" && o.format != "html" {
		fmt.Fprintf(stderr, "vyaparbazaar report: --format %q: want md or html\n", o.format)
		return 2
	}
	c := &cli{opts: o, stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	text, err := c.weekly(ctx, to)
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar report: %v\n", err)
		return 1
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintf(stderr, "vyaparbazaar report: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "Weekly report written to %s\n", *out)
		return 0
	}
	fmt.Fprint(stdout, text)
	return 0
}

// weekly renders the report of the 7 days before to.
func (c *cli) weekly(ctx context.Context, to time.Time) (string, error) {
	p, targetPath, err := c.load(ctx)
	if err != nil {
		return "", err
	}
	e, err := c.open(ctx, c.databasePath(targetPath), true)
	if err != nil {
		return "", err
	}
	defer e.Close()
	w, err := c.weeklyReport(ctx, e, p, to)
	if err != nil {
		return "", err
	}
	if c.opts.format == "html" {
		return w.HTML()
	}
	return w.Markdown()
}

// weeklyReport builds the week to `to` of environment e.
func (c *cli) weeklyReport(ctx context.Context, e *duckenv.Env, p *project.Project, to time.Time) (*report.Weekly, error) {
	cfg, err := c.alertConfig()
	if err != nil {
		return nil, err
	}
	runs, err := e.AlertHistory().Runs(ctx, 0)
	if err != nil {
		return nil, err
	}
	incs, err := e.Incidents().List(ctx, incident.Filter{Environment: c.opts.target})
	if err != nil {
		return nil, err
	}
	alerts, err := e.Alerts().Alerts(ctx, alert.Filter{})
	if err != nil {
		return nil, err
	}
	owners := map[string]string{}
	for _, n := range p.Nodes() {
		owners[n.Name] = n.Owner
	}
	ch := c.checker(e, nil, cfg, p.Nodes())
	c.watchSchedule(ch, p, to)
	ch.Resources, ch.CPU, ch.DiskPath = nil, nil, ""
	fresh, err := ch.Evaluate(ctx, to)
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: %v\n", err)
	}
	w := report.Build(report.Inputs{
		Environment: c.opts.target, From: to.Add(-7 * 24 * time.Hour), To: to,
		Runs: runs, Incidents: incs, Alerts: alerts, Owners: owners, Freshness: &fresh,
	})
	return &w, nil
}

// mailWeeklyReport builds the weekly report of e and sends it, markdown
// and HTML, through every email receiver of the alerts configuration (the
// daemon's weekly-report job).
func (c *cli) mailWeeklyReport(ctx context.Context, e *duckenv.Env, p *project.Project, to time.Time) (int, error) {
	w, err := c.weeklyReport(ctx, e, p, to)
	if err != nil {
		return 0, err
	}
	text, err := w.Markdown()
	if err != nil {
		return 0, err
	}
	html, err := w.HTML()
	if err != nil {
		return 0, err
	}
	cfg, err := c.alertConfig()
	if err != nil {
		return 0, err
	}
	router, err := alert.NewRouter(cfg.Route)
	if err != nil {
		return 0, err
	}
	chans, _ := receivers(cfg, router, c.log)
	subject := fmt.Sprintf("[dataops] Weekly status report: %s, week to %s", c.opts.target, to.Format(time.DateOnly))
	sent := 0
	var errs []error
	for name, n := range chans {
		em, ok := n.(*alertemail.Notifier)
		if !ok {
			continue
		}
		if err := em.SendDocument(ctx, subject, text, html); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		sent++
	}
	if sent == 0 && len(errs) == 0 {
		return 0, errors.New("weekly report: no email receiver is configured (alerts.receivers, or SMTP_HOST/SMTP_FROM/SMTP_TO)")
	}
	return sent, errors.Join(errs...)
}
