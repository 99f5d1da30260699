package project

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// NodeState is a node's fingerprints, for state-based selection and
// deployment plans.
type NodeState struct {
	// Kind is model, seed, source or test.
	Kind string `json:"kind"`
	// Own hashes what defines the node itself: its rendered SQL with
	// comments and formatting normalized away, and the config that changes
	// what it builds (materialization, schema, alias, unique key,
	// strategy); a seed's data and column types; a source's relation and
	// columns.
	Own string `json:"own"`
	// Full hashes Own with the Full fingerprints of every upstream node:
	// it changes when anything the node's data depends on changed.
	Full string `json:"full"`
}

// State returns the fingerprints of every model, seed, source and test,
// by node name.
func (p *Project) State() (map[string]NodeState, error) {
	own := map[string]string{}
	kinds := map[string]string{}
	deps := map[string][]string{}
	for _, n := range p.nodes {
		deps[n.Name] = n.Deps
		if n.TestOf != "" && !slices.Contains(n.Deps, n.TestOf) {
			deps[n.Name] = append(slices.Clone(n.Deps), n.TestOf)
		}
		kinds[n.Name] = string(n.Kind)
		var parts []string
		switch spec := n.Spec.(type) {
		case *Model:
			if spec.Materialized == MaterializedEphemeral {
				parts = append(parts, "ephemeral")
			}
			c, err := spec.Compile(CompileState{})
			if err != nil {
				return nil, fmt.Errorf("state of %s: %w", n.Name, err)
			}
			cfg, _ := json.Marshal([]any{spec.Materialized, spec.Schema, spec.Alias, spec.UniqueKey, spec.IncrementalStrategy})
			parts = append(parts, NormalizeSQL(c.SQL), string(cfg))
			if spec.Materialized == MaterializedIncremental {
				// What an incremental run selects counts too.
				ci, err := spec.Compile(CompileState{IsIncremental: true})
				if err != nil {
					return nil, fmt.Errorf("state of %s: %w", n.Name, err)
				}
				parts = append(parts, NormalizeSQL(ci.SQL))
			}
		case *Seed:
			types, _ := json.Marshal(spec.ColumnTypes)
			parts = append(parts, string(spec.Data), string(types), spec.Delimiter, spec.Relation().Quoted())
		case *Source:
			cols, _ := json.Marshal(spec.Columns)
			parts = append(parts, spec.Relation().Quoted(), string(cols))
		case *DataTest:
			c, err := spec.Compile(CompileState{})
			if err != nil {
				return nil, fmt.Errorf("state of %s: %w", n.Name, err)
			}
			cfg, _ := json.Marshal([]any{spec.Severity, spec.WarnIf, spec.ErrorIf})
			parts = append(parts, NormalizeSQL(c.SQL), string(cfg))
		default:
			parts = append(parts, fmt.Sprintf("%T", n.Spec))
		}
		own[n.Name] = hashParts(append([]string{string(n.Kind)}, parts...))
	}
	full := map[string]string{}
	var visit func(name string, stack []string) (string, error)
	visit = func(name string, stack []string) (string, error) {
		if f, ok := full[name]; ok {
			return f, nil
		}
		if slices.Contains(stack, name) {
			return "", fmt.Errorf("state: cycle through %s", name)
		}
		parts := []string{own[name]}
		ds := slices.Clone(deps[name])
		slices.Sort(ds)
		for _, d := range ds {
			if _, ok := own[d]; !ok {
				continue
			}
			f, err := visit(d, append(stack, name))
			if err != nil {
				return "", err
			}
			parts = append(parts, d+"="+f)
		}
		full[name] = hashParts(parts)
		return full[name], nil
	}
	out := make(map[string]NodeState, len(own))
	for name := range own {
		f, err := visit(name, nil)
		if err != nil {
			return nil, err
		}
		out[name] = NodeState{Kind: kinds[name], Own: own[name], Full: f}
	}
	return out, nil
}

func hashParts(parts []string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// NormalizeSQL removes comments and collapses whitespace outside string
// literals and quoted identifiers, so that formatting-only changes do not
// change a fingerprint.
func NormalizeSQL(sql string) string {
	var b strings.Builder
	space := false
	emit := func(c byte) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			q := c
			emit(c)
			for i++; i < len(sql); i++ {
				b.WriteByte(sql[i])
				if sql[i] == q {
					if i+1 < len(sql) && sql[i+1] == q {
						i++
						b.WriteByte(q)
						continue
					}
					break
				}
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			space = true
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
			}
			space = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
		default:
			emit(c)
		}
	}
	return strings.TrimSuffix(b.String(), ";")
}
