package alert

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MatchOp compares a label with a value.
type MatchOp string

// The match operators, as in Alertmanager.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher tests one label of an alert. A missing label has the value "".
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	re    *regexp.Regexp
}

// NewMatcher returns a matcher; regular expressions are anchored.
func NewMatcher(name string, op MatchOp, value string) (Matcher, error) {
	m := Matcher{Name: name, Op: op, Value: value}
	if strings.TrimSpace(name) == "" {
		return m, fmt.Errorf("matcher %s%s%q: no label name", name, op, value)
	}
	switch op {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return m, fmt.Errorf("matcher %s%s%q: %w", name, op, value, err)
		}
		m.re = re
	default:
		return m, fmt.Errorf("matcher %s: unknown operator %q (want =, !=, =~ or !~)", name, op)
	}
	return m, nil
}

// MustMatcher is NewMatcher that panics on error, for literals in Go code.
func MustMatcher(name string, op MatchOp, value string) Matcher {
	m, err := NewMatcher(name, op, value)
	if err != nil {
		panic(err)
	}
	return m
}

// Eq is the matcher name=value.
func Eq(name, value string) Matcher { return MustMatcher(name, MatchEqual, value) }

// ParseMatcher parses "name=value", "name!=value", "name=~re" or
// "name!~re" (the value may be double-quoted).
func ParseMatcher(s string) (Matcher, error) {
	for _, op := range []MatchOp{MatchNotRegexp, MatchRegexp, MatchNotEqual, MatchEqual} {
		if i := strings.Index(s, string(op)); i > 0 {
			name := strings.TrimSpace(s[:i])
			value := strings.TrimSpace(s[i+len(op):])
			if uq, err := strconv.Unquote(value); err == nil {
				value = uq
			}
			// "a!=b" also contains "=": the longer operators are tried first,
			// but only accept an operator starting right after the name.
			if strings.ContainsAny(name, "=!~") {
				continue
			}
			return NewMatcher(name, op, value)
		}
	}
	return Matcher{}, fmt.Errorf("matcher %q: want name=value, name!=value, name=~regexp or name!~regexp", s)
}

// Matches reports whether the label of a passes.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re != nil && m.re.MatchString(v)
	case MatchNotRegexp:
		return m.re != nil && !m.re.MatchString(v)
	}
	return false
}

// String renders the matcher as ParseMatcher reads it.
func (m Matcher) String() string { return m.Name + string(m.Op) + strconv.Quote(m.Value) }

// Matchers all have to match.
type Matchers []Matcher

// Matches reports whether every matcher passes (true for none).
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// Route is a node of the routing tree, as in Alertmanager: an alert goes
// to the first child whose matchers pass (and to later ones while children
// say Continue), else to the route itself. Zero settings are inherited
// from the parent.
type Route struct {
	// Name labels the route in logs; optional.
	Name     string
	Matchers Matchers
	// Receivers are the channels notified (names of Dispatcher receivers).
	Receivers []string
	// GroupBy are the labels whose values split alerts into groups; nil
	// inherits, an empty non-nil list groups everything together.
	GroupBy []string
	// GroupWait is how long a new group waits for more alerts before its
	// first notification; GroupInterval how long before notifying about
	// changes to a group; RepeatInterval how long before repeating an
	// unchanged notification of firing alerts.
	GroupWait, GroupInterval, RepeatInterval time.Duration
	// SendResolved notifies when alerts clear; nil inherits.
	SendResolved *bool
	// Continue lets the following siblings match too.
	Continue bool
	Routes   []*Route
}

// The default timing of the root route.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// The receiver names of the default routing table.
const (
	ReceiverSlack = "slack"
	ReceiverEmail = "email"
)

// DefaultRoute is the seed strategy's table: failed run → Slack + email
// (high); test failure → Slack (medium); performance → Slack (low);
// freshness → Slack + email (high); resource → Slack + email (critical).
// Channel failures and missed deadlines go to Slack + email, anomalies to
// Slack. Alerts are grouped by type, environment and model, wait 30s,
// re-notify changes after 5m, repeat after 4h, and resolved alerts are
// sent.
func DefaultRoute() *Route {
	yes := true
	both := []string{ReceiverSlack, ReceiverEmail}
	slack := []string{ReceiverSlack}
	route := func(t Type, r []string) *Route {
		return &Route{Name: string(t), Matchers: Matchers{Eq(LabelType, string(t))}, Receivers: r}
	}
	return &Route{
		Name:           "root",
		Receivers:      both,
		GroupBy:        []string{LabelType, LabelEnvironment, LabelModel},
		GroupWait:      DefaultGroupWait,
		GroupInterval:  DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval,
		SendResolved:   &yes,
		Routes: []*Route{
			route(TypeRunFailed, both),
			route(TypeTestFailed, slack),
			route(TypePerformance, slack),
			route(TypeFreshness, both),
			route(TypeResource, both),
			route(TypeChannelFailed, both),
			route(TypeDeadlineMissed, both),
			route(TypeAnomaly, slack),
		},
	}
}

// Effective is a matched route with inherited settings filled in.
type Effective struct {
	// ID locates the route in the tree ("0", "0.2", ...); part of group keys.
	ID             string
	Name           string
	Receivers      []string
	GroupBy        []string
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	SendResolved   bool
}

// GroupKey returns the key and the group labels of a in this route.
func (e Effective) GroupKey(a Alert) (string, map[string]string) {
	labels := a.AllLabels()
	gl := make(map[string]string, len(e.GroupBy))
	var b strings.Builder
	b.WriteString(e.ID + "{")
	for i, k := range e.GroupBy {
		if i > 0 {
			b.WriteByte(',')
		}
		gl[k] = labels[k]
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return b.String(), gl
}

// Router matches alerts against a routing tree.
type Router struct {
	root *Route
}

// NewRouter checks the tree and returns its router; nil gives
// DefaultRoute. Every route must reach at least one receiver, and the
// root's timings must be positive once defaults are applied.
func NewRouter(root *Route) (*Router, error) {
	if root == nil {
		root = DefaultRoute()
	}
	r := &Router{root: root}
	var errs []string
	r.walk(root, Effective{ID: "0", GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval, SendResolved: true}, func(e Effective) {
		if len(e.Receivers) == 0 {
			errs = append(errs, fmt.Sprintf("route %s (%s): no receivers", e.ID, e.Name))
		}
		if e.GroupInterval <= 0 || e.RepeatInterval <= 0 || e.GroupWait < 0 {
			errs = append(errs, fmt.Sprintf("route %s (%s): group_interval and repeat_interval must be positive, group_wait not negative", e.ID, e.Name))
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("alert routes: %s", strings.Join(errs, "; "))
	}
	return r, nil
}

// Receivers returns every receiver name used by the tree, sorted.
func (r *Router) Receivers() []string {
	set := map[string]bool{}
	r.walk(r.root, Effective{ID: "0"}, func(e Effective) {
		for _, n := range e.Receivers {
			set[n] = true
		}
	})
	return slices.Sorted(maps.Keys(set))
}

func inherit(parent Effective, r *Route, id string) Effective {
	e := parent
	e.ID, e.Name = id, r.Name
	if len(r.Receivers) > 0 {
		e.Receivers = slices.Clone(r.Receivers)
	}
	if r.GroupBy != nil {
		e.GroupBy = slices.Clone(r.GroupBy)
	}
	if r.GroupWait != 0 {
		e.GroupWait = r.GroupWait
	}
	if r.GroupInterval != 0 {
		e.GroupInterval = r.GroupInterval
	}
	if r.RepeatInterval != 0 {
		e.RepeatInterval = r.RepeatInterval
	}
	if r.SendResolved != nil {
		e.SendResolved = *r.SendResolved
	}
	return e
}

// walk calls fn for every route of the tree with its effective settings.
func (r *Router) walk(rt *Route, parent Effective, fn func(Effective)) {
	e := inherit(parent, rt, parent.ID)
	fn(e)
	for i, c := range rt.Routes {
		child := e
		child.ID = e.ID + "." + strconv.Itoa(i)
		r.walk(c, child, fn)
	}
}

// Match returns the routes a goes to (at least the root).
func (r *Router) Match(a Alert) []Effective {
	labels := a.AllLabels()
	root := inherit(Effective{GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval, SendResolved: true}, r.root, "0")
	return match(r.root, root, labels)
}

func match(rt *Route, e Effective, labels map[string]string) []Effective {
	var out []Effective
	for i, c := range rt.Routes {
		if !c.Matchers.Matches(labels) {
			continue
		}
		ce := inherit(e, c, e.ID+"."+strconv.Itoa(i))
		out = append(out, match(c, ce, labels)...)
		if !c.Continue {
			break
		}
	}
	if len(out) == 0 {
		out = []Effective{e}
	}
	return out
}
