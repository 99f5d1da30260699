package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/vyaparbazaar/dataops/alert"
	"github.com/vyaparbazaar/dataops/alert/monitor"
	alertslack "github.com/vyaparbazaar/dataops/alert/slack"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

// benchPipeline is 1,000 no-op nodes in 20 layers, 50 wide; in every
// fifth layer one node in failEvery fails, so the run raises alerts (and
// skips the failed nodes' downstream).
func benchPipeline(failEvery int) orchestrate.Pipeline {
	ok := orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{RowsAffected: 1}, nil
	})
	fail := orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
		return orchestrate.Outcome{}, errors.New("Binder Error: column x not found")
	})
	var nodes []*orchestrate.Node
	for layer := range 20 {
		for i := range 50 {
			n := &orchestrate.Node{Name: fmt.Sprintf("m_%02d_%02d", layer, i), Kind: orchestrate.KindModel, Owner: "analytics", Runner: ok}
			if layer > 0 {
				n.Deps = []string{fmt.Sprintf("m_%02d_%02d", layer-1, i)}
			}
			if i%failEvery == 0 && layer%5 == 4 {
				n.Runner = fail
			}
			nodes = append(nodes, n)
		}
	}
	return orchestrate.NewPipeline(nodes...)
}

// BenchmarkRunWithChannelDown compares a run whose alerts go to a Slack
// webhook that refuses connections (and an email channel that works) with
// the same run without any alerting, in the same benchmark. The metric
// ratio is run time with alerting / run time without (target ≤ 1.02); the
// baseline has an observer that does nothing, as every real run has
// observers (progress, the node recorder), so the ratio measures alerting,
// not the executor's event delivery. ratio-no-observer compares with a run
// without any observer. The nodes do no work at all (about 2 µs each), so
// this is the worst case: real nodes run SQL for milliseconds.
func BenchmarkRunWithChannelDown(b *testing.B) {
	// 2% of the nodes fail (20 alerts per run), or 10% (100 alerts).
	for _, failEvery := range []int{10, 2} {
		b.Run(fmt.Sprintf("failing=%d%%", 20/failEvery), func(b *testing.B) { benchChannelDown(b, failEvery) })
	}
}

func benchChannelDown(b *testing.B, failEvery int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/services/T/B/X"
	_ = ln.Close() // connection refused from now on
	var delivered int
	email := alert.NotifierFunc(func(context.Context, alert.Notification) error { delivered++; return nil })
	router, err := alert.NewRouter(&alert.Route{Receivers: []string{"slack", "email"}, GroupWait: time.Millisecond, GroupInterval: time.Minute, GroupBy: []string{alert.LabelModel}})
	if err != nil {
		b.Fatal(err)
	}
	d, err := alert.NewDispatcher(alert.Options{
		Router:    router,
		Receivers: map[string]alert.Notifier{"slack": &alertslack.Notifier{WebhookURL: down}, "email": email},
		Retry:     recovery.Backoff{Attempts: 3, InitialDelay: 5 * time.Millisecond, Multiplier: 2, MaxDelay: 20 * time.Millisecond},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	p := benchPipeline(failEvery)
	plan, err := orchestrate.NewPlan(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	run := func(observers []orchestrate.Observer) time.Duration {
		start := time.Now()
		r, err := orchestrate.ExecutePlan(context.Background(), plan, orchestrate.Options{Threads: 4, Observers: observers})
		if err != nil || r.OK() {
			b.Fatalf("run: %v (ok=%v)", err, r.OK())
		}
		return time.Since(start)
	}
	obs := []orchestrate.Observer{&monitor.Observer{Alerter: d, Environment: "bench"}}
	noop := []orchestrate.Observer{orchestrate.ObserverFunc(func(orchestrate.Event) {})}
	run(nil)
	run(obs)
	var without, with, none time.Duration
	var ratios, ratiosNone []float64
	b.ResetTimer()
	for i := range b.N {
		// Rotate the order so that no side always runs warm.
		var w, wo, n time.Duration
		switch i % 3 {
		case 0:
			wo, w, n = run(noop), run(obs), run(nil)
		case 1:
			w, n, wo = run(obs), run(nil), run(noop)
		default:
			n, wo, w = run(nil), run(noop), run(obs)
		}
		with, without, none = with+w, without+wo, none+n
		ratios = append(ratios, float64(w)/float64(wo))
		ratiosNone = append(ratiosNone, float64(w)/float64(n))
	}
	b.StopTimer()
	// Medians of the paired ratios: the machine is noisy, and one stall
	// of the OS would otherwise decide the result.
	b.ReportMetric(medianOf(ratios), "ratio")
	b.ReportMetric(medianOf(ratiosNone), "ratio-no-observer")
	b.ReportMetric(float64(without.Microseconds())/float64(b.N), "µs/run-without")
	b.ReportMetric(float64(with.Microseconds())/float64(b.N), "µs/run-with")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = d.Close(ctx)
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
