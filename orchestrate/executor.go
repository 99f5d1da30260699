package orchestrate

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

// Options configure one execution.
type Options struct {
	// Select and Exclude use dbt's selector grammar (see package dag). An
	// empty Select selects every node.
	Select  []string
	Exclude []string
	// Threads bounds how many nodes run at once (default 1).
	Threads int
	// FailFast cancels the run at the first failure. By default the run keeps
	// going and skips only the failed node's downstream.
	FailFast bool
	// Runner runs nodes that have no Runner of their own.
	Runner Runner
	// Recovery decides about failed attempts (default recovery.NoRetry).
	Recovery recovery.RecoveryPolicy
	// DefaultTimeout bounds each attempt of nodes without a Timeout (0: none).
	DefaultTimeout time.Duration
	// RunTimeout bounds the whole run (0: none). When it expires, running
	// nodes are interrupted (class timeout) and the rest are skipped.
	RunTimeout time.Duration
	// LastGood, when set, tells which version of a node's data is still
	// being served; nodes that fall back or are skipped report it.
	LastGood func(ctx context.Context, node string) (Serving, bool)
	// Observers receive every event of the run.
	Observers []Observer
	// RunID names the run (default: time-based and random).
	RunID string
	// Invocation records how the run was started (e.g. the command line).
	Invocation string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
}

// TimeoutError is the error of an attempt that ran past its timeout. It
// matches context.DeadlineExceeded with errors.Is.
type TimeoutError struct {
	Node    string
	Timeout time.Duration
	// Run is true when the run's timeout expired, not the node's.
	Run bool
	Err error
}

func (e *TimeoutError) Error() string {
	if e.Run {
		return fmt.Sprintf("node %s interrupted: the run timed out after %s: %v", e.Node, e.Timeout, e.Err)
	}
	return fmt.Sprintf("node %s timed out after %s: %v", e.Node, e.Timeout, e.Err)
}

// FailureClass classifies timeouts for recovery.Classify.
func (e *TimeoutError) FailureClass() recovery.Class { return recovery.ClassTimeout }

// Unwrap returns the underlying error.
func (e *TimeoutError) Unwrap() []error { return []error{e.Err, context.DeadlineExceeded} }

// Execute validates the pipeline's graph, selects nodes and runs them in
// dependency order. The returned error reports problems that prevent the run
// (an invalid graph, a bad selector); node failures are reported in the Run,
// whose Status is StatusSuccess only when every node passed.
func Execute(ctx context.Context, p Pipeline, opts Options) (*Run, error) {
	plan, err := NewPlan(p, opts.Select, opts.Exclude)
	if err != nil {
		return nil, err
	}
	return ExecutePlan(ctx, plan, opts)
}

// ExecutePlan runs an already computed plan; opts.Select and opts.Exclude are
// ignored.
func ExecutePlan(ctx context.Context, plan *Plan, opts Options) (*Run, error) {
	e := newExecution(plan, opts)
	return e.runAll(ctx), nil
}

type execNode struct {
	node     *Node
	idx      int
	children []int
	pending  int // unfinished upstream nodes
	cpl      int // longest path to a sink, counting nodes
	res      *NodeResult
	done     bool
}

type execution struct {
	opts   Options
	now    func() time.Time
	nodes  []*execNode
	obs    observers
	log    *slog.Logger
	policy recovery.RecoveryPolicy
	run    *Run
	plan   *Plan
	// runCtx is the run's context before fail-fast cancellation.
	runCtx context.Context
}

func (e *execution) cancelReason(caller, parent context.Context) string {
	if caller.Err() == nil && errors.Is(parent.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("run timed out after %s", e.opts.RunTimeout)
	}
	return "run cancelled"
}

func newExecution(plan *Plan, opts Options) *execution {
	if opts.Threads < 1 {
		opts.Threads = 1
	}
	e := &execution{opts: opts, now: opts.Now, policy: opts.Recovery, log: opts.Logger, plan: plan}
	if e.now == nil {
		e.now = time.Now
	}
	if e.policy == nil {
		e.policy = recovery.NoRetry
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.obs.list = opts.Observers
	id := opts.RunID
	if id == "" {
		id = NewRunID(e.now())
	}
	e.run = &Run{ID: id, Invocation: opts.Invocation, Threads: opts.Threads}

	e.nodes = make([]*execNode, len(plan.Order))
	index := make(map[string]int, len(plan.Order))
	for i, n := range plan.Order {
		res := &NodeResult{Node: n.Name, Kind: n.Kind, RowsAffected: -1}
		e.nodes[i] = &execNode{node: n, idx: i, res: res}
		e.run.Results = append(e.run.Results, res)
		index[n.Name] = i
	}
	for i, n := range plan.Order {
		for _, d := range plan.deps[n.Name] {
			j, ok := index[d]
			if !ok {
				continue // not selected: assumed built already
			}
			e.nodes[j].children = append(e.nodes[j].children, i)
			e.nodes[i].pending++
		}
	}
	// Critical path length (nodes on the longest path to a sink), computed
	// in reverse topological order of the effective edges.
	order := make([]int, 0, len(e.nodes))
	indeg := make([]int, len(e.nodes))
	for i, n := range e.nodes {
		indeg[i] = n.pending
		if n.pending == 0 {
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		for _, c := range e.nodes[order[k]].children {
			if indeg[c]--; indeg[c] == 0 {
				order = append(order, c)
			}
		}
	}
	for k := len(order) - 1; k >= 0; k-- {
		n := e.nodes[order[k]]
		best := 0
		for _, c := range n.children {
			best = max(best, e.nodes[c].cpl)
		}
		n.cpl = best + 1
	}
	return e
}

// NewRunID returns a fresh run id: the UTC time and 6 random hex digits.
func NewRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// readyQueue orders ready nodes by priority, then critical path, then plan
// order.
type readyQueue []*execNode

func (q readyQueue) Len() int { return len(q) }
func (q readyQueue) Less(i, j int) bool {
	pi, pj := q[i].node.Priority.Effective(), q[j].node.Priority.Effective()
	if pi != pj {
		return pi > pj
	}
	if q[i].cpl != q[j].cpl {
		return q[i].cpl > q[j].cpl
	}
	return q[i].idx < q[j].idx
}
func (q readyQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *readyQueue) Push(x any)   { *q = append(*q, x.(*execNode)) }
func (q *readyQueue) Pop() any {
	old := *q
	n := old[len(old)-1]
	*q = old[:len(old)-1]
	return n
}

type finished struct {
	n *execNode
}

func (e *execution) runAll(caller context.Context) *Run {
	parent := caller
	if e.opts.RunTimeout > 0 {
		var cancelRun context.CancelFunc
		parent, cancelRun = context.WithTimeout(caller, e.opts.RunTimeout)
		defer cancelRun()
	}
	e.runCtx = parent
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	total := len(e.nodes)
	e.run.StartedAt = e.now()
	e.obs.emit(Event{Type: RunStarted, Time: e.run.StartedAt, RunID: e.run.ID, Total: total, Run: e.run})

	work := make(chan *execNode)
	results := make(chan finished)
	for range e.opts.Threads {
		go func() {
			for n := range work {
				e.execute(ctx, n, total)
				results <- finished{n}
			}
		}()
	}

	q := &readyQueue{}
	for _, n := range e.nodes {
		if n.pending == 0 {
			n.res.ReadyAt = e.run.StartedAt
			heap.Push(q, n)
		}
	}
	running, started, remaining := 0, 0, total
	stopReason := ""
	for remaining > 0 {
		if stopReason == "" && parent.Err() != nil {
			stopReason = e.cancelReason(caller, parent)
		}
		for running < e.opts.Threads && q.Len() > 0 && stopReason == "" {
			n := heap.Pop(q).(*execNode)
			started++
			n.res.Index = started
			running++
			work <- n
		}
		if running == 0 {
			// Nothing runs and nothing can start: the rest is skipped.
			reason := stopReason
			if reason == "" {
				reason = "not reachable"
			}
			for _, n := range e.nodes {
				if !n.done {
					e.skip(n, reason, total)
					remaining--
				}
			}
			break
		}
		f := <-results
		running--
		remaining--
		f.n.done = true
		if f.n.res.Status.OK() {
			now := e.now()
			for _, c := range f.n.children {
				cn := e.nodes[c]
				cn.pending--
				if cn.pending == 0 && !cn.done {
					cn.res.ReadyAt = now
					heap.Push(q, cn)
				}
			}
		} else {
			remaining -= e.skipDownstream(f.n, total)
			if e.opts.FailFast && stopReason == "" {
				stopReason = "fail-fast: " + f.n.node.Name + " failed"
				cancel()
			}
		}
		if stopReason == "" && parent.Err() != nil {
			stopReason = e.cancelReason(caller, parent)
		}
	}
	close(work)

	e.publish(caller)
	e.run.FinishedAt = e.now()
	e.run.Elapsed = e.run.FinishedAt.Sub(e.run.StartedAt)
	e.run.Status = StatusSuccess
	for _, r := range e.run.Results {
		if !r.Status.OK() {
			e.run.Status = StatusError
			break
		}
	}
	if e.run.Publication != nil && e.run.Publication.Error != "" {
		e.run.Status = StatusError
	}
	if caller.Err() != nil && e.run.Status != StatusSuccess {
		e.run.Status = StatusCancelled
	}
	e.obs.emit(Event{Type: RunFinished, Time: e.run.FinishedAt, RunID: e.run.ID, Total: total, Run: e.run})
	return e.run
}

// skipDownstream marks every not yet finished descendant of n as skipped and
// returns how many it marked.
func (e *execution) skipDownstream(n *execNode, total int) int {
	count := 0
	stack := append([]int(nil), n.children...)
	for len(stack) > 0 {
		c := e.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if c.done {
			continue
		}
		reason := "upstream failed: " + n.node.Name
		if n.res.Status == StatusFallback {
			reason = "upstream fell back: " + n.node.Name
		}
		e.skip(c, reason, total)
		count++
		stack = append(stack, c.children...)
	}
	return count
}

func (e *execution) skip(n *execNode, reason string, total int) {
	n.done = true
	n.res.Status = StatusSkipped
	n.res.SkippedBecause = reason
	n.res.Message = "SKIP (" + reason + ")"
	e.serving(n)
	e.obs.emit(Event{Type: NodeFinished, Time: e.now(), RunID: e.run.ID, Node: n.node, Result: n.res, Total: total})
}

// fallback marks a node that gave up as still serving its last good
// version, when it has one: only models and sources keep a previous
// version, and when the run can look versions up (Options.LastGood) one
// must exist. Otherwise the node stays failed, saying why.
func (e *execution) fallback(n *execNode, err error) {
	res := n.res
	if n.node.Kind != KindModel && n.node.Kind != KindSource {
		return
	}
	if e.opts.LastGood != nil {
		e.serving(n)
		if res.Serving == nil {
			res.Message = "no last good version to fall back to: " + err.Error()
			return
		}
	}
	res.Status = StatusFallback
	res.Message = "FALLBACK (serving the last good version): " + err.Error()
}

// serving fills in which version of a model's data is still served.
func (e *execution) serving(n *execNode) {
	if e.opts.LastGood == nil || (n.node.Kind != KindModel && n.node.Kind != KindSource) {
		return
	}
	if sv, ok := e.opts.LastGood(context.WithoutCancel(e.runCtx), n.node.Name); ok {
		n.res.Serving = &sv
	}
}

// execute runs all attempts of one node.
func (e *execution) execute(ctx context.Context, n *execNode, total int) {
	res := n.res
	node := n.node
	res.StartedAt = e.now()
	if !res.ReadyAt.IsZero() {
		res.Wait = res.StartedAt.Sub(res.ReadyAt)
	}
	runner := node.Runner
	if runner == nil {
		runner = e.opts.Runner
	}
	timeout := node.Timeout
	if timeout == 0 {
		timeout = e.opts.DefaultTimeout
	}
	for attempt := 1; ; attempt++ {
		e.obs.emit(Event{Type: NodeStarted, Time: e.now(), RunID: e.run.ID, Node: node, Result: res, Attempt: attempt, Index: res.Index, Total: total})
		began := e.now()
		out, err := e.attempt(ctx, runner, node, timeout)
		elapsed := e.now().Sub(began)
		a := Attempt{Number: attempt, StartedAt: began, Duration: elapsed}
		if err == nil {
			res.Attempts = append(res.Attempts, a)
			e.succeed(res, node, out)
			break
		}
		if ctx.Err() != nil && e.runCtx.Err() != nil && errors.Is(e.runCtx.Err(), context.DeadlineExceeded) {
			err = &TimeoutError{Node: node.Name, Timeout: e.opts.RunTimeout, Run: true, Err: err}
		}
		a.Error = err.Error()
		a.Class = recovery.Classify(err)
		runTimedOut := ctx.Err() != nil && e.runCtx.Err() != nil && errors.Is(e.runCtx.Err(), context.DeadlineExceeded)
		if ctx.Err() != nil && !runTimedOut {
			// The run was cancelled (by the caller or fail-fast): no retry,
			// no fallback.
			a.Decision = recovery.Fail.String()
			res.Attempts = append(res.Attempts, a)
			e.fail(res, err, a.Class)
			break
		}
		f := recovery.Failure{
			Node: node.Name, Kind: string(node.Kind), Layer: node.Layer, Critical: node.Critical,
			Attempt: attempt, Err: err, Class: a.Class, Elapsed: elapsed, Backoff: node.Retry,
			Final: runTimedOut,
		}
		dctx := ctx
		if runTimedOut {
			dctx = context.WithoutCancel(ctx)
		}
		d := e.policy.Decide(dctx, f)
		if runTimedOut && d.Action == recovery.Retry {
			d = recovery.Decision{Action: recovery.Fail, Reason: "the run timed out"}
		}
		a.Decision = d.Action.String()
		if d.Action == recovery.Retry {
			a.Delay = d.Delay
		}
		res.Attempts = append(res.Attempts, a)
		if d.Action != recovery.Retry {
			e.fail(res, err, a.Class)
			switch d.Action {
			case recovery.Fallback:
				e.fallback(n, err)
			case recovery.Skip:
				res.Status = StatusSkipped
				res.SkippedBecause = "recovery policy: " + d.Reason
			}
			break
		}
		e.log.Debug("retrying node", "node", node.Name, "attempt", attempt, "delay", d.Delay, "err", err)
		e.obs.emit(Event{Type: NodeRetrying, Time: e.now(), RunID: e.run.ID, Node: node, Result: res, Attempt: attempt, Err: err, Delay: d.Delay, Index: res.Index, Total: total})
		if d.Delay > 0 {
			t := time.NewTimer(d.Delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			e.fail(res, errors.Join(err, ctx.Err()), recovery.ClassCancelled)
			break
		}
	}
	res.FinishedAt = e.now()
	res.ExecutionTime = res.FinishedAt.Sub(res.StartedAt)
	e.obs.emit(Event{Type: NodeFinished, Time: res.FinishedAt, RunID: e.run.ID, Node: node, Result: res, Index: res.Index, Total: total})
}

func (e *execution) attempt(ctx context.Context, runner Runner, node *Node, timeout time.Duration) (out Outcome, err error) {
	if runner == nil {
		return Outcome{}, fmt.Errorf("node %s: no runner configured", node.Name)
	}
	actx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node %s: runner panicked: %v", node.Name, r)
		}
	}()
	out, err = runner.Run(actx, node)
	if err != nil && timeout > 0 && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &TimeoutError{Node: node.Name, Timeout: timeout, Err: err}
	}
	return out, err
}

func (e *execution) succeed(res *NodeResult, node *Node, out Outcome) {
	res.RowsAffected = out.RowsAffected
	res.Failures = out.Failures
	res.Relation = out.Relation
	res.CompiledSQL = out.CompiledSQL
	res.Message = out.Message
	switch {
	case out.Warn:
		res.Status = StatusWarn
	case node.Kind == KindTest:
		res.Status = StatusPass
	default:
		res.Status = StatusSuccess
	}
}

func (e *execution) fail(res *NodeResult, err error, class recovery.Class) {
	res.Err = err
	res.Error = err.Error()
	res.Class = class
	var tf *TestFailure
	if errors.As(err, &tf) {
		res.Status = StatusFail
		res.Failures = tf.Failures
	} else {
		res.Status = StatusError
	}
	res.Message = err.Error()
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
