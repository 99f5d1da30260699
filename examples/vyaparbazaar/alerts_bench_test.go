package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	alertslack "github.com/vyaparbazaar/dataops/alert/slack"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/examples/vyaparbazaar/demo"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/recovery"
)

// BenchmarkDemoBuildWithChannelDown builds the demo (scale 0.01) with its
// marts failing (so alerts are raised: 4 failed models, their downstream
// skipped) and its alerts going to a Slack webhook that refuses
// connections (retried with backoff while the next build runs) plus a
// working email channel, against the same build whose only observer does
// nothing; interleaved. Metrics: alerting-ratio and its median per pair
// (target ≤ 1.02).
func BenchmarkDemoBuildWithChannelDown(b *testing.B) {
	ctx := context.Background()
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(b.TempDir(), "bench.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := demo.Generate(ctx, e.DB(), demo.Options{Scale: 0.01, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	p, err := project.Load(ctx, demo.Project(), project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	inner := e.Runner(duckenv.RunnerOptions{FullRefresh: true, Now: demo.Now})
	runner := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		if n.Kind == orchestrate.KindModel && strings.HasPrefix(n.Name, "mart_") {
			return orchestrate.Outcome{}, errors.New("Binder Error: Referenced column \"revenue\" not found")
		}
		return inner.Run(ctx, n)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/services/T/B/X"
	_ = ln.Close()
	slackDown := &alertslack.Notifier{WebhookURL: down}
	var slackAttempts atomic.Int64
	// Notifications go out 1 ms after the first alert, while the build
	// goes on, and each build's alerts are new (their environment label
	// differs), so every timed build overlaps with failing deliveries.
	root := alert.DefaultRoute()
	root.GroupWait = time.Millisecond
	router, err := alert.NewRouter(root)
	if err != nil {
		b.Fatal(err)
	}
	d, err := alert.NewDispatcher(alert.Options{
		Router: router,
		Receivers: map[string]alert.Notifier{
			alert.ReceiverSlack: alert.NotifierFunc(func(ctx context.Context, n alert.Notification) error {
				slackAttempts.Add(1)
				return slackDown.Notify(ctx, n)
			}),
			alert.ReceiverEmail: alert.NotifierFunc(func(context.Context, alert.Notification) error { return nil }),
		},
		Store:  e.Alerts(),
		Retry:  recovery.Backoff{Attempts: 3, InitialDelay: 10 * time.Millisecond, Multiplier: 2, MaxDelay: 50 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	var obs *monitor.Observer
	build := func(o orchestrate.Observer) time.Duration {
		start := time.Now()
		run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{Runner: runner, Recovery: recovery.NoRetry, Threads: 4, Observers: []orchestrate.Observer{o}})
		if err != nil || len(run.Failed()) != 4 {
			b.Fatalf("build: %v", err)
		}
		return time.Since(start)
	}
	builds := 0
	withAlerts := func() time.Duration {
		builds++
		obs = &monitor.Observer{Alerter: d, Environment: fmt.Sprintf("bench-%d", builds)}
		return build(obs)
	}
	noop := orchestrate.ObserverFunc(func(orchestrate.Event) {})
	build(noop)
	withAlerts()
	var with, without time.Duration
	var ratios []float64
	i := 0
	for b.Loop() {
		var w, wo time.Duration
		if i%2 == 0 {
			wo, w = build(noop), withAlerts()
		} else {
			w, wo = withAlerts(), build(noop)
		}
		with, without = with+w, without+wo
		ratios = append(ratios, float64(w)/float64(wo))
		i++
	}
	slices.Sort(ratios)
	b.ReportMetric(with.Seconds()/float64(b.N), "alerting-s")
	b.ReportMetric(without.Seconds()/float64(b.N), "no-alerting-s")
	b.ReportMetric(with.Seconds()/without.Seconds(), "alerting-ratio")
	b.ReportMetric(ratios[len(ratios)/2], "alerting-median-ratio")
	b.ReportMetric(float64(slackAttempts.Load())/float64(b.N), "failed-slack-attempts/op")
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = d.Close(cctx)
}
