package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vyaparbazaar/dataops/recovery"
)

// InhibitRule mutes target alerts while a source alert fires: a source
// matching Source inhibits the targets matching Target whose Equal labels
// have the same values; with Upstream, only targets whose model is the
// source's model or downstream of it (Options.Upstream).
type InhibitRule struct {
	Source   Matchers
	Target   Matchers
	Equal    []string
	Upstream bool
}

// DefaultInhibitRules: a failed run of a model mutes the freshness alerts
// of that model and of everything downstream of it, in the same
// environment (its staleness is the failure's consequence, already told).
func DefaultInhibitRules() []InhibitRule {
	return []InhibitRule{{
		Source:   Matchers{Eq(LabelType, string(TypeRunFailed))},
		Target:   Matchers{Eq(LabelType, string(TypeFreshness))},
		Equal:    []string{LabelEnvironment},
		Upstream: true,
	}}
}

// Metrics counts what a Dispatcher does; internal/telemetry has an
// OpenTelemetry implementation. Methods must be safe for concurrent use.
type Metrics interface {
	// Sent counts a notification of n alerts delivered to receiver.
	Sent(receiver string, alerts int)
	// ChannelFailed counts a notification receiver gave up on.
	ChannelFailed(receiver string)
	// Dropped counts alerts or notifications dropped because a queue was
	// full.
	Dropped(what string)
}

// Options configure a Dispatcher. Only Receivers is required.
type Options struct {
	// Router routes alerts (default: NewRouter(DefaultRoute())).
	Router *Router
	// Receivers are the channels by name; every receiver the router uses
	// must be here.
	Receivers map[string]Notifier
	// Store keeps records, acks and silences (default: a MemoryStore).
	Store Store
	// Inhibit rules (nil: DefaultInhibitRules; empty non-nil: none).
	Inhibit []InhibitRule
	// Upstream returns the models upstream of a model (all ancestors);
	// used by inhibit rules with Upstream.
	Upstream func(model string) []string
	// Escalation holds contacts by team (from dataops.yml); firing
	// critical and high alerts unacknowledged for the team's After go to
	// its Secondary contact.
	Escalation recovery.EscalationPolicy
	// Retry is how a failing channel is retried before giving up
	// (default: 4 attempts, 1s doubling up to 30s, jitter 0.2).
	Retry recovery.Backoff
	// AttemptTimeout bounds one delivery attempt (default 30s).
	AttemptTimeout time.Duration
	// QueueSize bounds the alerts waiting to be grouped and the
	// notifications waiting per channel (default 4096).
	QueueSize int
	// Now is the clock (default time.Now; under testing/synctest the
	// bubble's virtual clock).
	Now func() time.Time
	// Logger receives delivery failures and the alerts they carried
	// (default slog.Default()).
	Logger  *slog.Logger
	Metrics Metrics
}

// Dispatcher groups, deduplicates, silences, inhibits, escalates and
// delivers alerts, in Alertmanager's model. Send never blocks: alerts go
// through a queue to one goroutine that owns the groups, and each channel
// has its own sender goroutine that retries with backoff, so a slow or
// broken channel delays neither the pipeline nor the other channels. A
// channel that gives up hands its notification to the other channels and
// to the log, and raises a channel_failed alert.
type Dispatcher struct {
	opts   Options
	router *Router
	store  Store
	log    *slog.Logger
	now    func() time.Time
	// Alerts wait in pending until the loop takes them all at once: a
	// burst of alerts wakes the loop once, not once per alert.
	pendMu   sync.Mutex
	pending  []Alert
	wake     chan struct{}
	flushReq chan chan struct{}
	ackReq   chan ackRequest
	stop     chan struct{}
	loopDone chan struct{}
	senders  map[string]*sender
	// healthy[r] is whether r's last delivery succeeded (absent: no
	// delivery yet); the first success after a failure, or in a process,
	// resolves channel_failed{receiver=r}.
	healthMu sync.Mutex
	healthy  map[string]bool
	inflight counter
	// Deliveries that succeeded, waiting for the loop to mark their
	// alerts notified.
	delivMu   sync.Mutex
	delivered []notified
	closed    atomic.Bool
	closeMu   sync.Mutex
	// abandon ends deliveries still retrying when Close gives up waiting.
	abandon       context.Context
	cancelAbandon context.CancelFunc

	// Owned by the loop goroutine.
	groups     map[string]*group
	known      map[string]*Record  // fingerprint → record, loaded from the store
	groupsOf   map[string][]string // fingerprint → keys of the groups it is in
	loaded     bool
	escalation map[string]time.Time // fingerprint → when to escalate
	// dirty are records whose Count and LastSeen changed without a save
	// (repeats of a firing alert), saved once per batch of alerts.
	dirty map[string]bool
}

type group struct {
	key      string
	route    Effective
	labels   map[string]string
	alerts   map[string]Alert
	notified map[string]bool // fingerprints firing at the last notification
	last     time.Time
	next     time.Time
}

type ackRequest struct {
	ctx   context.Context
	id    string
	by    string
	reply chan ackResult
}

type ackResult struct {
	rec Record
	err error
}

// notified says the alerts fps went out at at.
type notified struct {
	fps []string
	at  time.Time
}

// counter counts deliveries in flight; unlike a WaitGroup it may be
// incremented while somebody waits for it to reach zero.
type counter struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n is 0
}

func (c *counter) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.idle = make(chan struct{})
	}
	c.n++
}

func (c *counter) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		close(c.idle)
	}
}

// zero returns a channel closed once nothing is in flight (at the time of
// the call or later).
func (c *counter) zero() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return c.idle
}

type delivery struct {
	at      time.Time // when the notification was made
	n       Notification
	targets []string // receivers the notification went to in the first place
}

type sender struct {
	name  string
	n     Notifier
	queue chan delivery
	done  chan struct{}
}

// NewDispatcher checks the options and starts the dispatcher's
// goroutines; Close stops them.
func NewDispatcher(opts Options) (*Dispatcher, error) {
	if opts.Router == nil {
		r, err := NewRouter(nil)
		if err != nil {
			return nil, err
		}
		opts.Router = r
	}
	var missing []string
	for _, name := range opts.Router.Receivers() {
		if opts.Receivers[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("alert dispatcher: routes use receivers that are not configured: %s", strings.Join(missing, ", "))
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore()
	}
	if opts.Inhibit == nil {
		opts.Inhibit = DefaultInhibitRules()
	}
	if opts.Retry.Attempts == 0 {
		opts.Retry = recovery.Backoff{Attempts: 4, InitialDelay: time.Second, Multiplier: 2, MaxDelay: 30 * time.Second, Jitter: 0.2}
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 30 * time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Dispatcher{
		opts: opts, router: opts.Router, store: opts.Store, log: opts.Logger, now: opts.Now,
		wake: make(chan struct{}, 1), flushReq: make(chan chan struct{}), ackReq: make(chan ackRequest),
		stop: make(chan struct{}), loopDone: make(chan struct{}),
		senders: map[string]*sender{}, healthy: map[string]bool{}, groups: map[string]*group{},
		known: map[string]*Record{}, dirty: map[string]bool{}, escalation: map[string]time.Time{}, groupsOf: map[string][]string{},
	}
	d.abandon, d.cancelAbandon = context.WithCancel(context.Background())
	for name, n := range opts.Receivers {
		s := &sender{name: name, n: n, queue: make(chan delivery, opts.QueueSize), done: make(chan struct{})}
		d.senders[name] = s
		go d.sendLoop(s)
	}
	go d.loop()
	return d, nil
}

// Send queues a for grouping and returns at once. It fills in StartsAt and
// a missing Severity (DefaultSeverity); an invalid alert is an error; when
// the queue is full the alert is dropped, logged and counted.
func (d *Dispatcher) Send(_ context.Context, a Alert) error {
	if a.Severity == "" {
		a.Severity = DefaultSeverity(a.Type)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if d.closed.Load() {
		return errors.New("alert dispatcher is closed")
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = d.now()
	}
	a = a.clone()
	d.pendMu.Lock()
	if len(d.pending) >= d.opts.QueueSize {
		d.pendMu.Unlock()
		d.dropped("alert")
		d.log.Error("alert queue full: alert dropped", "type", a.Type, "title", a.Title)
		return errors.New("alert queue full")
	}
	d.pending = append(d.pending, a)
	d.pendMu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default: // the loop is awake already
	}
	return nil
}

// takePending returns the queued alerts and empties the queue.
func (d *Dispatcher) takePending() []Alert {
	d.pendMu.Lock()
	defer d.pendMu.Unlock()
	p := d.pending
	d.pending = nil
	return p
}

// Flush notifies every group now, as if its timer had fired (waiting
// alerts are not held back for group_wait), and waits until the channels
// have delivered or given up, or ctx ends. A one-shot command calls it (or
// Close) before it exits.
func (d *Dispatcher) Flush(ctx context.Context) error {
	if d.closed.Load() {
		return errors.New("alert dispatcher is closed")
	}
	// Two rounds: the first may raise channel_failed alerts.
	for range 2 {
		done := make(chan struct{})
		select {
		case d.flushReq <- done:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := d.waitInflight(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dispatcher) waitInflight(ctx context.Context) error {
	select {
	case <-d.inflight.zero():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes (see Flush) and stops the dispatcher. Notifications still
// undelivered when ctx ends are abandoned and logged.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	if d.closed.Load() {
		return nil
	}
	err := d.Flush(ctx)
	d.closed.Store(true)
	if err != nil {
		d.cancelAbandon()
	}
	close(d.stop)
	<-d.loopDone
	for _, s := range d.senders {
		<-s.done
	}
	d.cancelAbandon()
	// The loop has stopped: mark what the last deliveries carried. What
	// was abandoned stays not notified, for the next process to send.
	d.markNotified(context.Background())
	return err
}

// Ack acknowledges the alert with the fingerprint id: it will not be
// escalated. The ack goes through the dispatcher's loop, so that the
// dispatcher's own record of the alert has it too and later saves keep it.
func (d *Dispatcher) Ack(ctx context.Context, id, by string) (Record, error) {
	if !d.closed.Load() {
		req := ackRequest{ctx: ctx, id: id, by: by, reply: make(chan ackResult, 1)}
		select {
		case d.ackReq <- req:
			select {
			case res := <-req.reply:
				return res.rec, res.err
			case <-ctx.Done():
				return Record{}, ctx.Err()
			}
		case <-d.loopDone:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
	return d.store.Ack(ctx, id, by, d.now())
}

// ack runs in the loop: it stores the ack and updates the known record.
func (d *Dispatcher) ack(req ackRequest) {
	rec, err := d.store.Ack(req.ctx, req.id, req.by, d.now())
	if err == nil {
		if k := d.known[req.id]; k != nil {
			k.AckedBy, k.AckedAt = rec.AckedBy, rec.AckedAt
		}
		delete(d.escalation, req.id)
	}
	req.reply <- ackResult{rec: rec, err: err}
}

// Silence stores a silence.
func (d *Dispatcher) Silence(ctx context.Context, s Silence) (Silence, error) {
	return d.store.AddSilence(ctx, s)
}

// Store returns the dispatcher's store.
func (d *Dispatcher) Store() Store { return d.store }

func (d *Dispatcher) dropped(what string) {
	if d.opts.Metrics != nil {
		d.opts.Metrics.Dropped(what)
	}
}

// loop owns the groups.
func (d *Dispatcher) loop() {
	defer close(d.loopDone)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctx := context.Background()
	// Open alerts of earlier processes: to resolve them, and to escalate
	// them even if nothing new arrives.
	d.load(ctx)
	for {
		wake, ok := d.nextWake()
		if ok {
			timer.Reset(max(wake.Sub(d.now()), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-d.wake:
			d.markNotified(ctx)
			for _, a := range d.takePending() {
				d.ingest(ctx, a)
			}
			d.saveDirty(ctx)
		case <-timer.C:
			d.tick(ctx, false)
		case done := <-d.flushReq:
			d.markNotified(ctx)
			for _, a := range d.takePending() {
				d.ingest(ctx, a)
			}
			d.saveDirty(ctx)
			d.tick(ctx, true)
			close(done)
		case req := <-d.ackReq:
			d.ack(req)
		case <-d.stop:
			return
		}
	}
}

func (d *Dispatcher) nextWake() (time.Time, bool) {
	var wake time.Time
	for _, g := range d.groups {
		if wake.IsZero() || g.next.Before(wake) {
			wake = g.next
		}
	}
	for _, t := range d.escalation {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	return wake, !wake.IsZero()
}

// load reads the open alerts of earlier processes once.
func (d *Dispatcher) load(ctx context.Context) {
	if d.loaded {
		return
	}
	d.loaded = true
	recs, err := d.store.Alerts(ctx, Filter{Open: true})
	if err != nil {
		d.log.Error("alert store: loading open alerts failed", "err", err)
		return
	}
	for i := range recs {
		r := recs[i]
		d.known[r.ID] = &r
		d.scheduleEscalation(&r)
	}
}

func (d *Dispatcher) ingest(ctx context.Context, a Alert) {
	d.load(ctx)
	now := d.now()
	fp := a.Fingerprint()
	rec := d.known[fp]
	rerouted := false // a firing alert whose severity changed: news
	if a.Resolved() {
		if rec == nil || !rec.Open() {
			return // nothing fired: nothing to resolve
		}
		a.StartsAt = rec.Alert.StartsAt
		rec.Alert = a
		rec.LastSeen = now
		d.save(ctx, rec)
		delete(d.escalation, fp)
	} else {
		if rec == nil || !rec.Open() {
			rec = &Record{ID: fp, Alert: a, FirstSeen: a.StartsAt, LastSeen: now, Count: 1}
			d.known[fp] = rec
			d.save(ctx, rec)
			d.scheduleEscalation(rec)
		} else {
			prev := rec.Alert.Severity
			a.StartsAt = rec.Alert.StartsAt
			rec.Alert = a
			rec.LastSeen = now
			rec.Count++
			if a.Severity == prev && d.refresh(fp, a) {
				d.dirty[fp] = true // saved with the rest of the batch
				return             // the same firing alert again: its groups have it
			}
			if a.Severity != prev {
				// A changed severity is news: the groups notify it again,
				// and an alert rising to high or above escalates.
				rerouted = true
				for _, k := range d.groupsOf[fp] {
					if g := d.groups[k]; g != nil {
						delete(g.alerts, fp)
						delete(g.notified, fp)
						if len(g.alerts) == 0 {
							delete(d.groups, k)
						}
					}
				}
				if a.Severity.Rank() >= SeverityHigh.Rank() && prev.Rank() < SeverityHigh.Rank() {
					d.scheduleEscalationFrom(rec, now)
				}
				d.save(ctx, rec)
			}
		}
	}
	d.groupsOf[fp] = d.groupsOf[fp][:0]
	for _, route := range d.router.Match(a) {
		key, labels := route.GroupKey(a)
		g := d.groups[key]
		if g == nil {
			if a.Resolved() && (rec.LastNotified.IsZero() || !route.SendResolved) {
				continue
			}
			g = &group{key: key, route: route, labels: labels, alerts: map[string]Alert{}, notified: map[string]bool{}, next: now.Add(route.GroupWait)}
			d.groups[key] = g
		}
		if !rerouted && !rec.LastNotified.IsZero() && !g.notified[fp] && g.last.IsZero() {
			// Notified by an earlier process (or group): not news.
			g.notified[fp] = true
			g.last = rec.LastNotified
		}
		g.alerts[fp] = a
		d.groupsOf[fp] = append(d.groupsOf[fp], key)
	}
}

// refresh replaces a firing alert in the groups it is in already, without
// routing it again; false when one of them is gone.
func (d *Dispatcher) refresh(fp string, a Alert) bool {
	keys := d.groupsOf[fp]
	if len(keys) == 0 {
		return false
	}
	for _, k := range keys {
		g := d.groups[k]
		if g == nil {
			return false
		}
		if _, ok := g.alerts[fp]; !ok {
			return false
		}
	}
	for _, k := range keys {
		d.groups[k].alerts[fp] = a
	}
	return true
}

// markNotified sets LastNotified of the alerts of successful deliveries
// and saves them (loop only).
func (d *Dispatcher) markNotified(ctx context.Context) {
	d.delivMu.Lock()
	list := d.delivered
	d.delivered = nil
	d.delivMu.Unlock()
	for _, n := range list {
		for _, fp := range n.fps {
			rec := d.known[fp]
			if rec == nil {
				continue
			}
			if n.at.After(rec.LastNotified) {
				rec.LastNotified = n.at
				d.save(ctx, rec)
			}
		}
	}
}

// saveDirty saves the records repeats changed (loop only).
func (d *Dispatcher) saveDirty(ctx context.Context) {
	for _, fp := range slices.Sorted(maps.Keys(d.dirty)) {
		if rec := d.known[fp]; rec != nil {
			d.save(ctx, rec)
		}
	}
	clear(d.dirty)
}

func (d *Dispatcher) save(ctx context.Context, rec *Record) {
	if err := d.store.SaveAlert(ctx, *rec); err != nil {
		d.log.Error("alert store: saving alert failed", "alert", rec.ID, "err", err)
	}
}

// tick notifies the groups that are due (all of them when force) and
// escalates what is due.
func (d *Dispatcher) tick(ctx context.Context, force bool) {
	now := d.now()
	var silences []Silence
	if len(d.groups) > 0 {
		var err error
		if silences, err = d.store.Silences(ctx); err != nil {
			d.log.Error("alert store: reading silences failed; notifying without them", "err", err)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(d.groups)) {
		g := d.groups[key]
		if force || !now.Before(g.next) {
			d.flush(ctx, g, now, silences)
		}
	}
	d.escalate(ctx, now)
}

func (d *Dispatcher) muted(a Alert, now time.Time, silences []Silence) bool {
	for _, s := range silences {
		if s.Mutes(a, now) {
			return true
		}
	}
	if a.Resolved() {
		return false
	}
	return d.inhibited(a)
}

func (d *Dispatcher) inhibited(t Alert) bool {
	tl := t.AllLabels()
	for _, rule := range d.opts.Inhibit {
		if !rule.Target.Matches(tl) {
			continue
		}
		var upstream []string
		for _, rec := range d.known {
			s := rec.Alert
			if s.Resolved() || rec.ID == t.Fingerprint() {
				continue
			}
			sl := s.AllLabels()
			if !rule.Source.Matches(sl) {
				continue
			}
			equal := true
			for _, l := range rule.Equal {
				if sl[l] != tl[l] {
					equal = false
					break
				}
			}
			if !equal {
				continue
			}
			if rule.Upstream {
				sm, tm := sl[LabelModel], tl[LabelModel]
				if sm == "" || tm == "" {
					continue
				}
				if sm != tm {
					if upstream == nil && d.opts.Upstream != nil {
						upstream = d.opts.Upstream(tm)
					}
					if !slices.Contains(upstream, sm) {
						continue
					}
				}
			}
			return true
		}
	}
	return false
}

func (d *Dispatcher) flush(ctx context.Context, g *group, now time.Time, silences []Silence) {
	g.next = now.Add(g.route.GroupInterval)
	var firing, resolved []Alert
	for _, fp := range slices.Sorted(maps.Keys(g.alerts)) {
		a := g.alerts[fp]
		if d.muted(a, now, silences) {
			continue
		}
		if a.Resolved() {
			if g.notified[fp] {
				resolved = append(resolved, a)
			}
			continue
		}
		firing = append(firing, a)
	}
	changed := false
	for _, a := range firing {
		if !g.notified[a.Fingerprint()] {
			changed = true
		}
	}
	if g.route.SendResolved && len(resolved) > 0 {
		changed = true
	}
	if len(firing) > 0 && !g.last.IsZero() && now.Sub(g.last) >= g.route.RepeatInterval {
		changed = true
	}
	if changed {
		alerts := slices.Clone(firing)
		if g.route.SendResolved {
			alerts = append(alerts, resolved...)
		}
		slices.SortStableFunc(alerts, func(a, b Alert) int { return b.Severity.Rank() - a.Severity.Rank() })
		n := Notification{GroupKey: g.key, GroupLabels: maps.Clone(g.labels), Alerts: alerts, Contacts: d.contacts(alerts, false)}
		d.deliver(n, d.receiversFor(g.route, alerts))
		g.last = now
		g.notified = map[string]bool{}
		// LastNotified is set once a channel delivered (markNotified).
		for _, a := range firing {
			g.notified[a.Fingerprint()] = true
		}
	}
	// Resolved alerts leave the group once handled; so do alerts whose
	// records resolved.
	for fp, a := range g.alerts {
		if a.Resolved() {
			delete(g.alerts, fp)
			delete(g.notified, fp)
			if rec := d.known[fp]; rec != nil && !rec.Open() {
				delete(d.known, fp)
				delete(d.groupsOf, fp)
			}
		}
	}
	if len(g.alerts) == 0 {
		delete(d.groups, g.key)
	}
}

// receiversFor drops, for channel_failed alerts, the channel that failed.
func (d *Dispatcher) receiversFor(route Effective, alerts []Alert) []string {
	var out []string
	for _, r := range route.Receivers {
		skip := false
		for _, a := range alerts {
			if a.Type == TypeChannelFailed && a.Labels[LabelReceiver] == r {
				skip = true
			}
		}
		if !skip {
			out = append(out, r)
		}
	}
	return out
}

func (d *Dispatcher) contacts(alerts []Alert, secondary bool) []string {
	set := map[string]bool{}
	for _, a := range alerts {
		team := a.Labels[LabelTeam]
		e, ok := d.opts.Escalation[team]
		if !ok {
			if e, ok = d.opts.Escalation[recovery.DefaultTeam]; !ok {
				continue
			}
		}
		c := e.Primary
		if secondary && e.Secondary != "" {
			c = e.Secondary
		}
		if c != "" {
			set[c] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (d *Dispatcher) escalationFor(team string) (recovery.Escalation, bool) {
	e, ok := d.opts.Escalation[team]
	if !ok {
		e, ok = d.opts.Escalation[recovery.DefaultTeam]
	}
	if !ok || e.Secondary == "" {
		return e, false
	}
	if e.After <= 0 {
		e.After = recovery.DefaultEscalationAfter
	}
	return e, true
}

func (d *Dispatcher) scheduleEscalation(r *Record) { d.scheduleEscalationFrom(r, r.FirstSeen) }

// scheduleEscalationFrom schedules the escalation of r for After past
// from.
func (d *Dispatcher) scheduleEscalationFrom(r *Record, from time.Time) {
	if !r.Open() || r.Acknowledged() || !r.EscalatedAt.IsZero() || r.Alert.Severity.Rank() < SeverityHigh.Rank() {
		return
	}
	e, ok := d.escalationFor(r.Alert.Labels[LabelTeam])
	if !ok {
		return
	}
	d.escalation[r.ID] = from.Add(e.After)
}

// escalateRecheck is how long a muted alert's escalation waits before it
// is looked at again (or until its silence ends, when later).
const escalateRecheck = time.Minute

// escalate sends due, unacknowledged alerts to the secondary contacts;
// the escalation of an alert muted by a silence or an inhibition waits.
func (d *Dispatcher) escalate(ctx context.Context, now time.Time) {
	var silences []Silence
	loaded := false
	for _, fp := range slices.Sorted(maps.Keys(d.escalation)) {
		if now.Before(d.escalation[fp]) {
			continue
		}
		delete(d.escalation, fp)
		rec := d.known[fp]
		if rec == nil || !rec.Open() || rec.Alert.Severity.Rank() < SeverityHigh.Rank() {
			continue // resolved, or fell back below high
		}
		if !loaded {
			loaded = true
			var err error
			if silences, err = d.store.Silences(ctx); err != nil {
				d.log.Error("alert store: reading silences failed; escalating without them", "err", err)
			}
		}
		if d.muted(rec.Alert, now, silences) {
			next := now.Add(escalateRecheck)
			for _, s := range silences {
				if s.Mutes(rec.Alert, now) && s.EndsAt.After(next) {
					next = s.EndsAt
				}
			}
			d.escalation[fp] = next
			continue
		}
		// Acks come from other processes too: ask the store.
		stored, err := d.store.Alert(ctx, fp)
		if err == nil && stored.Acknowledged() {
			rec.AckedBy, rec.AckedAt = stored.AckedBy, stored.AckedAt
			continue
		}
		rec.EscalatedAt = now
		if err == nil {
			stored.EscalatedAt = now
			stored.Alert, stored.LastSeen, stored.Count, stored.LastNotified = rec.Alert, rec.LastSeen, rec.Count, rec.LastNotified
			if err := d.store.SaveAlert(ctx, stored); err != nil {
				d.log.Error("alert store: saving escalation failed", "alert", fp, "err", err)
			}
		} else {
			d.save(ctx, rec)
		}
		alerts := []Alert{rec.Alert}
		set := map[string]bool{}
		for _, route := range d.router.Match(rec.Alert) {
			for _, r := range route.Receivers {
				set[r] = true
			}
		}
		n := Notification{GroupKey: "escalation{" + fp + "}", Alerts: alerts, Contacts: d.contacts(alerts, true), Escalated: true}
		d.deliver(n, slices.Sorted(maps.Keys(set)))
	}
}

// deliver queues n for each receiver.
func (d *Dispatcher) deliver(n Notification, receivers []string) {
	for _, r := range receivers {
		d.enqueue(r, n, receivers)
	}
}

func (d *Dispatcher) enqueue(receiver string, n Notification, targets []string) {
	s := d.senders[receiver]
	if s == nil {
		return
	}
	n.Receiver = receiver
	d.inflight.add()
	select {
	case s.queue <- delivery{at: d.now(), n: n, targets: targets}:
	default:
		d.inflight.done()
		d.dropped("notification")
		d.log.Error("alert channel queue full: notification dropped", "receiver", receiver, "title", n.Title())
	}
}

// sendLoop delivers one channel's notifications in order, retrying.
func (d *Dispatcher) sendLoop(s *sender) {
	defer close(s.done)
	for {
		select {
		case del := <-s.queue:
			d.attempt(s, del)
			d.inflight.done()
		case <-d.loopDone:
			// Drain what is left without waiting for new work.
			for {
				select {
				case del := <-s.queue:
					d.attempt(s, del)
					d.inflight.done()
				default:
					return
				}
			}
		}
	}
}

// RetryAfter is implemented by errors of channels that were told when to
// retry (Slack's 429 Retry-After); the dispatcher waits at least that long.
type RetryAfter interface {
	RetryAfter() time.Duration
}

func (d *Dispatcher) attempt(s *sender, del delivery) {
	b := d.opts.Retry
	var err error
	for attempt := 1; ; attempt++ {
		if d.abandon.Err() != nil {
			err = errors.Join(err, errors.New("dispatcher closed before delivery"))
			break
		}
		ctx, cancel := context.WithTimeout(d.abandon, d.opts.AttemptTimeout)
		err = s.n.Notify(ctx, del.n)
		cancel()
		if err == nil {
			if d.opts.Metrics != nil {
				d.opts.Metrics.Sent(s.name, len(del.n.Alerts))
			}
			d.channelOK(s.name)
			fps := make([]string, 0, len(del.n.Alerts))
			for _, a := range del.n.Alerts {
				fps = append(fps, a.Fingerprint())
			}
			d.delivMu.Lock()
			d.delivered = append(d.delivered, notified{fps: fps, at: del.at})
			d.delivMu.Unlock()
			select {
			case d.wake <- struct{}{}:
			default:
			}
			return
		}
		if attempt >= max(b.Attempts, 1) {
			break
		}
		delay := b.Delay(attempt, rand.Float64())
		var ra RetryAfter
		if errors.As(err, &ra) && ra.RetryAfter() > delay {
			delay = ra.RetryAfter()
		}
		d.log.Warn("alert channel failed; retrying", "receiver", s.name, "attempt", attempt, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-d.abandon.Done():
			t.Stop()
		}
	}
	d.giveUp(s.name, del, err)
}

// channelOK resolves channel_failed{receiver} on the first success of the
// receiver after a failure (or in this process: an earlier one may have
// left it open; resolving an alert that is not open does nothing).
func (d *Dispatcher) channelOK(receiver string) {
	d.healthMu.Lock()
	was := d.healthy[receiver]
	d.healthy[receiver] = true
	d.healthMu.Unlock()
	if was || d.closed.Load() {
		return
	}
	now := d.now()
	_ = d.Send(context.Background(), Alert{
		Type: TypeChannelFailed, Severity: SeverityHigh,
		Title:    fmt.Sprintf("Alert channel %s is failing", receiver),
		Body:     fmt.Sprintf("%s delivered a notification again.", receiver),
		Labels:   map[string]string{LabelReceiver: receiver},
		StartsAt: now, EndsAt: now,
	})
}

// giveUp logs the notification, hands it to the channels it did not go to,
// and raises a channel_failed alert.
func (d *Dispatcher) giveUp(receiver string, del delivery, err error) {
	if d.opts.Metrics != nil {
		d.opts.Metrics.ChannelFailed(receiver)
	}
	d.healthMu.Lock()
	d.healthy[receiver] = false
	d.healthMu.Unlock()
	d.log.Error("alert channel gave up", "receiver", receiver, "attempts", max(d.opts.Retry.Attempts, 1), "err", err, "title", del.n.Title())
	_ = Slog{Logger: d.log}.Notify(context.Background(), del.n)
	var others []string
	for name := range d.senders {
		if name != receiver && !slices.Contains(del.targets, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	if d.abandon.Err() != nil {
		// Close gave up waiting: the other channels' senders are stopping.
		// The alerts stay not notified (LastNotified unchanged) unless a
		// channel delivered them, so the next process sends them.
		others = nil
	}
	for _, name := range others {
		d.enqueue(name, del.n, append(slices.Clone(del.targets), others...))
	}
	isFailure := false
	for _, a := range del.n.Alerts {
		if a.Type == TypeChannelFailed {
			isFailure = true
		}
	}
	if isFailure || d.closed.Load() {
		return // no alert about an alert about a channel
	}
	msg := err.Error()
	_ = d.Send(context.Background(), Alert{
		Type:     TypeChannelFailed,
		Severity: SeverityHigh,
		Title:    fmt.Sprintf("Alert channel %s is failing", receiver),
		Body:     fmt.Sprintf("Delivering %q to %s failed after %d attempts: %s. The notification went to the other channels and the log.", del.n.Title(), receiver, max(d.opts.Retry.Attempts, 1), msg),
		Labels:   map[string]string{LabelReceiver: receiver},
		Runbook:  "Check the channel's settings (webhook URL, token, SMTP host and credentials in the environment) and the service's status; `vyaparbazaar alerts list` shows what was missed.",
	})
}
