package project

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// FromModels makes a project of models declared in Go. RawSQL may use
// Jinja (ref, source, config, var, env_var, is_incremental, this, target);
// a config() call in RawSQL overrides the Go fields. The models are copied,
// so the arguments are not modified; the project's copies are in Models and
// are the nodes' Specs.
func FromModels(opts Options, models ...*Model) (*Project, error) {
	vars := cloneVars(opts.Vars)
	p := &Project{
		Target:  opts.Target.withDefaults(),
		Vars:    vars,
		Models:  map[string]*Model{},
		Seeds:   map[string]*Seed{},
		Sources: map[string]*Source{},
		Tests:   map[string]*DataTest{},
		Macros:  map[string]string{},
		models:  map[string]*modelState{},
		tests:   map[string]*testState{},
	}
	p.jc = newJinjaCtx("", "", vars, opts)
	var errs []error
	var states []*modelState
	h := sha256.New()
	for i, in := range models {
		if in == nil {
			errs = append(errs, fmt.Errorf("model #%d is nil", i+1))
			continue
		}
		if in.Name == "" {
			errs = append(errs, fmt.Errorf("model #%d has no name", i+1))
			continue
		}
		if _, dup := p.models[in.Name]; dup {
			errs = append(errs, &Error{Kind: ErrDuplicate, Msg: fmt.Sprintf("two models are named %q", in.Name)})
			continue
		}
		m := *in
		m.compile = nil
		m.Config = maps.Clone(in.Config)
		m.Meta = maps.Clone(in.Meta)
		m.Columns = slices.Clone(in.Columns)
		m.UniqueKey = slices.Clone(in.UniqueKey)
		label := m.Path
		if label == "" {
			label = "model " + m.Name
		}
		cfg := newConfig()
		cfg.applyMap(m.Config, label)
		set := func(k string, v any, ok bool) {
			if ok {
				cfg.set(k, v, label)
			}
		}
		set("materialized", m.Materialized, m.Materialized != "")
		set("schema", m.Schema, m.Schema != "")
		set("alias", m.Alias, m.Alias != "")
		set("unique_key", toAnyList(m.UniqueKey), len(m.UniqueKey) > 0)
		set("incremental_strategy", m.IncrementalStrategy, m.IncrementalStrategy != "")
		set("meta", map[string]any(m.Meta), len(m.Meta) > 0)
		ms := &modelState{m: &m, label: label, raw: m.RawSQL, cfg: cfg}
		p.models[m.Name] = ms
		states = append(states, ms)
	}
	l := &loader{ctx: context.Background(), p: p}
	l.parallel(len(states), func(i int) { states[i].err = p.parseModel(states[i]) })
	for _, ms := range states {
		if ms.err != nil {
			errs = append(errs, ms.err)
			continue
		}
		p.applyInlineConfig(ms)
		if err := p.finishModel(ms); err != nil {
			errs = append(errs, err)
		}
		p.Models[ms.m.Name] = ms.m
	}
	for _, name := range slices.Sorted(maps.Keys(p.models)) {
		ms := p.models[name]
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(ms.raw), ms.raw)
	}
	errs = append(errs, p.buildNodes()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.fingerprint = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

func toAnyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
