package recovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Policy is the default RecoveryPolicy of dataops: it retries transient
// failures and timeouts with an exponential, capped and jittered backoff
// (DefaultBackoff: 3 attempts, 5s then 10s, at most a minute), never
// retries anything else, and, when a critical node gives up, keeps serving
// its last good version (Fallback) instead of failing.
//
// The zero Policy is ready to use, and a Policy is safe for concurrent use
// as long as it is not modified.
type Policy struct {
	// Default is the schedule of nodes without a more specific one; its
	// unset fields take DefaultBackoff's.
	Default Backoff
	// ByLayer holds schedules by layer (e.g. "staging").
	ByLayer map[string]Backoff
	// ByNode holds schedules by node name.
	ByNode map[string]Backoff
	// RetryOn lists the classes retried; nil means transient failures,
	// timeouts and missing sources (Class.Retryable), an empty non-nil
	// slice retries nothing.
	// Cancelled runs are never retried.
	RetryOn []Class
	// DisableFallback turns off the fallback of critical nodes: by default,
	// a Critical node that gives up (attempts exhausted, or a class not
	// retried) is decided Fallback, serving its last good version, instead
	// of Fail.
	DisableFallback bool
	// Rand returns numbers in [0, 1) that drive the jitter; nil uses
	// math/rand/v2. Tests set it to func() float64 { return 0.5 } for exact
	// delays.
	Rand func() float64
}

var _ RecoveryPolicy = (*Policy)(nil)

// BackoffFor returns the schedule of f's node. The schedules that apply
// are merged field by field, the most specific first: p.ByNode[f.Node],
// then f.Backoff (the node's own configuration), then p.ByLayer[f.Layer],
// then p.Default, then DefaultBackoff; a field set in a more specific one
// wins, an unset field falls through to the next. The result is complete.
func (p *Policy) BackoffFor(f Failure) Backoff {
	if p == nil {
		return DefaultBackoff
	}
	b := p.Default.WithDefaults()
	if l, ok := p.ByLayer[f.Layer]; ok && f.Layer != "" {
		b = l.fill(b)
	}
	if f.Backoff != nil {
		b = f.Backoff.fill(b)
	}
	if n, ok := p.ByNode[f.Node]; ok && f.Node != "" {
		b = n.fill(b)
	}
	return b
}

// retries reports whether the policy retries class c.
func (p *Policy) retries(c Class) bool {
	if c == ClassCancelled {
		return false
	}
	if p.RetryOn == nil {
		return c.Retryable()
	}
	return slices.Contains(p.RetryOn, c)
}

func (p *Policy) rand() float64 {
	if p.Rand != nil {
		return p.Rand()
	}
	return rand.Float64()
}

// Decide answers one failed attempt of a node.
//
// The failure's class is f.Class, or Classify(f.Err) when empty. A
// cancelled run (ClassCancelled, or ctx done) is decided Fail: it is
// neither retried nor falls back, whatever RetryOn says. A class in RetryOn is retried while
// f.Attempt is below the node's Attempts (see BackoffFor), after
// Backoff.Delay(f.Attempt, Rand()), unless that delay would pass ctx's
// deadline. Otherwise the node gives up: Fallback when it is Critical (and
// DisableFallback is false), Fail else. Reasons name the class, the DuckDB
// error type when there is one, and the attempts, e.g.
// "transient failure (IO Error): retry 1 of 2 in 5.2s" or
// "permanent failure (Binder Error): not retried".
func (p *Policy) Decide(ctx context.Context, f Failure) Decision {
	if p == nil {
		p = &Policy{}
	}
	class, detail := classify(f.Err)
	if f.Class != "" && f.Class != class {
		class, detail = f.Class, duckdbType(errText(f.Err))
	}
	if class == "" {
		class = ClassPermanent
	}
	if class == ClassCancelled || (ctx != nil && ctx.Err() != nil) {
		return Decision{Action: Fail, Reason: "run cancelled: not retried"}
	}
	what := class.label()
	if class == ClassTimeout {
		// The error type inside a timeout (an interrupt, usually) is only
		// its consequence.
		detail = ""
	}
	if detail != "" {
		what += " (" + detail + ")"
	}

	attempt := max(f.Attempt, 1)
	var giveUp string
	if f.Final {
		giveUp = what + ": the run has no time left for another attempt"
	} else if p.retries(class) {
		b := p.BackoffFor(f)
		if attempt < b.Attempts {
			delay := b.Delay(attempt, p.rand())
			retries := b.Attempts - 1
			if ctx != nil {
				if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
					giveUp = fmt.Sprintf("%s: retry %d of %d in %s would pass the run's deadline", what, attempt, retries, formatDelay(delay))
				}
			}
			if giveUp == "" {
				return Decision{Action: Retry, Delay: delay,
					Reason: fmt.Sprintf("%s: retry %d of %d in %s", what, attempt, retries, formatDelay(delay))}
			}
		} else if b.Attempts <= 1 {
			giveUp = what + ": not retried (attempts: 1)"
		} else {
			giveUp = fmt.Sprintf("%s: gave up after %d attempts", what, attempt)
		}
	} else {
		giveUp = what + ": not retried"
	}
	// Only a model or a source keeps a previous version to serve; a failed
	// test's model has already published its new data.
	if f.Critical && !p.DisableFallback && (f.Kind == "" || f.Kind == "model" || f.Kind == "source") {
		kind := f.Kind
		if kind == "" {
			kind = "node"
		}
		return Decision{Action: Fallback, Reason: "critical " + kind + ": serving its last good version; " + giveUp}
	}
	return Decision{Action: Fail, Reason: giveUp}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// formatDelay rounds a delay for humans: 5.2s, 850ms, 1m30s.
func formatDelay(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// NewPolicy builds a Policy from a configuration (see ParseConfig for its
// YAML form). Schedules are validated once completed with the defaults;
// RetryOn names must be known classes other than "cancelled"; a nil
// Fallback keeps the fallback of critical nodes on.
func NewPolicy(cfg Config) (*Policy, error) {
	p, err := cfg.policy(func(...string) int { return 0 })
	if err != nil {
		return nil, err
	}
	return p, nil
}

// policy builds the Policy, locating errors with lineOf (0: unknown).
func (cfg Config) policy(lineOf func(path ...string) int) (*Policy, error) {
	var errs []error
	fail := func(err error, path ...string) {
		var fe *fieldError
		msgs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			msgs = j.Unwrap()
		}
		for _, e := range msgs {
			full := path
			msg := e.Error()
			if errors.As(e, &fe) {
				full = append(slices.Clone(path), fe.key)
				msg = fe.msg
			}
			errs = append(errs, &ConfigError{Line: lineOf(full...), Path: joinPath(full), Msg: msg})
		}
	}
	p := &Policy{}
	def, err := ParseBackoff(cfg.Default)
	if err != nil {
		fail(err, "retries", "default")
	} else if err := def.WithDefaults().Validate(); err != nil {
		fail(err, "retries", "default")
	}
	p.Default = def
	parseAll := func(section string, in map[string]map[string]any) map[string]Backoff {
		if in == nil {
			return nil
		}
		out := make(map[string]Backoff, len(in))
		for _, name := range sortedKeys(in) {
			b, err := ParseBackoff(in[name])
			if err != nil {
				fail(err, "retries", section, name)
				continue
			}
			if err := b.fill(def).WithDefaults().Validate(); err != nil {
				fail(err, "retries", section, name)
				continue
			}
			out[name] = b
		}
		return out
	}
	p.ByLayer = parseAll("layers", cfg.Layers)
	p.ByNode = parseAll("nodes", cfg.Nodes)
	if cfg.RetryOn != nil {
		p.RetryOn = []Class{}
		for i, s := range cfg.RetryOn {
			c, err := ParseClass(s)
			if err == nil && c == ClassCancelled {
				err = errors.New("cancelled runs are never retried")
			}
			if err != nil {
				fail(err, "retries", "retry_on", fmt.Sprint(i))
				continue
			}
			if !slices.Contains(p.RetryOn, c) {
				p.RetryOn = append(p.RetryOn, c)
			}
		}
	}
	if cfg.Fallback != nil {
		p.DisableFallback = !*cfg.Fallback
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
