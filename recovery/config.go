package recovery

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the recovery configuration of a project, as read by ParseConfig
// and turned into a Policy by NewPolicy. The schedule maps hold the values
// as they come from YAML (see ParseBackoff for their keys).
type Config struct {
	// Default is the schedule of every node (retries.default).
	Default map[string]any
	// Layers holds schedules by layer (retries.layers).
	Layers map[string]map[string]any
	// Nodes holds schedules by node name (retries.nodes).
	Nodes map[string]map[string]any
	// RetryOn names the classes retried (retries.retry_on); nil means
	// transient, timeout and source_missing (Class.Retryable).
	RetryOn []string
	// Fallback turns the fallback of critical nodes on or off
	// (retries.fallback_critical); nil means on.
	Fallback *bool
	// Runbooks replace the default runbook of some classes (runbooks:);
	// use DefaultRunbooks().With(cfg.Runbooks).
	Runbooks Runbooks
	// Escalation holds contacts by owner team (escalation:).
	Escalation EscalationPolicy
}

// ConfigError is an error in a recovery configuration.
type ConfigError struct {
	// Line is the 1-based line of the offending key or value, 0 when
	// unknown (e.g. from NewPolicy).
	Line int
	// Path locates the value, e.g. "retries.layers.staging.attempts".
	Path string
	// Msg says what is wrong.
	Msg string
	// Err is the YAML parser's error, if any.
	Err error
}

// Error formats the error as "line N: path: message".
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the YAML parser's error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

// retriesKeys are the keys of the retries section.
var retriesKeys = []string{"default", "layers", "nodes", "retry_on", "fallback_critical"}

// ParseConfig reads the recovery configuration from YAML: the sections
// retries, runbooks and escalation of a project file (other top-level keys
// are left to their owners), or a document holding only the retries
// section's keys:
//
//	retries:
//	  default: {attempts: 3, initial_delay: 5s, multiplier: 2, max_delay: 1m, jitter: 0.2}
//	  layers: {staging: {attempts: 5}}
//	  nodes: {mart_inventory_status: {attempts: 4, initial_delay: 1s}}
//	  retry_on: [transient, timeout]
//	  fallback_critical: true
//	runbooks:
//	  transient: "Check the disk and the lock on target/*.duckdb."
//	escalation:
//	  analytics: {primary: "@asha", secondary: "@ravi", after: 30m}
//
// Everything NewPolicy would reject is rejected here too. Errors are
// *ConfigError values (joined when there are several) naming the line, e.g.
// "line 3: retries.layers.staging.attempts: must be at least 1 (1 = no retry), got 0".
// An empty document gives a zero Config.
func ParseConfig(data []byte) (Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Config{}, yamlError(err)
	}
	var root any
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, yamlError(err)
	}
	if root == nil {
		return Config{}, nil
	}
	lines := map[string]int{}
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			indexLines(doc.Body, nil, lines)
			break
		}
	}
	top, ok := asMap(root)
	if !ok {
		return Config{}, &ConfigError{Line: 1, Msg: "want a mapping with retries, runbooks or escalation, got " + describeValue(root)}
	}

	// The retries section is at "retries", or the whole document when it
	// holds none of the sections but some of the retries keys.
	retriesAt := []string{"retries"}
	section, hasRetries := top["retries"]
	_, hasRunbooks := top["runbooks"]
	_, hasEscalation := top["escalation"]
	if !hasRetries && !hasRunbooks && !hasEscalation {
		for _, k := range retriesKeys {
			if _, ok := top[k]; ok {
				retriesAt, section = nil, root
				break
			}
		}
	}
	lineOf := func(path ...string) int {
		if len(path) > 0 && path[0] == "retries" {
			path = append(cloneStrings(retriesAt), path[1:]...)
		}
		for n := len(path); n > 0; n-- {
			if l, ok := lines[strings.Join(path[:n], "\x00")]; ok {
				return l
			}
		}
		return 0
	}
	p := &configParser{lineOf: lineOf}
	var cfg Config
	p.retries(&cfg, section)
	cfg.Runbooks = p.runbooks(top["runbooks"])
	cfg.Escalation = p.escalation(top["escalation"])
	if len(p.errs) == 0 {
		if _, err := cfg.policy(lineOf); err != nil {
			return Config{}, err
		}
	}
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// cloneStrings returns a copy of s, safe to append to.
func cloneStrings(s []string) []string { return append([]string(nil), s...) }

// configParser collects the errors of a configuration.
type configParser struct {
	lineOf func(path ...string) int
	errs   []error
}

func (p *configParser) errorf(path []string, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{Line: p.lineOf(path...), Path: joinPath(path), Msg: fmt.Sprintf(format, args...)})
}

// retries parses the retries section (shape only: NewPolicy's rules are
// checked afterwards).
func (p *configParser) retries(cfg *Config, v any) {
	if v == nil {
		return
	}
	at := []string{"retries"}
	m, ok := asMap(v)
	if !ok {
		p.errorf(at, "want a mapping with %s, got %s", strings.Join(retriesKeys, ", "), describeValue(v))
		return
	}
	for _, k := range sortedKeys(m) {
		path := append(cloneStrings(at), k)
		val := m[k]
		switch k {
		case "default":
			if val == nil {
				continue
			}
			sm, ok := asMap(val)
			if !ok {
				p.errorf(path, "want a mapping such as {attempts: 3, initial_delay: 5s}, got %s", describeValue(val))
				continue
			}
			cfg.Default = sm
		case "layers", "nodes":
			if val == nil {
				continue
			}
			sm, ok := asMap(val)
			if !ok {
				p.errorf(path, "want a mapping from %s names to schedules, got %s", strings.TrimSuffix(k, "s"), describeValue(val))
				continue
			}
			out := make(map[string]map[string]any, len(sm))
			for _, name := range sortedKeys(sm) {
				if sm[name] == nil {
					out[name] = nil
					continue
				}
				b, ok := asMap(sm[name])
				if !ok {
					p.errorf(append(cloneStrings(path), name), "want a mapping such as {attempts: 5}, got %s", describeValue(sm[name]))
					continue
				}
				out[name] = b
			}
			if k == "layers" {
				cfg.Layers = out
			} else {
				cfg.Nodes = out
			}
		case "retry_on":
			switch x := val.(type) {
			case nil:
				// Unset: the default classes.
			case string:
				cfg.RetryOn = []string{x}
			case []any:
				cfg.RetryOn = []string{}
				for i, item := range x {
					s, ok := item.(string)
					if !ok {
						p.errorf(append(cloneStrings(path), strconv.Itoa(i)), "want a class name, got %s", describeValue(item))
						continue
					}
					cfg.RetryOn = append(cfg.RetryOn, s)
				}
			default:
				p.errorf(path, "want a list of classes such as [transient, timeout], got %s", describeValue(val))
			}
		case "fallback_critical":
			b, ok := val.(bool)
			if !ok {
				p.errorf(path, "want true or false, got %s", describeValue(val))
				continue
			}
			cfg.Fallback = &b
		default:
			p.errorf(path, "unknown key (want one of %s)", strings.Join(retriesKeys, ", "))
		}
	}
}

// runbooks parses the runbooks section: class → text.
func (p *configParser) runbooks(v any) Runbooks {
	if v == nil {
		return nil
	}
	at := []string{"runbooks"}
	m, ok := asMap(v)
	if !ok {
		p.errorf(at, "want a mapping from failure classes to texts, got %s", describeValue(v))
		return nil
	}
	out := Runbooks{}
	for _, k := range sortedKeys(m) {
		path := append(cloneStrings(at), k)
		c, err := ParseClass(k)
		if err != nil {
			p.errorf(path, "%v", err)
			continue
		}
		text, ok := m[k].(string)
		if !ok && m[k] != nil {
			p.errorf(path, "want a text, got %s", describeValue(m[k]))
			continue
		}
		out[c] = strings.TrimSpace(text)
	}
	return out
}

// escalationKeys are the keys of a team's escalation.
var escalationKeys = []string{"primary", "secondary", "after"}

// escalation parses the escalation section: team → {primary, secondary, after}.
func (p *configParser) escalation(v any) EscalationPolicy {
	if v == nil {
		return nil
	}
	at := []string{"escalation"}
	m, ok := asMap(v)
	if !ok {
		p.errorf(at, "want a mapping from teams to {primary, secondary, after}, got %s", describeValue(v))
		return nil
	}
	out := EscalationPolicy{}
	for _, team := range sortedKeys(m) {
		tpath := append(cloneStrings(at), team)
		tm, ok := asMap(m[team])
		if !ok {
			p.errorf(tpath, "want a mapping such as {primary: \"@asha\", secondary: \"@ravi\", after: 30m}, got %s", describeValue(m[team]))
			continue
		}
		e := Escalation{Team: team}
		for _, k := range sortedKeys(tm) {
			path := append(cloneStrings(tpath), k)
			val := tm[k]
			switch k {
			case "primary", "secondary":
				s, ok := val.(string)
				if !ok {
					p.errorf(path, "want a contact (a name, handle or address), got %s", describeValue(val))
					continue
				}
				if k == "primary" {
					e.Primary = strings.TrimSpace(s)
				} else {
					e.Secondary = strings.TrimSpace(s)
				}
			case "after":
				d, err := toDuration(val)
				if err == nil && d < 0 {
					err = fmt.Errorf("must not be negative, got %s", d)
				}
				if err != nil {
					p.errorf(path, "%v", err)
					continue
				}
				e.After = d
			default:
				p.errorf(path, "unknown key (want one of %s)", strings.Join(escalationKeys, ", "))
			}
		}
		if e.Primary == "" {
			// (A primary of the wrong type is reported above.)
			if _, isString := tm["primary"].(string); isString || tm["primary"] == nil {
				p.errorf(append(cloneStrings(tpath), "primary"), "a contact is required")
			}
			continue
		}
		out[team] = e
	}
	return out
}

// YAML renders c as a document that ParseConfig reads back to an equal
// Config.
func (c Config) YAML() ([]byte, error) {
	doc := map[string]any{}
	retries := map[string]any{}
	if c.Default != nil {
		retries["default"] = c.Default
	}
	if c.Layers != nil {
		retries["layers"] = c.Layers
	}
	if c.Nodes != nil {
		retries["nodes"] = c.Nodes
	}
	if c.RetryOn != nil {
		retries["retry_on"] = c.RetryOn
	}
	if c.Fallback != nil {
		retries["fallback_critical"] = *c.Fallback
	}
	if len(retries) > 0 {
		doc["retries"] = retries
	}
	if c.Runbooks != nil {
		rb := make(map[string]string, len(c.Runbooks))
		for k, v := range c.Runbooks {
			rb[string(k)] = v
		}
		doc["runbooks"] = rb
	}
	if c.Escalation != nil {
		esc := make(map[string]any, len(c.Escalation))
		for team, e := range c.Escalation {
			m := map[string]any{"primary": e.Primary}
			if e.Secondary != "" {
				m["secondary"] = e.Secondary
			}
			if e.After != 0 {
				m["after"] = e.After.String()
			}
			esc[team] = m
		}
		doc["escalation"] = esc
	}
	return yaml.Marshal(doc)
}

// yamlError converts an error of github.com/goccy/go-yaml to a ConfigError
// with its line.
func yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return &ConfigError{Line: line, Msg: ye.GetMessage(), Err: err}
	}
	return &ConfigError{Msg: err.Error(), Err: err}
}

// asMap converts a decoded YAML mapping to map[string]any.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return maps.Clone(m), true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[fmt.Sprint(k)] = val
		}
		return out, true
	}
	return nil, false
}

// joinPath renders a path for humans: retries.retry_on[1].
func joinPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.Atoi(p); err == nil && i > 0 && path[i-1] == "retry_on" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// indexLines records the line of every key (and sequence item) under n, by
// path joined with "\x00".
func indexLines(n ast.Node, path []string, out map[string]int) {
	switch v := n.(type) {
	case *ast.DocumentNode:
		indexLines(v.Body, path, out)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			indexLines(mv, path, out)
		}
	case *ast.MappingValueNode:
		if v.Key == nil {
			return
		}
		tk := v.Key.GetToken()
		if tk == nil {
			return
		}
		p := append(cloneStrings(path), tk.Value)
		if tk.Position != nil {
			if _, seen := out[strings.Join(p, "\x00")]; !seen {
				out[strings.Join(p, "\x00")] = tk.Position.Line
			}
		}
		indexLines(v.Value, p, out)
	case *ast.SequenceNode:
		for i, item := range v.Values {
			p := append(cloneStrings(path), strconv.Itoa(i))
			if item != nil {
				if tk := item.GetToken(); tk != nil && tk.Position != nil {
					out[strings.Join(p, "\x00")] = tk.Position.Line
				}
			}
			indexLines(item, p, out)
		}
	case *ast.AnchorNode:
		indexLines(v.Value, path, out)
	case *ast.TagNode:
		indexLines(v.Value, path, out)
	}
}
