package project

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// mapConfigKeys are config keys whose values are mappings (so a key without
// "+" holding a mapping is not taken for a folder name) and which merge down
// the hierarchy instead of replacing.
var mapConfigKeys = map[string]bool{
	"meta":         true,
	"column_types": true,
	"docs":         true,
	"grants":       true,
	"persist_docs": true,
	"contract":     true,
	"labels":       true,
}

// accumulatedKeys are list-valued config keys that accumulate.
var accumulatedKeys = map[string]bool{
	"tags":      true,
	"pre-hook":  true,
	"post-hook": true,
	"pre_hook":  true,
	"post_hook": true,
}

// resolvedConfig is a node's configuration as it is resolved level by level.
type resolvedConfig struct {
	vals map[string]any
	// origin records where each key was last set ("path:line").
	origin map[string]string
}

func newConfig() *resolvedConfig {
	return &resolvedConfig{vals: map[string]any{}, origin: map[string]string{}}
}

func (c *resolvedConfig) clone() *resolvedConfig {
	out := &resolvedConfig{vals: make(map[string]any, len(c.vals)), origin: maps.Clone(c.origin)}
	for k, v := range c.vals {
		out.vals[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = cloneValue(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = cloneValue(vv)
		}
		return out
	case []string:
		return slices.Clone(x)
	}
	return v
}

// set applies one config key: tags and hooks accumulate, meta-like
// mappings merge, everything else replaces.
func (c *resolvedConfig) set(key string, v any, origin string) {
	key = strings.TrimPrefix(strings.TrimSpace(key), "+")
	if key == "" {
		return
	}
	c.origin[key] = origin
	switch {
	case accumulatedKeys[key]:
		prev := toStringList(c.vals[key])
		for _, t := range toStringList(v) {
			if !slices.Contains(prev, t) {
				prev = append(prev, t)
			}
		}
		c.vals[key] = prev
	case mapConfigKeys[key]:
		m, ok := v.(map[string]any)
		if !ok {
			c.vals[key] = cloneValue(v)
			return
		}
		prev, _ := c.vals[key].(map[string]any)
		merged := make(map[string]any, len(prev)+len(m))
		maps.Copy(merged, prev)
		for k, vv := range m {
			merged[k] = cloneValue(vv)
		}
		c.vals[key] = merged
	default:
		c.vals[key] = cloneValue(v)
	}
}

// applyMap applies every key of a plain config mapping.
func (c *resolvedConfig) applyMap(m map[string]any, origin string) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		c.set(k, m[k], origin)
	}
}

// applyNode applies a config mapping from YAML (every key is config).
func (c *resolvedConfig) applyNode(n *ynode, path string) {
	if !n.isMap() {
		return
	}
	for _, k := range n.keys {
		v := n.m[k]
		c.set(k, v.toAny(), loc(path, v.lineOr(n.line)))
	}
}

// applyLevel applies the config keys of one level of a dbt_project.yml
// hierarchy: "+key" entries, and keys without "+" that are not folders.
func (c *resolvedConfig) applyLevel(n *ynode, path string) {
	if !n.isMap() {
		return
	}
	for _, k := range n.keys {
		v := n.m[k]
		if !strings.HasPrefix(k, "+") && v.isMap() && !mapConfigKeys[k] {
			continue // a folder, package or resource name
		}
		c.set(k, v.toAny(), loc(path, v.lineOr(n.line)))
	}
}

// applyHierarchy walks a models:/seeds:/data_tests: tree: its top level,
// then the project's entry, each folder of the resource's path, and finally
// the resource's own name.
func (c *resolvedConfig) applyHierarchy(root *ynode, path, project string, folders []string, name string) {
	if !root.isMap() {
		return
	}
	c.applyLevel(root, path)
	n := root.get(project)
	if !n.isMap() {
		return
	}
	c.applyLevel(n, path)
	for _, f := range folders {
		child := n.get(f)
		if !child.isMap() {
			return
		}
		n = child
		c.applyLevel(n, path)
	}
	if name != "" {
		if child := n.get(name); child.isMap() {
			c.applyLevel(child, path)
		}
	}
}

func (c *resolvedConfig) str(key string) string { return toStr(c.vals[key]) }

func (c *resolvedConfig) has(key string) bool {
	v, ok := c.vals[key]
	return ok && v != nil
}

func loc(path string, line int) string {
	if line <= 0 {
		return path
	}
	return path + ":" + strconv.Itoa(line)
}

// splitLoc splits "path:line" back.
func splitLoc(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// toStr formats a scalar config value; lists are joined with commas and
// mappings give "".
func toStr(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, toStr(p))
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return ""
	}
	return scalarString(v)
}

// toStringList turns a string or a list into a list of strings.
func toStringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []string:
		return slices.Clone(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, p := range x {
			if s := toStr(p); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return []string{scalarString(v)}
}

// toBool reads a boolean config value ("true", "yes", 1 ...).
func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "y", "on", "1":
			return true, true
		case "false", "no", "n", "off", "0", "":
			return false, true
		}
	case int64:
		return x != 0, true
	case uint64:
		return x != 0, true
	case int:
		return x != 0, true
	case float64:
		return x != 0, true
	}
	return false, false
}

// toDuration reads a timeout: a Go duration string ("90s", "5m") or a
// number of seconds.
func toDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return time.Duration(x) * time.Second, nil
	case uint64:
		return time.Duration(x) * time.Second, nil
	case int:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid timeout %q (want a duration such as 90s or 5m, or seconds)", s)
		}
		return d, nil
	}
	return 0, fmt.Errorf("invalid timeout %v", v)
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
