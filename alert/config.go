package alert

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the alerts section of a project's dataops.yml:
//
//	alerts:
//	  receivers:
//	    slack: {type: slack, webhook_url_env: SLACK_WEBHOOK_URL}
//	    slack-finance: {type: slack, token_env: SLACK_BOT_TOKEN, channel: "#finance-data"}
//	    email: {type: email, host: smtp.example.com, port: 587, tls: starttls,
//	            username: alerts, password_env: SMTP_PASSWORD,
//	            from: dataops@example.com, to: [data-team@example.com]}
//	  route:                      # optional: the default is DefaultRoute
//	    group_by: [type, environment, model]
//	    group_wait: 30s
//	    group_interval: 5m
//	    repeat_interval: 4h
//	    send_resolved: true
//	    routes:
//	      - match: {team: finance}
//	        receivers: [slack-finance]
//	        continue: true
//	      - match: {type: run_failed}
//	        receivers: [slack, email]
//	  inhibit:                    # optional: the default is DefaultInhibitRules
//	    - source_match: {type: run_failed}
//	      target_match: {type: freshness}
//	      equal: [environment]
//	      upstream: true
//	  thresholds:
//	    freshness: {warn_after: 1h, error_after: 2h}
//	    models: {mart_daily_sales: {warn_after: 30m, error_after: 1h}}
//	    schedule_grace: {warn_after: 1h, error_after: 2h} # models of daily jobs: interval + grace
//	    performance: 1.5
//	    resource: 0.9
//	    resource_for: 5m          # above the limit this long before it fires
//	    anomaly_z: 3
//	    baseline_runs: 10
//	  delivery: {attempts: 4, initial_delay: 1s, max_delay: 30s, timeout: 30s}
//	  notices:                    # stakeholder notices of critical models
//	    receivers: [email-business]
//	    delayed: "{{.Model}} is delayed; data as of {{.AsOf.Format \"15:04\"}}"
//	    recovered: "{{.Model}} is up to date again"
//
// Secrets never sit in the file: a receiver names the environment
// variables holding them (webhook_url_env, token_env, password_env).
// Escalation contacts come from dataops.yml's escalation section
// (recovery.Config).
type Config struct {
	// Route is the routing tree (nil: DefaultRoute).
	Route *Route
	// Receivers are the channels by name.
	Receivers map[string]ReceiverConfig
	// Inhibit rules (nil: DefaultInhibitRules).
	Inhibit    []InhibitRule
	Thresholds Thresholds
	Delivery   Delivery
	// Notices configures stakeholder notices (off when it has no
	// receivers).
	Notices NoticeConfig
}

// NoticeConfig is the notices section: the receivers of stakeholder
// notices and the text/template texts of the delayed and recovered
// notices (empty: the defaults of monitor.NewNotices).
type NoticeConfig struct {
	Receivers []string
	Delayed   string
	Recovered string
	// Line is where the section starts.
	Line int
}

// ReceiverConfig configures one channel. Settings hold the other keys as
// strings (lists joined by ","); keys ending in _env name environment
// variables.
type ReceiverConfig struct {
	Name     string
	Type     string
	Settings map[string]string
	// Line is where the receiver is declared.
	Line int
}

// Freshness thresholds: data older than WarnAfter gives a medium alert,
// older than ErrorAfter a high one (dbt's warn_after and error_after).
type Freshness struct {
	WarnAfter  time.Duration
	ErrorAfter time.Duration
}

// Thresholds are the triggers' limits; zero values take the defaults of
// DefaultThresholds.
type Thresholds struct {
	Freshness Freshness
	// Models override Freshness per model (and the thresholds a model gets
	// from its schedule); zero values take Freshness's.
	Models map[string]Freshness
	// ScheduleGrace is added to the interval of the job that builds a
	// model (the time between two of its runs) to make that model's
	// thresholds, when the interval is longer than an hour (hourly models
	// keep Freshness); default warn 1h, error 2h.
	ScheduleGrace Freshness
	// Performance is the ratio of a run time to its baseline above which a
	// performance alert fires (1.5 = 150%).
	Performance float64
	// Resource is the utilization share above which a resource alert fires.
	Resource float64
	// ResourceFor is how long a resource must stay above Resource (in
	// consecutive samples) before the alert fires (default 5m).
	ResourceFor time.Duration
	// AnomalyZ is the z-score of a row count beyond which it is an anomaly.
	AnomalyZ float64
	// BaselineRuns is how many successful runs make a baseline.
	BaselineRuns int
}

// DefaultThresholds are the seed strategy's: stale after 2 hours (warn
// after 1), 150% of baseline, 90% utilization, z-score 3, baselines of the
// last 10 successful runs.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Freshness:     Freshness{WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour},
		ScheduleGrace: Freshness{WarnAfter: time.Hour, ErrorAfter: 2 * time.Hour},
		Performance:   1.5, Resource: 0.9, ResourceFor: 5 * time.Minute, AnomalyZ: 3, BaselineRuns: 10,
	}
}

// WithDefaults fills zero values from DefaultThresholds.
func (t Thresholds) WithDefaults() Thresholds {
	d := DefaultThresholds()
	if t.Freshness.WarnAfter == 0 {
		t.Freshness.WarnAfter = min(d.Freshness.WarnAfter, max(t.Freshness.ErrorAfter, 0))
		if t.Freshness.WarnAfter == 0 {
			t.Freshness.WarnAfter = d.Freshness.WarnAfter
		}
	}
	if t.Freshness.ErrorAfter == 0 {
		t.Freshness.ErrorAfter = max(d.Freshness.ErrorAfter, t.Freshness.WarnAfter)
	}
	if t.ScheduleGrace.WarnAfter == 0 {
		t.ScheduleGrace.WarnAfter = min(d.ScheduleGrace.WarnAfter, max(t.ScheduleGrace.ErrorAfter, 0))
		if t.ScheduleGrace.WarnAfter == 0 {
			t.ScheduleGrace.WarnAfter = d.ScheduleGrace.WarnAfter
		}
	}
	if t.ScheduleGrace.ErrorAfter == 0 {
		t.ScheduleGrace.ErrorAfter = max(d.ScheduleGrace.ErrorAfter, t.ScheduleGrace.WarnAfter)
	}
	if t.Performance == 0 {
		t.Performance = d.Performance
	}
	if t.Resource == 0 {
		t.Resource = d.Resource
	}
	if t.ResourceFor <= 0 {
		t.ResourceFor = d.ResourceFor
	}
	if t.AnomalyZ == 0 {
		t.AnomalyZ = d.AnomalyZ
	}
	if t.BaselineRuns == 0 {
		t.BaselineRuns = d.BaselineRuns
	}
	return t
}

// FreshnessFor returns the thresholds of a model: its override in Models
// with the values it leaves out taken from Freshness (and the defaults).
func (t Thresholds) FreshnessFor(model string) Freshness {
	base := t.WithDefaults().Freshness
	f, ok := t.Models[model]
	if !ok {
		return base
	}
	if f.WarnAfter == 0 {
		f.WarnAfter = base.WarnAfter
		if f.ErrorAfter > 0 {
			f.WarnAfter = min(f.WarnAfter, f.ErrorAfter)
		}
	}
	if f.ErrorAfter == 0 {
		f.ErrorAfter = max(base.ErrorAfter, f.WarnAfter)
	}
	return f
}

// ScheduledFreshness returns the thresholds of a model built by a job that
// runs every interval: Freshness for an hourly (or more frequent) job,
// else interval plus ScheduleGrace. An override in Models wins, merged
// as in FreshnessFor.
func (t Thresholds) ScheduledFreshness(model string, interval time.Duration) Freshness {
	if _, ok := t.Models[model]; ok || interval <= time.Hour {
		return t.FreshnessFor(model)
	}
	g := t.WithDefaults().ScheduleGrace
	return Freshness{WarnAfter: interval + g.WarnAfter, ErrorAfter: interval + g.ErrorAfter}
}

// Delivery configures retries of a failing channel (see Options.Retry).
type Delivery struct {
	Attempts     int
	InitialDelay time.Duration
	MaxDelay     time.Duration
	Timeout      time.Duration
}

// ConfigError is an error in the alerts configuration, with its file and
// line.
type ConfigError struct {
	File string
	Line int
	Path string
	Msg  string
	Err  error
}

// Error formats the error as "file:line: path: message".
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the parser's error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

type rawRoute struct {
	Name         string            `yaml:"name"`
	Match        map[string]string `yaml:"match"`
	MatchRE      map[string]string `yaml:"match_re"`
	Matchers     []string          `yaml:"matchers"`
	Receivers    []string          `yaml:"receivers"`
	GroupBy      *[]string         `yaml:"group_by"`
	GroupWait    string            `yaml:"group_wait"`
	GroupInt     string            `yaml:"group_interval"`
	RepeatInt    string            `yaml:"repeat_interval"`
	SendResolved *bool             `yaml:"send_resolved"`
	Continue     bool              `yaml:"continue"`
	Routes       []*rawRoute       `yaml:"routes"`
}

type rawInhibit struct {
	SourceMatch    map[string]string `yaml:"source_match"`
	TargetMatch    map[string]string `yaml:"target_match"`
	SourceMatchers []string          `yaml:"source_matchers"`
	TargetMatchers []string          `yaml:"target_matchers"`
	Equal          []string          `yaml:"equal"`
	Upstream       bool              `yaml:"upstream"`
}

type rawFreshness struct {
	WarnAfter  string `yaml:"warn_after"`
	ErrorAfter string `yaml:"error_after"`
}

type rawAlerts struct {
	Receivers  map[string]map[string]any `yaml:"receivers"`
	Route      *rawRoute                 `yaml:"route"`
	Inhibit    *[]rawInhibit             `yaml:"inhibit"`
	Thresholds struct {
		Freshness    rawFreshness            `yaml:"freshness"`
		Models       map[string]rawFreshness `yaml:"models"`
		Grace        rawFreshness            `yaml:"schedule_grace"`
		Performance  float64                 `yaml:"performance"`
		Resource     float64                 `yaml:"resource"`
		ResourceFor  string                  `yaml:"resource_for"`
		AnomalyZ     float64                 `yaml:"anomaly_z"`
		BaselineRuns int                     `yaml:"baseline_runs"`
	} `yaml:"thresholds"`
	Notices struct {
		Receivers []string `yaml:"receivers"`
		Delayed   string   `yaml:"delayed"`
		Recovered string   `yaml:"recovered"`
	} `yaml:"notices"`
	Delivery struct {
		Attempts     int    `yaml:"attempts"`
		InitialDelay string `yaml:"initial_delay"`
		MaxDelay     string `yaml:"max_delay"`
		Timeout      string `yaml:"timeout"`
	} `yaml:"delivery"`
}

// receiverKeys are the settings each channel type knows; secrets only as
// *_env.
var receiverKeys = map[string][]string{
	"slack": {"webhook_url_env", "token_env", "channel", "username", "api_url"},
	"email": {"host", "port", "tls", "username", "password_env", "from", "to", "insecure_skip_verify"},
	"log":   {},
}

// secretKeys are settings that must not be written in the file.
var secretKeys = map[string]string{"webhook_url": "webhook_url_env", "token": "token_env", "password": "password_env"}

// ParseConfig reads the alerts section of dataops.yml (file names the
// file in errors). Other top-level sections are ignored; a document
// without an alerts section gives the zero Config (every default). Errors
// are *ConfigError values naming file, line and key, joined when several.
func ParseConfig(data []byte, file string) (Config, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Config{}, yamlErr(file, err)
	}
	var node ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		m, ok := doc.Body.(*ast.MappingNode)
		if !ok {
			if _, isNull := doc.Body.(*ast.NullNode); isNull {
				continue
			}
			return Config{}, &ConfigError{File: file, Line: 1, Msg: "want a mapping"}
		}
		for _, mv := range m.Values {
			if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == "alerts" {
				node = mv.Value
			}
		}
		break
	}
	if node == nil {
		return Config{}, nil
	}
	if _, isNull := node.(*ast.NullNode); isNull {
		return Config{}, nil
	}
	var raw rawAlerts
	if err := yaml.NodeToValue(node, &raw, yaml.Strict()); err != nil {
		return Config{}, yamlErr(file, err)
	}
	lines := map[string]int{}
	indexLines(node, []string{"alerts"}, lines)
	p := &cfgParser{file: file, lines: lines}
	cfg := p.build(raw)
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func yamlErr(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return &ConfigError{File: file, Line: line, Msg: ye.GetMessage(), Err: err}
	}
	return &ConfigError{File: file, Msg: err.Error(), Err: err}
}

type cfgParser struct {
	file  string
	lines map[string]int
	errs  []error
}

func (p *cfgParser) errorf(path []string, format string, args ...any) {
	line := 0
	for n := len(path); n > 0 && line == 0; n-- {
		line = p.lines[strings.Join(path[:n], "\x00")]
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Path: humanPath(path), Msg: fmt.Sprintf(format, args...)})
}

func humanPath(path []string) string {
	var b strings.Builder
	for i, s := range path {
		if _, err := strconv.Atoi(s); err == nil && i > 0 {
			b.WriteString("[" + s + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func (p *cfgParser) duration(path []string, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.errorf(path, "want a duration such as 30s, 5m or 4h, got %q", s)
		return 0
	}
	return d
}

func (p *cfgParser) build(raw rawAlerts) Config {
	var cfg Config
	cfg.Receivers = map[string]ReceiverConfig{}
	for _, name := range slices.Sorted(maps.Keys(raw.Receivers)) {
		cfg.Receivers[name] = p.receiver(name, raw.Receivers[name])
	}
	if raw.Route != nil {
		cfg.Route = p.route(raw.Route, []string{"alerts", "route"}, true)
		if cfg.Route != nil && cfg.Route.Routes == nil && raw.Route.Routes == nil {
			// Root settings only: keep the seed's table under them.
			cfg.Route.Routes = DefaultRoute().Routes
		}
		if cfg.Route != nil {
			p.checkReceivers(cfg.Route, []string{"alerts", "route"}, cfg.Receivers)
		}
	}
	if raw.Inhibit != nil {
		cfg.Inhibit = []InhibitRule{}
		for i, r := range *raw.Inhibit {
			at := []string{"alerts", "inhibit", strconv.Itoa(i)}
			rule := InhibitRule{Equal: r.Equal, Upstream: r.Upstream}
			rule.Source = p.matchers(at, r.SourceMatch, nil, r.SourceMatchers)
			rule.Target = p.matchers(at, r.TargetMatch, nil, r.TargetMatchers)
			if len(rule.Source) == 0 || len(rule.Target) == 0 {
				p.errorf(at, "an inhibit rule needs source and target matchers")
			}
			cfg.Inhibit = append(cfg.Inhibit, rule)
		}
	}
	th := raw.Thresholds
	tp := []string{"alerts", "thresholds"}
	cfg.Thresholds = Thresholds{
		Freshness:     p.freshness(append(tp, "freshness"), th.Freshness),
		ScheduleGrace: p.freshness(append(slices.Clone(tp), "schedule_grace"), th.Grace),
		Performance:   th.Performance,
		Resource:      th.Resource,
		ResourceFor:   p.duration(append(slices.Clone(tp), "resource_for"), th.ResourceFor),
		AnomalyZ:      th.AnomalyZ,
		BaselineRuns:  th.BaselineRuns,
	}
	if th.Performance < 0 || (th.Performance > 0 && th.Performance <= 1) {
		p.errorf(append(tp, "performance"), "want a ratio above 1 (1.5 = 150%% of the baseline), got %v", th.Performance)
	}
	if th.Resource < 0 || th.Resource > 1 {
		p.errorf(append(tp, "resource"), "want a share between 0 and 1 (0.9 = 90%%), got %v", th.Resource)
	}
	if th.AnomalyZ < 0 {
		p.errorf(append(tp, "anomaly_z"), "must not be negative, got %v", th.AnomalyZ)
	}
	if th.BaselineRuns < 0 {
		p.errorf(append(tp, "baseline_runs"), "must not be negative, got %d", th.BaselineRuns)
	}
	for _, m := range slices.Sorted(maps.Keys(th.Models)) {
		if cfg.Thresholds.Models == nil {
			cfg.Thresholds.Models = map[string]Freshness{}
		}
		cfg.Thresholds.Models[m] = p.freshness(append(slices.Clone(tp), "models", m), th.Models[m])
	}
	dp := []string{"alerts", "delivery"}
	cfg.Delivery = Delivery{
		Attempts:     raw.Delivery.Attempts,
		InitialDelay: p.duration(append(dp, "initial_delay"), raw.Delivery.InitialDelay),
		MaxDelay:     p.duration(append(dp, "max_delay"), raw.Delivery.MaxDelay),
		Timeout:      p.duration(append(dp, "timeout"), raw.Delivery.Timeout),
	}
	np := []string{"alerts", "notices"}
	cfg.Notices = NoticeConfig{Receivers: raw.Notices.Receivers, Delayed: raw.Notices.Delayed, Recovered: raw.Notices.Recovered,
		Line: p.lines[strings.Join(np, "\x00")]}
	for i, name := range raw.Notices.Receivers {
		if _, ok := cfg.Receivers[name]; !ok {
			p.errorf(append(slices.Clone(np), "receivers", strconv.Itoa(i)), "unknown receiver %q (declare it under alerts.receivers)", name)
		}
	}
	for _, k := range []string{"delayed", "recovered"} {
		text := raw.Notices.Delayed
		if k == "recovered" {
			text = raw.Notices.Recovered
		}
		if _, err := template.New(k).Parse(text); err != nil {
			p.errorf(append(slices.Clone(np), k), "bad template: %v", err)
		}
	}
	if raw.Delivery.Attempts < 0 {
		p.errorf(append(dp, "attempts"), "must not be negative, got %d", raw.Delivery.Attempts)
	}
	return cfg
}

func (p *cfgParser) freshness(at []string, r rawFreshness) Freshness {
	f := Freshness{
		WarnAfter:  p.duration(append(slices.Clone(at), "warn_after"), r.WarnAfter),
		ErrorAfter: p.duration(append(slices.Clone(at), "error_after"), r.ErrorAfter),
	}
	if f.WarnAfter > 0 && f.ErrorAfter > 0 && f.WarnAfter > f.ErrorAfter {
		p.errorf(at, "warn_after (%s) is later than error_after (%s)", f.WarnAfter, f.ErrorAfter)
	}
	return f
}

func (p *cfgParser) receiver(name string, m map[string]any) ReceiverConfig {
	at := []string{"alerts", "receivers", name}
	rc := ReceiverConfig{Name: name, Settings: map[string]string{}, Line: p.lines[strings.Join(at, "\x00")]}
	t, _ := m["type"].(string)
	known, ok := receiverKeys[t]
	if !ok {
		p.errorf(append(slices.Clone(at), "type"), "want type slack, email or log, got %q", fmt.Sprint(m["type"]))
		return rc
	}
	rc.Type = t
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k == "type" {
			continue
		}
		path := append(slices.Clone(at), k)
		if env, secret := secretKeys[k]; secret {
			p.errorf(path, "secrets do not belong in the file: name an environment variable with %s instead", env)
			continue
		}
		if !slices.Contains(known, k) {
			p.errorf(path, "unknown key for a %s receiver (want one of %s)", t, strings.Join(known, ", "))
			continue
		}
		switch v := m[k].(type) {
		case []any:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprint(x)
			}
			rc.Settings[k] = strings.Join(parts, ",")
		case nil:
		default:
			rc.Settings[k] = fmt.Sprint(v)
		}
	}
	switch t {
	case "slack":
		if rc.Settings["webhook_url_env"] == "" && rc.Settings["token_env"] == "" {
			p.errorf(at, "a slack receiver needs webhook_url_env or token_env")
		}
		if rc.Settings["token_env"] != "" && rc.Settings["channel"] == "" {
			p.errorf(at, "a slack receiver with a bot token needs a channel")
		}
	case "email":
		for _, k := range []string{"host", "from", "to"} {
			if rc.Settings[k] == "" {
				p.errorf(at, "an email receiver needs %s", k)
			}
		}
		if v, ok := rc.Settings["insecure_skip_verify"]; ok {
			if _, err := strconv.ParseBool(v); err != nil {
				p.errorf(append(slices.Clone(at), "insecure_skip_verify"), "want true or false, got %q", v)
			}
		}
		if tls := rc.Settings["tls"]; tls != "" && tls != "starttls" && tls != "tls" && tls != "none" {
			p.errorf(append(slices.Clone(at), "tls"), "want starttls, tls or none, got %q", tls)
		}
		if port := rc.Settings["port"]; port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				p.errorf(append(slices.Clone(at), "port"), "want a port number, got %q", port)
			}
		}
	}
	return rc
}

func (p *cfgParser) matchers(at []string, eq, re map[string]string, list []string) Matchers {
	var out Matchers
	for _, k := range slices.Sorted(maps.Keys(eq)) {
		out = append(out, Eq(k, eq[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(re)) {
		m, err := NewMatcher(k, MatchRegexp, re[k])
		if err != nil {
			p.errorf(append(slices.Clone(at), "match_re", k), "%v", err)
			continue
		}
		out = append(out, m)
	}
	for i, s := range list {
		m, err := ParseMatcher(s)
		if err != nil {
			p.errorf(append(slices.Clone(at), "matchers", strconv.Itoa(i)), "%v", err)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (p *cfgParser) route(r *rawRoute, at []string, root bool) *Route {
	out := &Route{
		Name:           r.Name,
		Matchers:       p.matchers(at, r.Match, r.MatchRE, r.Matchers),
		Receivers:      r.Receivers,
		GroupWait:      p.duration(append(slices.Clone(at), "group_wait"), r.GroupWait),
		GroupInterval:  p.duration(append(slices.Clone(at), "group_interval"), r.GroupInt),
		RepeatInterval: p.duration(append(slices.Clone(at), "repeat_interval"), r.RepeatInt),
		SendResolved:   r.SendResolved,
		Continue:       r.Continue,
	}
	if r.GroupBy != nil {
		out.GroupBy = append([]string{}, (*r.GroupBy)...)
	}
	if root {
		def := DefaultRoute()
		if out.Name == "" {
			out.Name = "root"
		}
		if len(out.Receivers) == 0 {
			out.Receivers = def.Receivers
		}
		if out.GroupBy == nil {
			out.GroupBy = def.GroupBy
		}
		if len(out.Matchers) > 0 {
			p.errorf(at, "the root route matches every alert: move the matchers to a child route")
		}
	} else if len(out.Matchers) == 0 {
		p.errorf(at, "a child route needs match, match_re or matchers")
	}
	for i, c := range r.Routes {
		if c == nil {
			continue
		}
		out.Routes = append(out.Routes, p.route(c, append(slices.Clone(at), "routes", strconv.Itoa(i)), false))
	}
	return out
}

func (p *cfgParser) checkReceivers(r *Route, at []string, known map[string]ReceiverConfig) {
	for i, name := range r.Receivers {
		if _, ok := known[name]; !ok && name != ReceiverSlack && name != ReceiverEmail {
			p.errorf(append(slices.Clone(at), "receivers", strconv.Itoa(i)), "unknown receiver %q (declare it under alerts.receivers)", name)
		}
	}
	for i, c := range r.Routes {
		p.checkReceivers(c, append(slices.Clone(at), "routes", strconv.Itoa(i)), known)
	}
}

// indexLines records the line of every key and sequence item under n, by
// path joined with "\x00".
func indexLines(n ast.Node, path []string, out map[string]int) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			indexLines(mv, path, out)
		}
	case *ast.MappingValueNode:
		if v.Key == nil || v.Key.GetToken() == nil {
			return
		}
		tk := v.Key.GetToken()
		p := append(slices.Clone(path), tk.Value)
		if tk.Position != nil {
			out[strings.Join(p, "\x00")] = tk.Position.Line
		}
		indexLines(v.Value, p, out)
	case *ast.SequenceNode:
		for i, item := range v.Values {
			p := append(slices.Clone(path), strconv.Itoa(i))
			if item != nil && item.GetToken() != nil && item.GetToken().Position != nil {
				out[strings.Join(p, "\x00")] = item.GetToken().Position.Line
			}
			indexLines(item, p, out)
		}
	case *ast.AnchorNode:
		indexLines(v.Value, path, out)
	case *ast.TagNode:
		indexLines(v.Value, path, out)
	}
}
