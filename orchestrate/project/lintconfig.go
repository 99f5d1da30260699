package project

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ParseLintConfig reads the lint: section of a project's dataops.yml
// (other sections are left to their owners; no lint: section gives the
// zero LintConfig, every rule an error):
//
//	lint:
//	  mart_layers: [marts, dimensions, facts]
//	  exclude: ["models/legacy/**"]
//	  rules:
//	    layer-prefix: warn                      # error, warn or off
//	    no-select-star: {severity: error, exclude: ["models/marts/wide_*.sql"]}
//	    mart-owner: off
//
// file names the file in errors, which are *Error values (ErrConfig) with
// the line of the offending key, joined when there are several.
func ParseLintConfig(file string, data []byte) (LintConfig, error) {
	var cfg LintConfig
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, yamlError(file, err)
	}
	sec, ok := root["lint"]
	if !ok || sec == nil {
		return cfg, nil
	}
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return cfg, yamlError(file, err)
	}
	lineOf := func(keys ...string) int {
		var body ast.Node
		for _, doc := range astFile.Docs {
			if doc != nil && doc.Body != nil {
				body = doc.Body
				break
			}
		}
		return keyLine(body, keys)
	}
	var errs []error
	bad := func(keys []string, format string, args ...any) {
		errs = append(errs, &Error{Path: file, Line: lineOf(keys...), Kind: ErrConfig, Msg: strings.Join(keys, ".") + ": " + fmt.Sprintf(format, args...)})
	}
	m, ok := sec.(map[string]any)
	if !ok {
		bad([]string{"lint"}, "want a mapping with rules, exclude and mart_layers, got %v", sec)
		return cfg, errors.Join(errs...)
	}
	strList := func(keys []string, v any) []string {
		switch x := v.(type) {
		case nil:
			return nil
		case string:
			return []string{x}
		case []any:
			out := make([]string, 0, len(x))
			for _, it := range x {
				s, ok := it.(string)
				if !ok {
					bad(keys, "want a list of strings, got %v", it)
					continue
				}
				out = append(out, s)
			}
			return out
		}
		bad(keys, "want a list of strings, got %v", v)
		return nil
	}
	for _, k := range slices.Sorted(mapKeys(m)) {
		v := m[k]
		switch k {
		case "exclude":
			cfg.Exclude = strList([]string{"lint", k}, v)
		case "mart_layers":
			cfg.MartLayers = strList([]string{"lint", k}, v)
		case "rules":
			rules, ok := v.(map[string]any)
			if !ok && v != nil {
				bad([]string{"lint", k}, "want a mapping from rule names to a severity or {severity, exclude}, got %v", v)
				continue
			}
			cfg.Rules = map[string]LintRule{}
			for _, name := range slices.Sorted(mapKeys(rules)) {
				keys := []string{"lint", "rules", name}
				if !slices.Contains(LintRules, name) {
					bad(keys, "unknown rule (want one of %s)", strings.Join(LintRules, ", "))
					continue
				}
				var rc LintRule
				switch x := rules[name].(type) {
				case string:
					rc.Severity = x
				case bool:
					if !x {
						rc.Severity = LintOff
					}
				case map[string]any:
					for _, rk := range slices.Sorted(mapKeys(x)) {
						switch rk {
						case "severity":
							s, _ := x[rk].(string)
							rc.Severity = s
							if s == "" {
								rc.Severity = fmt.Sprint(x[rk])
							}
						case "exclude":
							rc.Exclude = strList(append(keys, rk), x[rk])
						default:
							bad(append(keys, rk), "unknown key (want severity or exclude)")
						}
					}
				default:
					bad(keys, "want error, warn, off or {severity, exclude}, got %v", rules[name])
					continue
				}
				rc.Severity = strings.ToLower(strings.TrimSpace(rc.Severity))
				switch rc.Severity {
				case "", LintError, LintWarn, LintOff:
				case "warning":
					rc.Severity = LintWarn
				default:
					bad(keys, "unknown severity %q (want error, warn or off)", rc.Severity)
				}
				cfg.Rules[name] = rc
			}
		default:
			bad([]string{"lint", k}, "unknown key (want rules, exclude or mart_layers)")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return LintConfig{}, err
	}
	return cfg, nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// keyLine returns the line of the last key of keys found walking down
// from n (the deepest key that exists), 0 when none does.
func keyLine(n ast.Node, keys []string) int {
	line := 0
	for _, k := range keys {
		var values []*ast.MappingValueNode
		switch m := n.(type) {
		case *ast.MappingNode:
			values = m.Values
		case *ast.MappingValueNode:
			values = []*ast.MappingValueNode{m}
		default:
			return line
		}
		found := false
		for _, mv := range values {
			if mv.Key != nil && strings.Trim(mv.Key.String(), `"'`) == k {
				if tok := mv.Key.GetToken(); tok != nil && tok.Position != nil {
					line = tok.Position.Line
				}
				n = mv.Value
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}
