package orchestrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/recovery"
)

// recorder is a Runner that records start/finish order and can fail, sleep
// or block per node.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished map[string]int // name -> finish sequence
	seq      int
	running  int
	maxRun   int
	sleep    map[string]time.Duration
	fail     map[string]error
	failN    map[string]int // fail the first N attempts
	attempts map[string]int
}

func newRecorder() *recorder {
	return &recorder{finished: map[string]int{}, sleep: map[string]time.Duration{}, fail: map[string]error{}, failN: map[string]int{}, attempts: map[string]int{}}
}

func (r *recorder) Run(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
	r.mu.Lock()
	r.started = append(r.started, n.Name)
	r.running++
	r.maxRun = max(r.maxRun, r.running)
	r.attempts[n.Name]++
	attempt := r.attempts[n.Name]
	d := r.sleep[n.Name]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.seq++
		r.finished[n.Name] = r.seq
		r.mu.Unlock()
	}()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return orchestrate.Outcome{}, fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
	if err := r.fail[n.Name]; err != nil {
		if k, ok := r.failN[n.Name]; !ok || attempt <= k {
			return orchestrate.Outcome{}, err
		}
	}
	return orchestrate.Outcome{RowsAffected: int64(len(n.Name)), Message: "OK"}, nil
}

func model(name string, deps ...string) *orchestrate.Node {
	return &orchestrate.Node{Name: name, Kind: orchestrate.KindModel, Deps: deps}
}

func TestExecuteRunsInDependencyOrder(t *testing.T) {
	// a → b → d, a → c → d, e independent
	nodes := []*orchestrate.Node{model("d", "b", "c"), model("b", "a"), model("c", "a"), model("a"), model("e")}
	rec := newRecorder()
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: rec, Threads: 3})
	require.NoError(t, err)
	assert.Equal(t, orchestrate.StatusSuccess, run.Status)
	require.Len(t, run.Results, 5)
	startIdx := map[string]int{}
	for i, s := range rec.started {
		startIdx[s] = i
	}
	for _, n := range nodes {
		for _, d := range n.Deps {
			assert.Less(t, rec.finished[d], rec.finished[n.Name], "%s must finish before %s", d, n.Name)
		}
	}
	for _, r := range run.Results {
		assert.Equal(t, orchestrate.StatusSuccess, r.Status, r.Node)
		assert.Equal(t, int64(len(r.Node)), r.RowsAffected)
		assert.Len(t, r.Attempts, 1)
		assert.False(t, r.StartedAt.Before(r.ReadyAt))
	}
}

func TestExecuteBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var nodes []*orchestrate.Node
		rec := newRecorder()
		for i := range 20 {
			name := fmt.Sprintf("n%02d", i)
			nodes = append(nodes, model(name))
			rec.sleep[name] = time.Second
		}
		start := time.Now()
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: rec, Threads: 4})
		require.NoError(t, err)
		assert.True(t, run.OK())
		assert.Equal(t, 4, rec.maxRun)
		// 20 one-second nodes on 4 threads take 5 virtual seconds.
		assert.Equal(t, 5*time.Second, time.Since(start))
		// Nodes that waited for a thread report that wait apart from execution.
		var waited int
		for _, r := range run.Results {
			assert.Equal(t, time.Second, r.ExecutionTime)
			if r.Wait > 0 {
				waited++
			}
		}
		assert.Equal(t, 16, waited)
	})
}

func TestReadyQueueOrdersByPriorityThenCriticalPath(t *testing.T) {
	low := model("low")
	low.Priority = orchestrate.PriorityLow
	crit := model("crit")
	crit.Priority = orchestrate.PriorityCritical
	// "deep" has a longer downstream chain than "shallow"; both medium.
	nodes := []*orchestrate.Node{low, crit, model("shallow"), model("deep"), model("deep1", "deep"), model("deep2", "deep1"), model("after_shallow", "shallow")}
	rec := newRecorder()
	_, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: rec, Threads: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"crit", "deep", "deep1", "shallow", "deep2", "after_shallow", "low"}, rec.started)
}

func TestFailureSkipsDownstreamAndKeepsGoing(t *testing.T) {
	nodes := []*orchestrate.Node{model("a"), model("b", "a"), model("c", "b"), model("x"), model("y", "x")}
	rec := newRecorder()
	rec.fail["a"] = errors.New("boom")
	var out bytes.Buffer
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{
		Runner: rec, Threads: 2, Observers: []orchestrate.Observer{orchestrate.NewProgress(&out)},
	})
	require.NoError(t, err)
	assert.Equal(t, orchestrate.StatusError, run.Status)
	assert.Equal(t, orchestrate.StatusError, run.Result("a").Status)
	assert.Equal(t, "boom", run.Result("a").Error)
	for _, n := range []string{"b", "c"} {
		assert.Equal(t, orchestrate.StatusSkipped, run.Result(n).Status)
		assert.Equal(t, "upstream failed: a", run.Result(n).SkippedBecause)
	}
	assert.Equal(t, orchestrate.StatusSuccess, run.Result("y").Status)
	assert.NotContains(t, rec.started, "b")
	s := out.String()
	assert.Contains(t, s, "ERROR a")
	assert.Contains(t, s, "└─ UPSTREAM FAILED b")
	assert.Contains(t, s, "   └─ UPSTREAM FAILED c")
	assert.Contains(t, s, "PASS=2 WARN=0 ERROR=1 FAIL=0 SKIP=2")
}

func TestFailFastCancelsRunningNodesAndSkipsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nodes := []*orchestrate.Node{model("bad"), model("slow"), model("later1"), model("later2"), model("later3")}
		nodes[0].Priority = orchestrate.PriorityCritical
		nodes[1].Priority = orchestrate.PriorityHigh
		rec := newRecorder()
		rec.fail["bad"] = errors.New("boom")
		rec.sleep["slow"] = time.Hour
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: rec, Threads: 2, FailFast: true})
		require.NoError(t, err)
		assert.Equal(t, orchestrate.StatusError, run.Result("bad").Status)
		slow := run.Result("slow")
		assert.Equal(t, orchestrate.StatusError, slow.Status)
		assert.ErrorIs(t, slow.Err, context.Canceled)
		assert.Less(t, slow.ExecutionTime, time.Hour)
		for _, n := range []string{"later1", "later2", "later3"} {
			assert.Equal(t, orchestrate.StatusSkipped, run.Result(n).Status, n)
			assert.Contains(t, run.Result(n).SkippedBecause, "fail-fast")
		}
	})
}

func TestTimeoutInterruptsTheNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := model("slow")
		n.Timeout = 30 * time.Second
		rec := newRecorder()
		rec.sleep["slow"] = time.Hour
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(n, model("after", "slow")), orchestrate.Options{Runner: rec})
		require.NoError(t, err)
		r := run.Result("slow")
		assert.Equal(t, orchestrate.StatusError, r.Status)
		var te *orchestrate.TimeoutError
		require.ErrorAs(t, r.Err, &te)
		assert.Equal(t, 30*time.Second, te.Timeout)
		assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
		assert.Equal(t, 30*time.Second, r.ExecutionTime)
		assert.Equal(t, orchestrate.StatusSkipped, run.Result("after").Status)
	})
}

func TestDefaultTimeoutAppliesToNodesWithoutOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.sleep["slow"] = time.Hour
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("slow")), orchestrate.Options{Runner: rec, DefaultTimeout: time.Minute})
		require.NoError(t, err)
		assert.ErrorIs(t, run.Result("slow").Err, context.DeadlineExceeded)
		assert.Equal(t, time.Minute, run.Result("slow").ExecutionTime)
	})
}

func TestRecoveryPolicyRetriesWithDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.fail["flaky"] = errors.New("IO Error: disk busy")
		rec.failN["flaky"] = 2
		var failures []recovery.Failure
		policy := recovery.PolicyFunc(func(_ context.Context, f recovery.Failure) recovery.Decision {
			failures = append(failures, f)
			if f.Attempt < 3 {
				return recovery.Decision{Action: recovery.Retry, Delay: time.Duration(f.Attempt) * 10 * time.Second}
			}
			return recovery.Decision{Action: recovery.Fail}
		})
		var events []orchestrate.EventType
		obs := orchestrate.ObserverFunc(func(e orchestrate.Event) { events = append(events, e.Type) })
		start := time.Now()
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("flaky"), model("next", "flaky")), orchestrate.Options{
			Runner: rec, Recovery: policy, Observers: []orchestrate.Observer{obs},
		})
		require.NoError(t, err)
		assert.True(t, run.OK())
		r := run.Result("flaky")
		require.Len(t, r.Attempts, 3)
		assert.Equal(t, "IO Error: disk busy", r.Attempts[0].Error)
		assert.Empty(t, r.Attempts[2].Error)
		require.Len(t, failures, 2)
		assert.Equal(t, 2, failures[1].Attempt)
		assert.Equal(t, 30*time.Second, time.Since(start)) // 10s + 20s backoff
		assert.Equal(t, []orchestrate.EventType{
			orchestrate.RunStarted,
			orchestrate.NodeStarted, orchestrate.NodeRetrying, orchestrate.NodeStarted, orchestrate.NodeRetrying, orchestrate.NodeStarted, orchestrate.NodeFinished,
			orchestrate.NodeStarted, orchestrate.NodeFinished,
			orchestrate.RunFinished,
		}, events)
	})
}

func TestRetryGivesUpAfterPolicySaysFail(t *testing.T) {
	rec := newRecorder()
	rec.fail["bad"] = errors.New("Binder Error: column x not found")
	policy := recovery.PolicyFunc(func(_ context.Context, f recovery.Failure) recovery.Decision {
		if f.Attempt < 2 {
			return recovery.Decision{Action: recovery.Retry}
		}
		return recovery.Decision{Action: recovery.Fail}
	})
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("bad")), orchestrate.Options{Runner: rec, Recovery: policy})
	require.NoError(t, err)
	assert.Len(t, run.Result("bad").Attempts, 2)
	assert.Equal(t, orchestrate.StatusError, run.Status)
}

func TestDataTestFailureSkipsChildrenOfTheTestedModel(t *testing.T) {
	testRunner := orchestrate.RunnerFunc(func(_ context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		switch n.Name {
		case "unique_m_id":
			return orchestrate.Outcome{}, &orchestrate.TestFailure{Test: n.Name, Failures: 3}
		case "not_null_w_id":
			return orchestrate.Outcome{Warn: true, Failures: 1}, nil
		}
		return orchestrate.Outcome{RowsAffected: 1}, nil
	})
	nodes := []*orchestrate.Node{
		model("m"), model("child", "m"),
		{Name: "unique_m_id", Kind: orchestrate.KindTest, Deps: []string{"m"}, TestOf: "m"},
		model("w"), model("wchild", "w"),
		{Name: "not_null_w_id", Kind: orchestrate.KindTest, Deps: []string{"w"}, TestOf: "w"},
	}
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: testRunner, Threads: 2})
	require.NoError(t, err)
	assert.Equal(t, orchestrate.StatusFail, run.Result("unique_m_id").Status)
	assert.Equal(t, int64(3), run.Result("unique_m_id").Failures)
	assert.Equal(t, orchestrate.StatusSkipped, run.Result("child").Status)
	assert.Equal(t, "upstream failed: unique_m_id", run.Result("child").SkippedBecause)
	assert.Equal(t, orchestrate.StatusWarn, run.Result("not_null_w_id").Status)
	assert.Equal(t, orchestrate.StatusSuccess, run.Result("wchild").Status)
}

func TestSelectionRunsOnlySelectedNodes(t *testing.T) {
	nodes := []*orchestrate.Node{model("a"), model("b", "a"), model("c", "b"), model("z")}
	rec := newRecorder()
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: rec, Select: []string{"+b"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a", "b"}, rec.started)
	assert.Len(t, run.Results, 2)
}

func TestInvalidGraphIsAnError(t *testing.T) {
	_, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("a", "b"), model("b", "a")), orchestrate.Options{Runner: newRecorder()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a → b → a")
}

func TestPanickingRunnerIsAnErrorNotACrash(t *testing.T) {
	r := orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) { panic("oops") })
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("p")), orchestrate.Options{Runner: r})
	require.NoError(t, err)
	assert.Contains(t, run.Result("p").Error, "panicked: oops")
}

func TestGoTaskRunnerPerNode(t *testing.T) {
	var ran bool
	task := &orchestrate.Node{Name: "notify", Kind: orchestrate.KindTask, Runner: orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
		ran = true
		return orchestrate.Outcome{RowsAffected: -1}, nil
	})}
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(task), orchestrate.Options{})
	require.NoError(t, err)
	assert.True(t, ran)
	assert.True(t, run.OK())
}

func TestCancelledRunStopsAndReportsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		rec := newRecorder()
		rec.sleep["a"] = time.Hour
		time.AfterFunc(time.Minute, cancel)
		run, err := orchestrate.Execute(ctx, orchestrate.NewPipeline(model("a"), model("b", "a"), model("c")), orchestrate.Options{Runner: rec})
		require.NoError(t, err)
		assert.Equal(t, orchestrate.StatusCancelled, run.Status)
		assert.ErrorIs(t, run.Result("a").Err, context.Canceled)
		assert.Equal(t, orchestrate.StatusSkipped, run.Result("b").Status)
	})
}

func TestWriteResultsJSON(t *testing.T) {
	rec := newRecorder()
	rec.fail["b"] = errors.New("bad sql")
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("a"), model("b", "a")), orchestrate.Options{Runner: rec, RunID: "r1", Invocation: "build"})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "target", "run_results.json")
	require.NoError(t, run.WriteResults(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var got struct {
		RunID   string `json:"run_id"`
		Status  string `json:"status"`
		Results []struct {
			ID       string `json:"unique_id"`
			Status   string `json:"status"`
			Error    string `json:"error"`
			Rows     int64  `json:"rows_affected"`
			Attempts []struct {
				Number int `json:"number"`
			} `json:"attempts"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, "r1", got.RunID)
	assert.Equal(t, "error", got.Status)
	require.Len(t, got.Results, 2)
	assert.Equal(t, "a", got.Results[0].ID)
	assert.Equal(t, int64(1), got.Results[0].Rows)
	assert.Equal(t, "bad sql", got.Results[1].Error)
	assert.Equal(t, 1, got.Results[1].Attempts[0].Number)
}

func TestAddedTestEdgesNeverMakeACycle(t *testing.T) {
	// t1 tests p but also reads n2; t2 tests q but also reads n1. Adding
	// both "children wait for tests" edges would close n1 → t2 → n2 → t1 → n1.
	nodes := []*orchestrate.Node{
		model("p"), model("q"), model("n1", "p"), model("n2", "q"),
		{Name: "t1", Kind: orchestrate.KindTest, Deps: []string{"p", "n2"}, TestOf: "p"},
		{Name: "t2", Kind: orchestrate.KindTest, Deps: []string{"q", "n1"}, TestOf: "q"},
	}
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(nodes...), orchestrate.Options{Runner: newRecorder(), Threads: 2})
	require.NoError(t, err)
	for _, r := range run.Results {
		assert.True(t, r.Status.OK(), "%s: %s %s", r.Node, r.Status, r.SkippedBecause)
	}
}

func TestCancelledDuringRetryDelayIsAnError(t *testing.T) {
	for range 50 {
		ctx, cancel := context.WithCancel(t.Context())
		rec := newRecorder()
		rec.fail["a"] = errors.New("transient")
		policy := recovery.PolicyFunc(func(context.Context, recovery.Failure) recovery.Decision {
			cancel()
			return recovery.Decision{Action: recovery.Retry, Delay: time.Nanosecond}
		})
		run, err := orchestrate.Execute(ctx, orchestrate.NewPipeline(model("a")), orchestrate.Options{Runner: rec, Recovery: policy})
		require.NoError(t, err)
		r := run.Result("a")
		assert.Equal(t, orchestrate.StatusError, r.Status)
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.Len(t, r.Attempts, 1)
	}
}

func TestAlreadyCancelledContextStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := newRecorder()
	run, err := orchestrate.Execute(ctx, orchestrate.NewPipeline(model("a"), model("b")), orchestrate.Options{Runner: rec})
	require.NoError(t, err)
	assert.Empty(t, rec.started)
	assert.Equal(t, orchestrate.StatusCancelled, run.Status)
	assert.Equal(t, "run cancelled", run.Result("a").SkippedBecause)
}

func TestFallbackForCriticalNodeKeepsServingAndSkipsDownstream(t *testing.T) {
	builtAt := time.Date(2026, 11, 25, 5, 30, 0, 0, time.UTC)
	crit := model("inventory")
	crit.Critical = true
	rec := newRecorder()
	rec.fail["inventory"] = errors.New("Binder Error: column x not found")
	policy := recovery.PolicyFunc(func(_ context.Context, f recovery.Failure) recovery.Decision {
		if f.Critical {
			return recovery.Decision{Action: recovery.Fallback}
		}
		return recovery.Decision{Action: recovery.Fail}
	})
	lastGood := func(_ context.Context, node string) (orchestrate.Serving, bool) {
		return orchestrate.Serving{RunID: "run-" + node, BuiltAt: builtAt}, true
	}
	var out bytes.Buffer
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(crit, model("mart", "inventory")), orchestrate.Options{
		Runner: rec, Recovery: policy, LastGood: lastGood, Observers: []orchestrate.Observer{orchestrate.NewProgress(&out)},
	})
	require.NoError(t, err)
	r := run.Result("inventory")
	assert.Equal(t, orchestrate.StatusFallback, r.Status)
	assert.Equal(t, recovery.ClassPermanent, r.Class)
	require.NotNil(t, r.Serving)
	assert.Equal(t, "run-inventory", r.Serving.RunID)
	m := run.Result("mart")
	assert.Equal(t, orchestrate.StatusSkipped, m.Status)
	assert.Equal(t, "upstream fell back: inventory", m.SkippedBecause)
	require.NotNil(t, m.Serving)
	assert.Equal(t, "run-mart", m.Serving.RunID)
	assert.Equal(t, orchestrate.StatusError, run.Status)
	assert.Contains(t, out.String(), "FALLBACK inventory")
	assert.Contains(t, out.String(), "still serving the version built by run run-inventory")
	assert.Contains(t, out.String(), "FALLBACK=1")
}

func TestAttemptsRecordClassAndDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.fail["flaky"] = errors.New(`IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held`)
		rec.failN["flaky"] = 1
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("flaky"), model("broken")), orchestrate.Options{
			Runner: orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
				if n.Name == "broken" {
					return orchestrate.Outcome{}, errors.New(`Parser Error: syntax error at or near "selec"`)
				}
				return rec.Run(ctx, n)
			}),
			Recovery: &recovery.Policy{},
		})
		require.NoError(t, err)
		f := run.Result("flaky")
		assert.Equal(t, orchestrate.StatusSuccess, f.Status)
		require.Len(t, f.Attempts, 2)
		assert.Equal(t, recovery.ClassTransient, f.Attempts[0].Class)
		assert.Equal(t, "retry", f.Attempts[0].Decision)
		assert.Positive(t, f.Attempts[0].Delay)
		b := run.Result("broken")
		assert.Equal(t, orchestrate.StatusError, b.Status)
		assert.Equal(t, recovery.ClassPermanent, b.Class)
		assert.Len(t, b.Attempts, 1, "permanent failures are not retried")
	})
}

func TestRunTimeoutInterruptsAndSkipsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.sleep["slow"] = time.Hour
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("slow"), model("after", "slow"), model("other")), orchestrate.Options{
			Runner: rec, RunTimeout: 10 * time.Minute, Recovery: &recovery.Policy{},
		})
		require.NoError(t, err)
		s := run.Result("slow")
		assert.Equal(t, orchestrate.StatusError, s.Status)
		assert.Equal(t, recovery.ClassTimeout, s.Class)
		var te *orchestrate.TimeoutError
		require.ErrorAs(t, s.Err, &te)
		assert.True(t, te.Run)
		assert.Len(t, s.Attempts, 1, "a run timeout is not retried")
		assert.Equal(t, orchestrate.StatusSkipped, run.Result("after").Status)
		assert.Equal(t, orchestrate.StatusError, run.Status)
	})
}

// TestDefaultPolicyRetryCycle measures, in virtual time, how long the
// default policy takes to give up on a node that always fails transiently:
// 3 attempts with 5 s and 10 s (±20%) backoff between them.
func TestDefaultPolicyRetryCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.fail["flaky"] = errors.New("IO Error: Could not read from file: Input/output error")
		start := time.Now()
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model("flaky")), orchestrate.Options{Runner: rec, Recovery: &recovery.Policy{}})
		require.NoError(t, err)
		elapsed := time.Since(start)
		r := run.Result("flaky")
		require.Len(t, r.Attempts, 3)
		assert.Equal(t, recovery.ClassTransient, r.Class)
		assert.Equal(t, "fail", r.Attempts[2].Decision)
		assert.GreaterOrEqual(t, elapsed, 12*time.Second)
		assert.LessOrEqual(t, elapsed, 18*time.Second)
		t.Logf("default retry cycle: %s for 3 attempts", elapsed)
	})
}

func TestFallbackNeedsALastGoodVersionAndAModel(t *testing.T) {
	crit := model("inventory")
	crit.Critical = true
	test := &orchestrate.Node{Name: "unique_inventory_id", Kind: orchestrate.KindTest, Deps: []string{"inventory"}, TestOf: "inventory", Critical: true}
	first := true
	r := orchestrate.RunnerFunc(func(_ context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		if n.Kind == orchestrate.KindTest {
			return orchestrate.Outcome{}, &orchestrate.TestFailure{Test: n.Name, Failures: 2}
		}
		if first {
			return orchestrate.Outcome{}, nil
		}
		return orchestrate.Outcome{}, errors.New("Binder Error: nope")
	})
	none := func(context.Context, string) (orchestrate.Serving, bool) { return orchestrate.Serving{}, false }
	run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(crit, test), orchestrate.Options{Runner: r, Recovery: &recovery.Policy{}, LastGood: none})
	require.NoError(t, err)
	// The model built; its critical test failed: a test has no version to
	// fall back to.
	assert.Equal(t, orchestrate.StatusFail, run.Result("unique_inventory_id").Status)

	first = false
	run, err = orchestrate.Execute(t.Context(), orchestrate.NewPipeline(crit), orchestrate.Options{Runner: r, Recovery: &recovery.Policy{}, LastGood: none})
	require.NoError(t, err)
	res := run.Result("inventory")
	assert.Equal(t, orchestrate.StatusError, res.Status, "nothing was ever built: nothing to serve")
	assert.Contains(t, res.Message, "no last good version")
	assert.Nil(t, res.Serving)
}

func TestRunTimeoutLetsACriticalModelFallBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := model("inventory")
		crit.Critical = true
		rec := newRecorder()
		rec.sleep["inventory"] = time.Hour
		lastGood := func(context.Context, string) (orchestrate.Serving, bool) {
			return orchestrate.Serving{RunID: "r0", BuiltAt: time.Now()}, true
		}
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(crit), orchestrate.Options{
			Runner: rec, Recovery: &recovery.Policy{}, RunTimeout: time.Minute, LastGood: lastGood,
		})
		require.NoError(t, err)
		r := run.Result("inventory")
		assert.Equal(t, orchestrate.StatusFallback, r.Status)
		assert.Equal(t, recovery.ClassTimeout, r.Class)
		require.NotNil(t, r.Serving)
		assert.Len(t, r.Attempts, 1)
	})
}

func TestCancelledNodesOpenNoIncident(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := orchestrate.RunnerFunc(func(ctx context.Context, n *orchestrate.Node) (orchestrate.Outcome, error) {
		cancel()
		<-ctx.Done()
		return orchestrate.Outcome{}, ctx.Err()
	})
	p := orchestrate.NewPipeline(model("a"))
	plan, err := orchestrate.NewPlan(p, nil, nil)
	require.NoError(t, err)
	run, err := orchestrate.ExecutePlan(ctx, plan, orchestrate.Options{Runner: r})
	require.NoError(t, err)
	out := orchestrate.IncidentOutcomes(run, plan)
	require.Len(t, out, 1)
	assert.Equal(t, "cancelled", out[0].Status)
	assert.False(t, out[0].Failed())
}

func TestConcurrentWriteResultsNeverInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run_results.json")
	runs := make([]*orchestrate.Run, 8)
	for i := range runs {
		run, err := orchestrate.Execute(t.Context(), orchestrate.NewPipeline(model(fmt.Sprintf("m%d", i))), orchestrate.Options{Runner: newRecorder()})
		require.NoError(t, err)
		runs[i] = run
	}
	var wg sync.WaitGroup
	for range 20 {
		for _, run := range runs {
			wg.Go(func() { assert.NoError(t, run.WriteResults(path)) })
		}
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var got orchestrate.Run
	require.NoError(t, json.Unmarshal(data, &got), "a whole, valid file")
	left, _ := filepath.Glob(path + ".*.tmp")
	assert.Empty(t, left)
}
