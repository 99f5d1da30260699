package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// Defaults of Options.
const (
	// DefaultResourceThreshold is the usage (0..1) at and above which low
	// and medium priority jobs wait before starting.
	DefaultResourceThreshold = 0.9
	// DefaultMaxResourceWait bounds how long a low or medium priority job
	// waits for resources before it starts anyway.
	DefaultMaxResourceWait = 15 * time.Minute
	// ResourceRecheckInterval is how often a job waiting for resources
	// checks them again (besides whenever a run finishes).
	ResourceRecheckInterval = 30 * time.Second
	// MaxCatchUpRuns bounds the runs CatchUpAll starts for one job: the
	// latest MaxCatchUpRuns missed due times are run, older ones dropped.
	MaxCatchUpRuns = 1000
)

// maxDueIterations bounds the iterations over a schedule's due times when counting
// missed ones (a minutely schedule down for almost two years).
const maxDueIterations = 1_000_000

// Errors returned by the Scheduler.
var (
	// ErrNotRunning is returned by Trigger when Run is not running.
	ErrNotRunning = errors.New("scheduler is not running")
	// ErrAlreadyRunning is returned by Run when it is already running.
	ErrAlreadyRunning = errors.New("scheduler is already running")
	// ErrUnknownJob is matched by Trigger's error for a name that is not
	// a job of the scheduler.
	ErrUnknownJob = errors.New("unknown job")
	// ErrJobBusy is matched by Trigger's error when the job's overlap
	// policy drops the manual run (the job is running or about to).
	ErrJobBusy = errors.New("job is already running")
)

// The causes with which the scheduler cancels a run's context.
var (
	errOverlapCancel = errors.New("cancelled by a newer run of the job (overlap: cancel)")
	errShutdown      = errors.New("cancelled by the scheduler's shutdown")
	errTimeout       = errors.New("job timeout")
)

// Usage is the resource usage a ResourceSampler reports, each a share
// between 0 and 1 (0 when unknown).
type Usage struct {
	CPU    float64
	Memory float64
	// DuckDBMemory is DuckDB's memory use as a share of its memory_limit.
	DuckDBMemory float64
}

// ResourceSampler reports current resource usage. A sampling error is
// logged and treated as "resources available".
type ResourceSampler interface {
	Sample(ctx context.Context) (Usage, error)
}

// EventType names a scheduler decision.
type EventType string

// The event types.
const (
	// EventDue: a scheduled due time arrived (after the job's stagger).
	EventDue EventType = "due"
	// EventStarted: a run started.
	EventStarted EventType = "started"
	// EventFinished: a run ended; Err is its error, Detail its status.
	EventFinished EventType = "finished"
	// EventSkipped: a due time was dropped (overlap, window, blackout,
	// CatchUpNone); Detail says why.
	EventSkipped EventType = "skipped"
	// EventQueued: a run waits (for a concurrency or pool slot, for
	// resources, or for the job's previous run under OverlapQueue).
	EventQueued EventType = "queued"
	// EventDeferred: a due run outside its windows (or in a blackout) waits
	// for the window to open; Detail says until when.
	EventDeferred EventType = "deferred"
	// EventCancelled: a running run was cancelled (OverlapCancel, or the
	// shutdown timeout ran out).
	EventCancelled EventType = "cancelled"
	// EventDeadlineMissed: a deadline time passed without a successful run
	// since the previous deadline time; Due is the deadline time. Reported
	// once per deadline time, also across restarts.
	EventDeadlineMissed EventType = "deadline_missed"
	// EventDeadlineMet: a deadline was met; Detail is "on time", or "late
	// by ..." for a success after a missed deadline (Due is the deadline).
	EventDeadlineMet EventType = "deadline_met"
	// EventWaitedForResources: a low or medium priority run starts after
	// waiting for resources (or for a critical job); Detail says how long
	// and whether the wait hit Options.MaxResourceWait.
	EventWaitedForResources EventType = "waited_for_resources"
	// EventCaughtUp: due times missed while the scheduler was stopped are
	// being caught up (CatchUpOnce or CatchUpAll); Detail counts them.
	EventCaughtUp EventType = "caught_up"
)

// Event is one scheduler decision, for logs, alerts and metrics.
type Event struct {
	Type EventType
	// Job is the job's name.
	Job string
	// Time is when the decision was taken.
	Time time.Time
	// Due is the due time concerned (the deadline time for deadline
	// events; the trigger time for manual runs).
	Due time.Time
	// Err is the run's error (EventFinished).
	Err error
	// Detail explains the decision in words.
	Detail string
}

// Options configure a Scheduler.
type Options struct {
	// Jobs are the scheduled jobs; names must be unique.
	Jobs []*Job
	// Runner runs the jobs.
	Runner JobRunner
	// Now is the clock (default time.Now). Waiting uses time.NewTimer, so
	// Now must advance with real (or testing/synctest's virtual) time.
	Now func() time.Time
	// MaxConcurrency bounds the runs going on at once (default 1).
	MaxConcurrency int
	// Pools bound the runs going on at once per pool (Job.Pool; "" is
	// "default"). A pool not listed is bounded by MaxConcurrency only; a
	// job naming a pool other than "default" must find it here.
	Pools map[string]int
	// State persists the jobs' last runs (default: NewMemoryState()).
	State StateStore
	// Resources, when set, is sampled before a low or medium priority job
	// starts.
	Resources ResourceSampler
	// ResourceThreshold is the usage at and above which low and medium
	// priority jobs wait (default 0.9).
	ResourceThreshold float64
	// MaxResourceWait bounds that wait (default 15m); when it runs out the
	// job starts anyway, reported by EventWaitedForResources. Low and
	// medium jobs also wait, within the same bound, while a critical job
	// runs.
	MaxResourceWait time.Duration
	// ShutdownTimeout is how long Run, once its context is done, lets
	// running jobs finish before cancelling them (0: cancel at once).
	ShutdownTimeout time.Duration
	// Windows are the named windows referenced by Job.Windows and
	// Job.Blackouts (Config.WindowMap gives them). A due run outside its
	// windows or inside a blackout is deferred to the next instant it may
	// start, if that comes before the job's next due time, else skipped.
	// A window with a NextOpen(time.Time) time.Time method (*Window) is
	// asked when it opens; others are searched minute by minute.
	Windows map[string]interface{ Contains(time.Time) bool }
	// OnEvent, when set, receives every decision, in order, from the
	// scheduler's goroutine. It must not block for long; it may call
	// NextRuns, but Trigger only from another goroutine.
	OnEvent func(Event)
	// Logger receives the same decisions as log records (nil discards).
	Logger *slog.Logger
}

// Upcoming is a job's next due time and latest run, as NextRuns lists them.
type Upcoming struct {
	Job *Job
	// Next is the job's next due time after the time given to NextRuns
	// (zero when the schedule has none).
	Next time.Time
	// LastRun is when the latest run started; LastStatus, LastError and
	// LastSuccess come from the job's state.
	LastRun     time.Time
	LastStatus  string
	LastError   string
	LastSuccess time.Time
	// Running says whether a run is going on.
	Running bool
}

// Scheduler runs jobs when they are due. Create it with New; Run drives it.
// Its methods are safe for concurrent use.
//
// Run sleeps on a single timer until the earliest thing to do (a due time
// plus the job's stagger, a deferred run, a deadline, a resource re-check),
// so an idle scheduler does not wake up. Due runs go through, in order:
//
//   - windows: outside Job.Windows or inside Job.Blackouts, the run is
//     deferred to the next instant it may start if that is before the job's
//     next due time, else skipped;
//   - overlap: while the job's previous run goes on, Job.Overlap skips the
//     new run, queues it (at most one) or cancels the running one first;
//   - the ready queue: by priority (orchestrate.Priority.Effective), then
//     due time, then name; MaxConcurrency and the Pools bound what runs;
//   - resources: a low or medium priority run waits while a critical job
//     runs or the ResourceSampler reports usage at or above the threshold,
//     re-checked when a run finishes and every ResourceRecheckInterval, at
//     most MaxResourceWait, without holding a slot.
//
// Every start and finish is saved to the StateStore. On start, due times
// missed since a job's last handled due time are caught up per its
// CatchUp policy (a run interrupted by the previous shutdown counts as
// missed), and deadline times that passed are checked: each deadline time
// is reported once (met or missed), and a success after a missed deadline
// reports it met, late.
type Scheduler struct {
	opts      Options
	log       *slog.Logger
	jobs      []*jobRuntime // by priority (highest first), then name
	byName    map[string]*jobRuntime
	maxConc   int
	threshold float64
	maxWait   time.Duration

	mu          sync.Mutex   // guards everything below and the jobRTs
	active      bool         // Run is running
	stopping    bool         // Run is shutting down
	loaded      bool         // states have been loaded
	ready       []*queuedRun // runs waiting for a slot, in start order
	delayed     []*queuedRun // runs waiting for a time (stagger, window)
	nRunning    int
	poolRunning map[string]int
	critRunning int
	seq         uint64
	reqCh       chan triggerRequest
	doneCh      chan runDone
	stopCh      chan struct{} // closed when Run stops taking triggers
	baseCtx     context.Context
	events      []Event
	saves       []JobState

	wakeups atomic.Int64 // timer wake-ups of Run's loop
}

// jobRuntime is a job and its run-time state.
type jobRuntime struct {
	job          *Job
	pool         string
	offset       time.Duration // stagger
	st           JobState
	next         time.Time // next due time not handled yet (zero: none)
	nextDeadline time.Time
	running      *activeRun
	waiting      *queuedRun   // in the ready queue or delayed
	pending      []*queuedRun // overlap-queued run (at most one)
	backlog      []*queuedRun // CatchUpAll runs still to go
}

// queuedRun is a run that has not started yet.
type queuedRun struct {
	js        *jobRuntime
	trig      Trigger
	manual    bool
	limit     time.Time // a run deferred by a window must start before this
	at        time.Time // when delayed: when to look at it again
	seq       uint64
	reported  bool // EventQueued sent
	waitStart time.Time
	waitWhy   string
	waitNote  string
}

type activeRun struct {
	js        *jobRuntime
	trig      Trigger
	manual    bool
	cancel    context.CancelCauseFunc
	cancelled bool
}

type runDone struct {
	run   *activeRun
	err   error
	cause error
}

type triggerRequest struct {
	js    *jobRuntime
	reply chan error
}

// New validates opts and returns a Scheduler. It refuses duplicate or empty
// job names, nil jobs and schedules, unknown windows and pools, unknown
// overlap and catch-up policies and negative durations.
func New(opts Options) (*Scheduler, error) {
	if opts.Runner == nil {
		return nil, errors.New("schedule: Options.Runner is nil")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.State == nil {
		opts.State = NewMemoryState()
	}
	s := &Scheduler{
		opts:        opts,
		log:         opts.Logger,
		byName:      map[string]*jobRuntime{},
		maxConc:     opts.MaxConcurrency,
		threshold:   opts.ResourceThreshold,
		maxWait:     opts.MaxResourceWait,
		poolRunning: map[string]int{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case s.maxConc < 0:
		return nil, fmt.Errorf("schedule: MaxConcurrency must be >= 0, got %d", s.maxConc)
	case s.maxConc == 0:
		s.maxConc = 1
	}
	switch {
	case s.threshold < 0 || s.threshold > 1:
		return nil, fmt.Errorf("schedule: ResourceThreshold must be between 0 and 1, got %v", s.threshold)
	case s.threshold == 0:
		s.threshold = DefaultResourceThreshold
	}
	switch {
	case s.maxWait < 0:
		return nil, fmt.Errorf("schedule: MaxResourceWait must be >= 0, got %s", s.maxWait)
	case s.maxWait == 0:
		s.maxWait = DefaultMaxResourceWait
	}
	if opts.ShutdownTimeout < 0 {
		return nil, fmt.Errorf("schedule: ShutdownTimeout must be >= 0, got %s", opts.ShutdownTimeout)
	}
	for name, n := range opts.Pools {
		if n < 1 {
			return nil, fmt.Errorf("schedule: pool %q: limit must be >= 1, got %d", name, n)
		}
	}
	var errs []error
	for i, j := range opts.Jobs {
		if j == nil {
			errs = append(errs, fmt.Errorf("job %d is nil", i))
			continue
		}
		if j.Name == "" {
			errs = append(errs, fmt.Errorf("job %d has no name", i))
			continue
		}
		if _, dup := s.byName[j.Name]; dup {
			errs = append(errs, fmt.Errorf("job %q: duplicate name", j.Name))
			continue
		}
		if j.Schedule == nil {
			errs = append(errs, fmt.Errorf("job %q: no schedule", j.Name))
		}
		switch j.Overlap {
		case "", OverlapSkip, OverlapQueue, OverlapCancel:
		default:
			errs = append(errs, fmt.Errorf("job %q: unknown overlap policy %q (want skip, queue or cancel)", j.Name, j.Overlap))
		}
		switch j.CatchUp {
		case "", CatchUpOnce, CatchUpAll, CatchUpNone:
		default:
			errs = append(errs, fmt.Errorf("job %q: unknown catch-up policy %q (want once, all or none)", j.Name, j.CatchUp))
		}
		for _, w := range slices.Concat(j.Windows, j.Blackouts) {
			if _, ok := opts.Windows[w]; !ok {
				errs = append(errs, fmt.Errorf("job %q: unknown window %q", j.Name, w))
			}
		}
		pool := j.Pool
		if pool == "" {
			pool = "default"
		}
		if _, ok := opts.Pools[pool]; !ok && pool != "default" {
			errs = append(errs, fmt.Errorf("job %q: unknown pool %q", j.Name, j.Pool))
		}
		if j.Stagger < 0 {
			errs = append(errs, fmt.Errorf("job %q: negative stagger %s", j.Name, j.Stagger))
		}
		if j.Timeout < 0 {
			errs = append(errs, fmt.Errorf("job %q: negative timeout %s", j.Name, j.Timeout))
		}
		js := &jobRuntime{job: j, pool: pool, offset: staggerOffset(j.Name, j.Stagger), st: JobState{Job: j.Name}}
		s.byName[j.Name] = js
		s.jobs = append(s.jobs, js)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("schedule: %w", errors.Join(errs...))
	}
	slices.SortFunc(s.jobs, func(a, b *jobRuntime) int {
		if c := cmp.Compare(b.job.Priority.Effective(), a.job.Priority.Effective()); c != 0 {
			return c
		}
		return cmp.Compare(a.job.Name, b.job.Name)
	})
	return s, nil
}

// staggerOffset is the job's deterministic start delay in [0, stagger):
// a hash of its name, in whole seconds when stagger is a second or more.
func staggerOffset(name string, stagger time.Duration) time.Duration {
	if stagger <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	if stagger >= time.Second {
		return time.Duration(h.Sum64()%uint64(stagger/time.Second)) * time.Second
	}
	return time.Duration(h.Sum64() % uint64(stagger))
}

// Run runs the scheduler until ctx is done, then shuts down gracefully:
// no new run starts, running jobs get Options.ShutdownTimeout to finish and
// are then cancelled (recorded StatusInterrupted, run again on restart per
// their CatchUp policy), and Run returns once every run has returned. It
// returns nil on such a clean shutdown and an error when the state cannot
// be loaded or Run is already running.
//
// At start it loads the jobs' states: due times missed since a job's
// LastDue are caught up per its CatchUp policy, deadlines that passed are
// checked, and a job without state is scheduled from now on (a due time
// equal to now included).
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.active {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.active, s.stopping = true, false
	s.reqCh = make(chan triggerRequest)
	s.doneCh = make(chan runDone)
	s.stopCh = make(chan struct{})
	s.baseCtx = context.WithoutCancel(ctx)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active = false
		s.mu.Unlock()
	}()

	states, err := s.opts.State.Load(ctx)
	if err != nil || ctx.Err() != nil {
		close(s.stopCh)
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return fmt.Errorf("schedule: load state: %w", err)
	}
	s.mu.Lock()
	now := s.opts.Now()
	s.startup(states, now)
	s.dispatch(now)
	s.mu.Unlock()
	s.flush()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.opts.Now()
		wake := s.nextWake(now)
		s.mu.Unlock()
		if !wake.IsZero() {
			timer.Reset(max(wake.Sub(now), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return s.shutdown()
		case <-timer.C:
			s.wakeups.Add(1)
			s.mu.Lock()
			now := s.opts.Now()
			s.tick(now)
			s.dispatch(now)
			s.mu.Unlock()
		case r := <-s.doneCh:
			s.mu.Lock()
			now := s.opts.Now()
			s.finish(r, now)
			s.dispatch(now)
			s.mu.Unlock()
		case req := <-s.reqCh:
			s.mu.Lock()
			now := s.opts.Now()
			err := s.manual(req.js, now)
			s.dispatch(now)
			s.mu.Unlock()
			s.flush()
			req.reply <- err
			continue
		}
		s.flush()
	}
}

// Trigger runs the job now, outside its schedule: it ignores the job's
// windows and resource waits but not the concurrency limits and the job's
// overlap policy (an error matching ErrJobBusy when the policy drops the
// run). It returns once the run has started or been queued, and
// ErrNotRunning when Run is not running.
func (s *Scheduler) Trigger(name string) error {
	js := s.byName[name]
	if js == nil {
		return fmt.Errorf("trigger %q: %w", name, ErrUnknownJob)
	}
	s.mu.Lock()
	if !s.active || s.stopping {
		s.mu.Unlock()
		return ErrNotRunning
	}
	reqCh, stopCh := s.reqCh, s.stopCh
	s.mu.Unlock()
	reply := make(chan error, 1)
	select {
	case reqCh <- triggerRequest{js: js, reply: reply}:
		return <-reply
	case <-stopCh:
		return ErrNotRunning
	}
}

// NextRuns returns every job's next due time after now and its latest run,
// sorted by next due time (jobs without one last), then name. Before Run
// has run, it loads the states from Options.State.
func (s *Scheduler) NextRuns(now time.Time) []Upcoming {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if states, err := s.opts.State.Load(context.Background()); err != nil {
			s.log.Warn("schedule: load state", "err", err)
		} else {
			for _, js := range s.jobs {
				if st, ok := states[js.job.Name]; ok {
					st.Job = js.job.Name
					js.st = st
				}
			}
			s.loaded = true
		}
	}
	out := make([]Upcoming, 0, len(s.jobs))
	for _, js := range s.jobs {
		out = append(out, Upcoming{
			Job:         js.job,
			Next:        js.job.Schedule.Next(now),
			LastRun:     js.st.LastStart,
			LastStatus:  js.st.LastStatus,
			LastError:   js.st.LastError,
			LastSuccess: js.st.LastSuccess,
			Running:     js.running != nil,
		})
	}
	slices.SortStableFunc(out, func(a, b Upcoming) int {
		switch {
		case a.Next.IsZero() != b.Next.IsZero():
			if a.Next.IsZero() {
				return 1
			}
			return -1
		case !a.Next.Equal(b.Next):
			return a.Next.Compare(b.Next)
		}
		return cmp.Compare(a.Job.Name, b.Job.Name)
	})
	return out
}

// emit queues an event (sent by flush, outside the lock).
func (s *Scheduler) emit(t EventType, js *jobRuntime, now, due time.Time, err error, detail string) {
	s.events = append(s.events, Event{Type: t, Job: js.job.Name, Time: now, Due: due, Err: err, Detail: detail})
}

// save queues a save of the job's state (done by flush, outside the lock).
func (s *Scheduler) save(js *jobRuntime) { s.saves = append(s.saves, js.st) }

// flush saves the queued states and sends the queued events. Only Run's
// goroutine calls it.
func (s *Scheduler) flush() {
	s.mu.Lock()
	saves, events := s.saves, s.events
	s.saves, s.events = nil, nil
	ctx := s.baseCtx
	s.mu.Unlock()
	for _, st := range saves {
		if err := s.opts.State.Save(ctx, st); err != nil {
			s.log.Warn("schedule: save state", "job", st.Job, "err", err)
		}
	}
	for _, ev := range events {
		s.logEvent(ev)
		if s.opts.OnEvent != nil {
			s.opts.OnEvent(ev)
		}
	}
}

func (s *Scheduler) logEvent(ev Event) {
	level := slog.LevelInfo
	switch ev.Type {
	case EventDue, EventQueued:
		level = slog.LevelDebug
	case EventDeadlineMissed:
		level = slog.LevelWarn
	case EventFinished:
		if ev.Err != nil {
			level = slog.LevelWarn
		}
	}
	attrs := []slog.Attr{slog.String("job", ev.Job), slog.Time("due", ev.Due)}
	if ev.Detail != "" {
		attrs = append(attrs, slog.String("detail", ev.Detail))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Err))
	}
	s.log.LogAttrs(context.Background(), level, "schedule: "+string(ev.Type), attrs...)
}

// startup loads states, checks the deadlines that passed while the
// scheduler was stopped and plans the catch-up of missed due times.
func (s *Scheduler) startup(states map[string]JobState, now time.Time) {
	s.loaded = true
	for _, js := range s.jobs {
		js.running, js.waiting, js.pending, js.backlog = nil, nil, nil, nil
		js.st = JobState{Job: js.job.Name}
		if st, ok := states[js.job.Name]; ok {
			st.Job = js.job.Name
			js.st = st
		}
		st := &js.st
		if dl := js.job.Deadline; dl != nil {
			if st.LastDeadlineReported.IsZero() {
				js.nextDeadline = dl.Next(now)
			} else {
				d := advance(dl, st.LastDeadlineReported)
				for n := 0; !d.IsZero() && !d.After(now); n++ {
					if n == MaxCatchUpRuns {
						// Too many to report one by one.
						last := previousDue(dl, now.Add(time.Nanosecond))
						s.emit(EventDeadlineMissed, js, now, last, nil,
							fmt.Sprintf("more than %d deadline times passed while the scheduler was stopped", n))
						st.LastDeadlineReported, st.MissedDeadline = last, last
						s.save(js)
						d = advance(dl, last)
						break
					}
					s.checkDeadline(js, d, now)
					d = advance(dl, d)
				}
				js.nextDeadline = d
			}
		}

		sched := js.job.Schedule
		if st.LastDue.IsZero() {
			js.next = sched.Next(now.Add(-time.Nanosecond))
			continue
		}
		interrupted := (st.LastStatus == StatusRunning || st.LastStatus == StatusInterrupted) && st.LastTrigger != TriggerManual
		if st.LastStatus == StatusRunning {
			st.LastStatus = StatusInterrupted
			s.save(js)
		}
		var missed []time.Time
		total := 0
		if interrupted {
			missed, total = append(missed, st.LastDue), 1
		}
		d := advance(sched, st.LastDue)
		for n := 0; !d.IsZero() && d.Before(now); n++ {
			if n == maxDueIterations {
				// Jump: the count is a lower bound.
				d = sched.Next(now.Add(-time.Nanosecond))
				missed = append(missed, previousDue(sched, now))
				break
			}
			missed = append(missed, d)
			if len(missed) > 2*MaxCatchUpRuns {
				missed = slices.Delete(missed, 0, len(missed)-MaxCatchUpRuns)
			}
			total++
			d = advance(sched, d)
		}
		js.next = d
		if total > 0 {
			s.catchUp(js, missed, total, now)
		}
	}
}

// catchUp applies the job's CatchUp policy to missed due times (the latest
// of which are in missed, total counting all of them).
func (s *Scheduler) catchUp(js *jobRuntime, missed []time.Time, total int, now time.Time) {
	latest := missed[len(missed)-1]
	since := missed[0]
	if total > len(missed) {
		since = time.Time{}
	}
	word := "due times"
	if total == 1 {
		word = "due time"
	}
	switch js.job.CatchUp {
	case CatchUpNone:
		s.markHandled(js, latest)
		s.emit(EventSkipped, js, now, latest, nil, fmt.Sprintf("catch-up none: %d missed %s not run", total, word))
	case CatchUpAll:
		if len(missed) > MaxCatchUpRuns {
			missed = missed[len(missed)-MaxCatchUpRuns:]
		}
		detail := fmt.Sprintf("catch-up all: %d missed %s, %d runs", total, word, len(missed))
		if total > len(missed) {
			detail += fmt.Sprintf(" (the %d oldest dropped)", total-len(missed))
		}
		s.emit(EventCaughtUp, js, now, latest, nil, detail)
		for _, d := range missed {
			js.backlog = append(js.backlog, &queuedRun{js: js, trig: Trigger{Due: d, CatchUp: true, Missed: 1}})
		}
		first := js.backlog[0]
		js.backlog = js.backlog[1:]
		first.limit = js.next
		s.delay(first, now.Add(js.offset))
	default:
		detail := fmt.Sprintf("catch-up once: %d missed %s", total, word)
		if !since.IsZero() {
			detail += " since " + since.Format(time.RFC3339)
		}
		s.emit(EventCaughtUp, js, now, latest, nil, detail)
		s.delay(&queuedRun{js: js, trig: Trigger{Due: latest, CatchUp: true, Missed: total}, limit: js.next}, now.Add(js.offset))
	}
}

// delay parks it until at.
func (s *Scheduler) delay(it *queuedRun, at time.Time) {
	it.at = at
	if it.js.waiting == nil {
		it.js.waiting = it
	}
	s.delayed = append(s.delayed, it)
}

// nextWake returns when the loop must next wake up (zero: never, until a
// run finishes or a trigger arrives).
func (s *Scheduler) nextWake(now time.Time) time.Time {
	var w time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (w.IsZero() || t.Before(w)) {
			w = t
		}
	}
	if s.stopping {
		return w
	}
	for _, js := range s.jobs {
		if !js.next.IsZero() {
			consider(js.next.Add(js.offset))
		}
		consider(js.nextDeadline)
	}
	for _, it := range s.delayed {
		consider(it.at)
	}
	for _, it := range s.ready {
		if it.waitStart.IsZero() {
			continue
		}
		waited := now.Sub(it.waitStart)
		if waited >= s.maxWait {
			continue // starts as soon as a slot is free
		}
		consider(it.waitStart.Add((waited/ResourceRecheckInterval + 1) * ResourceRecheckInterval))
		consider(it.waitStart.Add(s.maxWait))
	}
	return w
}

// tick handles what is due at now: deadlines, delayed runs, due times.
func (s *Scheduler) tick(now time.Time) {
	for _, js := range s.jobs {
		for !js.nextDeadline.IsZero() && !js.nextDeadline.After(now) {
			d := js.nextDeadline
			s.checkDeadline(js, d, now)
			js.nextDeadline = advance(js.job.Deadline, d)
		}
	}
	var due []*queuedRun
	s.delayed = slices.DeleteFunc(s.delayed, func(it *queuedRun) bool {
		if it.at.After(now) {
			return false
		}
		due = append(due, it)
		return true
	})
	slices.SortStableFunc(due, func(a, b *queuedRun) int { return a.at.Compare(b.at) })
	for _, it := range due {
		s.arrive(it, now)
	}
	for _, js := range s.jobs {
		var ticks []time.Time
		total := 0
		for !js.next.IsZero() && !js.next.Add(js.offset).After(now) {
			ticks = append(ticks, js.next)
			if len(ticks) > 2*MaxCatchUpRuns {
				ticks = slices.Delete(ticks, 0, len(ticks)-MaxCatchUpRuns)
			}
			total++
			js.next = advance(js.job.Schedule, js.next)
			if total == maxDueIterations {
				js.next = js.job.Schedule.Next(now)
				break
			}
		}
		switch {
		case total == 1:
			s.emit(EventDue, js, now, ticks[0], nil, "")
			s.arrive(&queuedRun{js: js, trig: Trigger{Due: ticks[0]}, limit: js.next}, now)
		case total > 1:
			// The loop woke up late (the process was suspended): treat the
			// due times as missed.
			s.catchUp(js, ticks, total, now)
		}
	}
}

// advance returns sched.Next(t), or zero when the schedule does not move
// forward.
func advance(sched Schedule, t time.Time) time.Time {
	n := sched.Next(t)
	if !n.After(t) {
		return time.Time{}
	}
	return n
}

// previousDue returns the latest due time of sched before t, or zero when none
// is found within about four years.
func previousDue(sched Schedule, t time.Time) time.Time {
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 4 * 367 * 24 * time.Hour} {
		var last time.Time
		x := sched.Next(t.Add(-back))
		for i := 0; !x.IsZero() && x.Before(t) && i < maxDueIterations; i++ {
			last = x
			x = advance(sched, x)
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// checkDeadline reports deadline time d: met when a run succeeded after the
// previous deadline time and by d.
func (s *Scheduler) checkDeadline(js *jobRuntime, d, now time.Time) {
	st := &js.st
	prev := st.LastDeadlineReported
	if prev.IsZero() {
		prev = previousDue(js.job.Deadline, d)
	}
	ls := st.LastSuccess
	if !ls.IsZero() && ls.After(prev) && !ls.After(d) {
		st.MissedDeadline = time.Time{}
		s.emit(EventDeadlineMet, js, now, d, nil, "on time")
	} else {
		st.MissedDeadline = d
		detail := "no successful run"
		if !ls.IsZero() {
			detail = "last successful run " + ls.Format(time.RFC3339)
		}
		if !prev.IsZero() {
			detail += " since the previous deadline " + prev.Format(time.RFC3339)
		}
		if js.running != nil {
			detail += "; a run is going on"
		}
		s.emit(EventDeadlineMissed, js, now, d, nil, detail)
	}
	st.LastDeadlineReported = d
	s.save(js)
}

// markHandled records due as handled.
func (s *Scheduler) markHandled(js *jobRuntime, due time.Time) {
	if due.After(js.st.LastDue) {
		js.st.LastDue = due
		s.save(js)
	}
}

// allowed reports whether the job's windows let it start at t, and why not.
func (s *Scheduler) allowed(js *jobRuntime, t time.Time) (bool, string) {
	for _, w := range js.job.Windows {
		if !s.opts.Windows[w].Contains(t) {
			return false, fmt.Sprintf("outside window %q", w)
		}
	}
	for _, w := range js.job.Blackouts {
		if s.opts.Windows[w].Contains(t) {
			return false, fmt.Sprintf("in blackout %q", w)
		}
	}
	return true, ""
}

// windowOpener is implemented by windows that can say when they next open
// (the package's *Window does): NextOpen returns the first instant at or
// after t inside the window, or zero.
type windowOpener interface {
	NextOpen(t time.Time) time.Time
}

// maxWindowLookahead bounds how far ahead nextOpen looks.
const maxWindowLookahead = 32 * 24 * time.Hour

// nextOpen returns the first instant after t (to the second) at which the
// job's windows let it start, if that is before limit (zero limit: within
// maxWindowLookahead); else zero. A job with a single window that is a
// windowOpener asks it; otherwise nextOpen steps minute by minute through
// Contains, then narrows the opening minute down to the second.
func (s *Scheduler) nextOpen(js *jobRuntime, t, limit time.Time) time.Time {
	end := t.Add(maxWindowLookahead)
	if !limit.IsZero() && limit.Before(end) {
		end = limit
	}
	if len(js.job.Windows) == 1 && len(js.job.Blackouts) == 0 {
		if w, ok := s.opts.Windows[js.job.Windows[0]].(windowOpener); ok {
			switch open := w.NextOpen(t); {
			case open.IsZero() || !open.Before(end):
				return time.Time{}
			case open.After(t):
				return open
			}
			// NextOpen disagrees with Contains: search instead.
		}
	}
	prev := t
	for m := t.Truncate(time.Minute).Add(time.Minute); m.Before(end); m = m.Add(time.Minute) {
		if ok, _ := s.allowed(js, m); !ok {
			prev = m
			continue
		}
		lo, hi := prev, m // lo closed, hi open
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
			if !mid.After(lo) {
				break
			}
			if ok, _ := s.allowed(js, mid); ok {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	return time.Time{}
}

// arrive handles a run that is due now (after its stagger or deferral):
// windows, then the job's overlap policy, then the ready queue. For manual
// runs it returns ErrJobBusy when the run is dropped.
func (s *Scheduler) arrive(it *queuedRun, now time.Time) error {
	js := it.js
	if js.waiting == it { // a delayed run coming back
		js.waiting = nil
	}
	// A manual run goes ahead of a scheduled run deferred to its window:
	// nothing is running or about to.
	if js.waiting != nil && !(it.manual && slices.Contains(s.delayed, js.waiting)) {
		return s.drop(it, now, "overlap: a previous run is still waiting to start")
	}
	if !it.manual {
		if ok, why := s.allowed(js, now); !ok {
			if open := s.nextOpen(js, now, it.limit); !open.IsZero() {
				s.delay(it, open)
				s.emit(EventDeferred, js, now, it.trig.Due, nil, why+"; deferred until "+open.Format(time.RFC3339))
				return nil
			}
			s.drop(it, now, why+"; no opening before the next due time")
			return nil
		}
	}
	if js.running != nil {
		switch js.job.Overlap {
		case OverlapQueue:
			if len(js.pending) > 0 {
				return s.drop(it, now, "overlap: a run is already queued")
			}
			js.pending = []*queuedRun{it}
			it.reported = true
			s.emit(EventQueued, js, now, it.trig.Due, nil, "overlap: waiting for the previous run to finish")
		case OverlapCancel:
			r := js.running
			if !r.cancelled {
				r.cancelled = true
				r.cancel(errOverlapCancel)
				s.emit(EventCancelled, js, now, r.trig.Due, nil, "overlap: cancelled for the run due "+it.trig.Due.Format(time.RFC3339))
			}
			for _, old := range js.pending {
				s.drop(old, now, "overlap: superseded by a newer run")
			}
			js.pending = []*queuedRun{it}
			it.reported = true
			s.emit(EventQueued, js, now, it.trig.Due, nil, "overlap: waiting for the cancelled run to return")
		default:
			return s.drop(it, now, "overlap: the previous run is still running")
		}
		return nil
	}
	s.enqueue(it)
	return nil
}

// drop reports a run that will not happen. Dropping the head of a CatchUpAll
// backlog drops the rest of it too.
func (s *Scheduler) drop(it *queuedRun, now time.Time, why string) error {
	js := it.js
	due := it.trig.Due
	if it.trig.CatchUp && len(js.backlog) > 0 && !it.manual && js.running == nil && js.waiting == nil {
		n := len(js.backlog)
		due = js.backlog[n-1].trig.Due
		js.backlog = nil
		why += fmt.Sprintf(" (and %d more catch-up runs)", n)
	}
	if !it.manual {
		s.markHandled(js, due)
	}
	s.emit(EventSkipped, js, now, it.trig.Due, nil, why)
	return fmt.Errorf("%s: %w", why, ErrJobBusy)
}

// enqueue puts it in the ready queue: higher priority first, then earlier
// due time, then name, then arrival.
func (s *Scheduler) enqueue(it *queuedRun) {
	s.seq++
	it.seq = s.seq
	it.js.waiting = it
	i, _ := slices.BinarySearchFunc(s.ready, it, compareQueued)
	s.ready = slices.Insert(s.ready, i, it)
}

func compareQueued(a, b *queuedRun) int {
	if c := cmp.Compare(b.js.job.Priority.Effective(), a.js.job.Priority.Effective()); c != 0 {
		return c
	}
	if c := a.trig.Due.Compare(b.trig.Due); c != 0 {
		return c
	}
	if c := cmp.Compare(a.js.job.Name, b.js.job.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// manual handles Trigger.
func (s *Scheduler) manual(js *jobRuntime, now time.Time) error {
	return s.arrive(&queuedRun{js: js, trig: Trigger{Due: now}, manual: true}, now)
}

// dispatch starts the ready runs the limits allow, in queue order.
func (s *Scheduler) dispatch(now time.Time) {
	if s.stopping {
		return
	}
	sampled := false
	var usageWhy string
	for i := 0; i < len(s.ready); {
		it := s.ready[i]
		js := it.js
		if s.nRunning >= s.maxConc {
			for _, rest := range s.ready[i:] {
				s.noteQueued(rest, now, fmt.Sprintf("concurrency limit %d reached", s.maxConc))
			}
			return
		}
		if lim := s.poolLimit(js.pool); s.poolRunning[js.pool] >= lim {
			s.noteQueued(it, now, fmt.Sprintf("pool %q limit %d reached", js.pool, lim))
			i++
			continue
		}
		if !it.manual && js.job.Priority.Effective() <= orchestrate.PriorityMedium {
			why := s.criticalRunning()
			if why == "" && s.opts.Resources != nil {
				if !sampled {
					usageWhy, sampled = s.sample(), true
				}
				why = usageWhy
			}
			switch {
			case why != "":
				if it.waitStart.IsZero() {
					it.waitStart = now
				}
				it.waitWhy = why
				if waited := now.Sub(it.waitStart); waited < s.maxWait {
					s.noteQueued(it, now, "waiting for resources: "+why)
					i++
					continue
				}
				it.waitNote = fmt.Sprintf("waited %s, the limit (%s); starting anyway", now.Sub(it.waitStart), why)
			case !it.waitStart.IsZero():
				it.waitNote = fmt.Sprintf("waited %s (%s)", now.Sub(it.waitStart), it.waitWhy)
			}
		}
		s.ready = slices.Delete(s.ready, i, i+1)
		s.start(it, now)
	}
}

func (s *Scheduler) noteQueued(it *queuedRun, now time.Time, why string) {
	if it.reported {
		return
	}
	it.reported = true
	s.emit(EventQueued, it.js, now, it.trig.Due, nil, why)
}

func (s *Scheduler) poolLimit(pool string) int {
	if n, ok := s.opts.Pools[pool]; ok {
		return n
	}
	return s.maxConc
}

// criticalRunning names a running critical job, if any.
func (s *Scheduler) criticalRunning() string {
	if s.critRunning == 0 {
		return ""
	}
	for _, js := range s.jobs {
		if js.running != nil && js.job.Priority.Effective() == orchestrate.PriorityCritical {
			return fmt.Sprintf("critical job %q is running", js.job.Name)
		}
	}
	return ""
}

// sample asks the ResourceSampler and says which usage is too high.
func (s *Scheduler) sample() string {
	u, err := s.opts.Resources.Sample(s.baseCtx)
	if err != nil {
		s.log.Warn("schedule: sample resources", "err", err)
		return ""
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"cpu", u.CPU}, {"memory", u.Memory}, {"duckdb memory", u.DuckDBMemory}} {
		if r.v >= s.threshold {
			return fmt.Sprintf("%s at %.0f%% (threshold %.0f%%)", r.name, r.v*100, s.threshold*100)
		}
	}
	return ""
}

// start starts a run.
func (s *Scheduler) start(it *queuedRun, now time.Time) {
	js := it.js
	if it.waitNote != "" {
		s.emit(EventWaitedForResources, js, now, it.trig.Due, nil, it.waitNote)
	}
	trig := it.trig
	trig.Started = now
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	r := &activeRun{js: js, trig: trig, manual: it.manual, cancel: cancel}
	js.waiting = nil
	js.running = r
	s.nRunning++
	s.poolRunning[js.pool]++
	if js.job.Priority.Effective() == orchestrate.PriorityCritical {
		s.critRunning++
	}
	st := &js.st
	switch {
	case it.manual:
		st.LastTrigger = TriggerManual
	case trig.CatchUp:
		st.LastTrigger = TriggerCatchUp
	default:
		st.LastTrigger = TriggerScheduled
	}
	if !it.manual && trig.Due.After(st.LastDue) {
		st.LastDue = trig.Due
	}
	st.LastStart, st.LastStatus = now, StatusRunning
	s.save(js)
	detail := st.LastTrigger
	if trig.CatchUp {
		detail = fmt.Sprintf("catch-up (%d missed)", trig.Missed)
	}
	s.emit(EventStarted, js, now, trig.Due, nil, detail)

	job, runner, done := js.job, s.opts.Runner, s.doneCh
	go func() {
		runCtx, stop := ctx, context.CancelFunc(func() {})
		if job.Timeout > 0 {
			runCtx, stop = context.WithTimeoutCause(ctx, job.Timeout, errTimeout)
		}
		err := callRunner(runCtx, runner, job, trig)
		cause := context.Cause(runCtx)
		stop()
		cancel(nil)
		done <- runDone{run: r, err: err, cause: cause}
	}()
}

// callRunner runs the job, turning a panic into an error.
func callRunner(ctx context.Context, runner JobRunner, job *Job, trig Trigger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %q panicked: %v", job.Name, p)
		}
	}()
	return runner.RunJob(ctx, job, trig)
}

// finish records the end of a run and moves the job's next run along.
func (s *Scheduler) finish(res runDone, now time.Time) {
	r := res.run
	js := r.js
	js.running = nil
	s.nRunning--
	s.poolRunning[js.pool]--
	if js.job.Priority.Effective() == orchestrate.PriorityCritical {
		s.critRunning--
	}
	status := StatusSuccess
	if res.err != nil {
		switch {
		case errors.Is(res.cause, errShutdown):
			status = StatusInterrupted
		case errors.Is(res.cause, errOverlapCancel):
			status = StatusCancelled
		case errors.Is(res.cause, errTimeout):
			status = StatusTimeout
		default:
			status = StatusError
		}
	}
	st := &js.st
	st.LastFinish, st.LastStatus, st.LastError = now, status, ""
	if res.err != nil {
		st.LastError = res.err.Error()
	}
	if status == StatusSuccess {
		st.LastSuccess = now
		if !st.MissedDeadline.IsZero() {
			s.emit(EventDeadlineMet, js, now, st.MissedDeadline, nil, "late by "+now.Sub(st.MissedDeadline).String())
			st.MissedDeadline = time.Time{}
		}
	}
	s.save(js)
	s.emit(EventFinished, js, now, r.trig.Due, res.err, status)
	if s.stopping {
		return
	}
	switch {
	case len(js.pending) > 0:
		it := js.pending[0]
		js.pending = js.pending[1:]
		s.enqueue(it)
	case len(js.backlog) > 0 && js.waiting == nil:
		it := js.backlog[0]
		js.backlog = js.backlog[1:]
		it.limit = js.next
		s.arrive(it, now)
	}
}

// shutdown stops starting runs, lets the running ones finish within
// ShutdownTimeout and cancels them after it.
func (s *Scheduler) shutdown() error {
	s.mu.Lock()
	s.stopping = true
	close(s.stopCh)
	now := s.opts.Now()
	for _, it := range slices.Concat(s.ready, s.delayed) {
		s.log.Info("schedule: not started before shutdown", "job", it.js.job.Name, "due", it.trig.Due)
	}
	s.ready, s.delayed = nil, nil
	for _, js := range s.jobs {
		js.waiting, js.pending, js.backlog = nil, nil, nil
	}
	n := s.nRunning
	var grace <-chan time.Time
	if n > 0 {
		if s.opts.ShutdownTimeout > 0 {
			t := time.NewTimer(s.opts.ShutdownTimeout)
			defer t.Stop()
			grace = t.C
		} else {
			s.cancelAll(now, "shutdown")
		}
	}
	s.mu.Unlock()
	s.flush()
	for {
		s.mu.Lock()
		n := s.nRunning
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case r := <-s.doneCh:
			s.mu.Lock()
			s.finish(r, s.opts.Now())
			s.mu.Unlock()
		case <-grace:
			grace = nil
			s.mu.Lock()
			s.cancelAll(s.opts.Now(), "shutdown: the shutdown timeout ran out")
			s.mu.Unlock()
		}
		s.flush()
	}
}

// cancelAll cancels the running runs for the shutdown.
func (s *Scheduler) cancelAll(now time.Time, why string) {
	for _, js := range s.jobs {
		if r := js.running; r != nil {
			r.cancel(errShutdown)
			s.emit(EventCancelled, js, now, r.trig.Due, nil, why)
		}
	}
}
