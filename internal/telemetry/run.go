package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// RunObserver is an orchestrate.Observer that records OpenTelemetry
// metrics of runs and nodes (duration, rows, status, retries, test
// failures) and, with a TracerProvider, a span per run with a child span
// per node (attempts and retries as span events). Use one per process; it
// keeps the spans of runs going on concurrently apart by run id.
type RunObserver struct {
	tracer      trace.Tracer
	environment string

	nodeDuration metric.Float64Histogram
	rows         metric.Int64Counter
	nodes        metric.Int64Counter
	retries      metric.Int64Counter
	testFailures metric.Int64Counter
	runs         metric.Int64Counter

	mu    sync.Mutex
	spans map[string]*runSpans // by run id
}

type runSpans struct {
	ctx   context.Context
	run   trace.Span
	nodes map[string]trace.Span
}

// NewRunObserver makes the instruments on m's meter. tp may be nil (no
// spans).
func NewRunObserver(m metric.Meter, tp trace.TracerProvider, environment string) (*RunObserver, error) {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	o := &RunObserver{tracer: tp.Tracer("github.com/vyaparbazaar/dataops/orchestrate"), environment: environment, spans: map[string]*runSpans{}}
	var err error
	if o.nodeDuration, err = m.Float64Histogram("dataops_node_duration_seconds", metric.WithDescription("Node execution time (all attempts)"), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	if o.rows, err = m.Int64Counter("dataops_node_rows", metric.WithDescription("Rows built by models and seeds")); err != nil {
		return nil, err
	}
	if o.nodes, err = m.Int64Counter("dataops_nodes", metric.WithDescription("Finished nodes by kind and status")); err != nil {
		return nil, err
	}
	if o.retries, err = m.Int64Counter("dataops_node_retries", metric.WithDescription("Retried node attempts, by failure class")); err != nil {
		return nil, err
	}
	if o.testFailures, err = m.Int64Counter("dataops_test_failures", metric.WithDescription("Data tests that failed or warned, by severity outcome")); err != nil {
		return nil, err
	}
	if o.runs, err = m.Int64Counter("dataops_runs", metric.WithDescription("Finished runs by status")); err != nil {
		return nil, err
	}
	return o, nil
}

// OnEvent implements orchestrate.Observer.
func (o *RunObserver) OnEvent(ev orchestrate.Event) {
	ctx := context.Background()
	o.mu.Lock()
	defer o.mu.Unlock()
	env := attribute.String("environment", o.environment)
	switch ev.Type {
	case orchestrate.RunStarted:
		rctx, span := o.tracer.Start(ctx, "dataops.run", trace.WithTimestamp(ev.Time),
			trace.WithAttributes(attribute.String("dataops.run_id", ev.RunID), env, attribute.Int("dataops.nodes", ev.Total)))
		o.spans[ev.RunID] = &runSpans{ctx: rctx, run: span, nodes: map[string]trace.Span{}}
	case orchestrate.NodeStarted:
		rs := o.spans[ev.RunID]
		if rs == nil || ev.Node == nil {
			return
		}
		if _, ok := rs.nodes[ev.Node.Name]; !ok {
			_, span := o.tracer.Start(rs.ctx, "dataops.node "+ev.Node.Name, trace.WithTimestamp(ev.Time), trace.WithAttributes(
				attribute.String("dataops.node", ev.Node.Name), attribute.String("dataops.kind", string(ev.Node.Kind)),
				attribute.String("dataops.layer", ev.Node.Layer), attribute.String("dataops.owner", ev.Node.Owner)))
			rs.nodes[ev.Node.Name] = span
		}
		rs.nodes[ev.Node.Name].AddEvent("attempt", trace.WithTimestamp(ev.Time), trace.WithAttributes(attribute.Int("attempt", ev.Attempt)))
	case orchestrate.NodeRetrying:
		class := ""
		if ev.Result != nil && len(ev.Result.Attempts) > 0 {
			class = string(ev.Result.Attempts[len(ev.Result.Attempts)-1].Class)
		}
		o.retries.Add(ctx, 1, metric.WithAttributes(env, attribute.String("class", class)))
		if rs := o.spans[ev.RunID]; rs != nil && ev.Node != nil {
			if span := rs.nodes[ev.Node.Name]; span != nil {
				msg := ""
				if ev.Err != nil {
					msg = ev.Err.Error()
				}
				span.AddEvent("retry", trace.WithTimestamp(ev.Time), trace.WithAttributes(
					attribute.Int("attempt", ev.Attempt), attribute.String("class", class),
					attribute.String("delay", ev.Delay.String()), attribute.String("error", msg)))
			}
		}
	case orchestrate.NodeFinished:
		res := ev.Result
		if res == nil || ev.Node == nil {
			return
		}
		attrs := metric.WithAttributes(env, attribute.String("kind", string(ev.Node.Kind)), attribute.String("status", string(res.Status)),
			attribute.String("layer", ev.Node.Layer))
		o.nodes.Add(ctx, 1, attrs)
		if res.ExecutionTime > 0 {
			o.nodeDuration.Record(ctx, res.ExecutionTime.Seconds(), metric.WithAttributes(env, attribute.String("node", ev.Node.Name),
				attribute.String("kind", string(ev.Node.Kind)), attribute.String("status", string(res.Status))))
		}
		if res.RowsAffected > 0 {
			o.rows.Add(ctx, res.RowsAffected, metric.WithAttributes(env, attribute.String("node", ev.Node.Name)))
		}
		if ev.Node.Kind == orchestrate.KindTest && (res.Status == orchestrate.StatusFail || res.Status == orchestrate.StatusWarn) {
			o.testFailures.Add(ctx, 1, metric.WithAttributes(env, attribute.String("status", string(res.Status))))
		}
		rs := o.spans[ev.RunID]
		if rs == nil {
			return
		}
		span := rs.nodes[ev.Node.Name]
		if span == nil { // skipped: never started
			_, span = o.tracer.Start(rs.ctx, "dataops.node "+ev.Node.Name, trace.WithTimestamp(ev.Time),
				trace.WithAttributes(attribute.String("dataops.node", ev.Node.Name), attribute.String("dataops.kind", string(ev.Node.Kind))))
		}
		span.SetAttributes(attribute.String("dataops.status", string(res.Status)), attribute.Int64("dataops.rows", res.RowsAffected),
			attribute.Int("dataops.attempts", len(res.Attempts)))
		if res.Class != "" {
			span.SetAttributes(attribute.String("dataops.class", string(res.Class)))
		}
		if !res.Status.OK() {
			span.SetStatus(codes.Error, firstLine(res.Error+res.SkippedBecause))
		}
		span.End(trace.WithTimestamp(ev.Time))
		delete(rs.nodes, ev.Node.Name)
	case orchestrate.RunFinished:
		status := ""
		if ev.Run != nil {
			status = string(ev.Run.Status)
		}
		o.runs.Add(ctx, 1, metric.WithAttributes(env, attribute.String("status", status)))
		rs := o.spans[ev.RunID]
		if rs == nil {
			return
		}
		for _, span := range rs.nodes {
			span.End(trace.WithTimestamp(ev.Time))
		}
		rs.run.SetAttributes(attribute.String("dataops.status", status))
		if ev.Run != nil && ev.Run.Status != orchestrate.StatusSuccess {
			rs.run.SetStatus(codes.Error, fmt.Sprintf("run %s", status))
		}
		rs.run.End(trace.WithTimestamp(ev.Time))
		delete(o.spans, ev.RunID)
	}
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// RegisterFreshness reports each model's time since its data was last
// published as the gauge dataops_model_freshness_lag_seconds, computed by
// publishedAt when metrics are collected.
func RegisterFreshness(m metric.Meter, environment string, publishedAt func(context.Context) (map[string]time.Time, error), now func() time.Time) error {
	g, err := m.Float64ObservableGauge("dataops_model_freshness_lag_seconds",
		metric.WithDescription("Time since each model's data was last published"), metric.WithUnit("s"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		at, err := publishedAt(ctx)
		if err != nil {
			return nil // a busy database must not break /metrics
		}
		t := now()
		for model, p := range at {
			obs.ObserveFloat64(g, t.Sub(p).Seconds(), metric.WithAttributes(attribute.String("environment", environment), attribute.String("model", model)))
		}
		return nil
	}, g)
	return err
}
