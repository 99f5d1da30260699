package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

type transientErr struct{ error }

func (transientErr) FailureClass() recovery.Class { return recovery.ClassTransient }

// flaky fails its first attempt transiently.
type flaky struct{ calls map[string]int }

func (f *flaky) Run(_ context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
	f.calls[n.Name]++
	switch {
	case n.Name == "stg" && f.calls[n.Name] == 1:
		return orchestrate.Outcome{}, transientErr{errors.New("database is locked")}
	case n.Name == "t":
		return orchestrate.Outcome{Failures: 3}, &orchestrate.TestFailure{Test: "t", Failures: 3, Message: "3 rows"}
	}
	return orchestrate.Outcome{RowsAffected: 10}, nil
}

func TestRunObserverSpansAndMetrics(t *testing.T) {
	m, err := New("test")
	require.NoError(t, err)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	obs, err := NewRunObserver(m.Meter, tp, "prod")
	require.NoError(t, err)
	p := orchestrate.NewPipeline(
		&orchestrate.Node{Name: "stg", Kind: orchestrate.KindModel, Layer: "staging"},
		&orchestrate.Node{Name: "t", Kind: orchestrate.KindTest, Deps: []string{"stg"}, TestOf: "stg"},
		&orchestrate.Node{Name: "mart", Kind: orchestrate.KindModel, Deps: []string{"stg"}},
	)
	run, err := orchestrate.Execute(t.Context(), p, orchestrate.Options{
		Runner:    orchestrate.RunnerFunc((&flaky{calls: map[string]int{}}).Run),
		Recovery:  &recovery.Policy{Default: recovery.Backoff{Attempts: 2, InitialDelay: time.Millisecond, Multiplier: 1}},
		Observers: []orchestrate.Observer{obs},
	})
	require.NoError(t, err)
	require.Equal(t, orchestrate.StatusError, run.Status)

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	require.Contains(t, byName, "dataops.run")
	root := byName["dataops.run"]
	for _, n := range []string{"stg", "t", "mart"} {
		s, ok := byName["dataops.node "+n]
		require.True(t, ok, n)
		assert.Equal(t, root.SpanContext.SpanID(), s.Parent.SpanID(), "node spans are children of the run span")
	}
	var retried bool
	for _, ev := range byName["dataops.node stg"].Events {
		retried = retried || ev.Name == "retry"
	}
	assert.True(t, retried, "the retry is an event of the node's span")
	assert.Equal(t, codes.Error, byName["dataops.node t"].Status.Code)
	assert.Equal(t, codes.Error, byName["dataops.node mart"].Status.Code, "skipped downstream")
	assert.Equal(t, codes.Error, root.Status.Code)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`dataops_node_retries_total{class="transient",environment="prod"`,
		`dataops_test_failures_total{environment="prod",otel_scope_name="test"`,
		`dataops_nodes_total{environment="prod",kind="model",layer="staging"`,
		`dataops_node_rows_total{environment="prod",node="stg"`,
		`dataops_runs_total{environment="prod"`,
		`dataops_node_duration_seconds_bucket`,
	} {
		assert.True(t, strings.Contains(text, want), "missing %s in\n%s", want, text)
	}
}
