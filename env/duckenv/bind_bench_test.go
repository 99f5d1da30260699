package duckenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// genBindProject writes a project of n models in five layers (staging
// reads one of 50 declared sources; every other model joins two or three
// models of the layer before), with a unique and a not_null test on every
// staging model, Jinja loops and a macro.
func genBindProject(n int) fstest.MapFS {
	layers := []string{"stg", "int", "dim", "fct", "mart"}
	fsys := fstest.MapFS{
		"dbt_project.yml": {Data: []byte("name: bench\nversion: '1.0'\nmodels:\n  bench:\n    marts:\n      +materialized: table\n")},
		"macros/util.sql": {Data: []byte("{% macro safe_div(a, b) -%}\n  case when {{ b }} = 0 then null else {{ a }} / {{ b }} end\n{%- endmacro %}\n")},
	}
	per := n / len(layers)
	name := func(l, i int) string { return fmt.Sprintf("%s_%05d", layers[l], i) }
	var props strings.Builder
	props.WriteString("version: 2\nmodels:\n")
	for l := range layers {
		folder := map[int]string{0: "staging", 1: "intermediate"}[l]
		if folder == "" {
			folder = "marts"
		}
		for i := 0; i < per; i++ {
			var b strings.Builder
			if l == 0 {
				fmt.Fprintf(&b, "select id, amount, qty, created_at::date as day, status\nfrom {{ source('raw', 't%d') }}\nwhere status <> 'void'\n", i%50)
				fmt.Fprintf(&props, "  - name: %s\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n", name(l, i))
			} else {
				k := 2 + i%2
				b.WriteString("with\n")
				for j := 0; j < k; j++ {
					if j > 0 {
						b.WriteString(",\n")
					}
					fmt.Fprintf(&b, "p%d as (select * from {{ ref('%s') }})", j, name(l-1, (i+j*7)%per))
				}
				b.WriteString("\nselect\n  p0.id,\n  p0.day,\n  p0.status,\n  p0.amount + coalesce(p1.amount, 0) as amount,\n  p0.qty,\n")
				b.WriteString("{%- for c in ['amount', 'qty'] %}\n  {{ safe_div('p0.' ~ c, 'p1.qty') }} as ratio_{{ c }},\n{%- endfor %}\n")
				b.WriteString("  p0.day > date '2025-01-01' as recent\nfrom p0\nleft join p1 on p1.id = p0.id\n")
			}
			fsys[fmt.Sprintf("models/%s/%s.sql", folder, name(l, i))] = &fstest.MapFile{Data: []byte(b.String())}
		}
	}
	fsys["models/schema.yml"] = &fstest.MapFile{Data: []byte(props.String())}
	var src strings.Builder
	src.WriteString("version: 2\nsources:\n  - name: raw\n    tables:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&src, "      - name: t%d\n        columns:\n          - {name: id, data_type: bigint}\n          - {name: amount, data_type: 'decimal(12,2)'}\n"+
			"          - {name: qty, data_type: integer}\n          - {name: created_at, data_type: timestamp}\n          - {name: status, data_type: varchar}\n", i)
	}
	fsys["models/sources.yml"] = &fstest.MapFile{Data: []byte(src.String())}
	return fsys
}

// compileAll renders every model and test, as compile without binding does.
func compileAll(b testing.TB, p *project.Project) {
	for _, n := range p.Nodes() {
		if n.Kind != orchestrate.KindModel && n.Kind != orchestrate.KindTest {
			continue
		}
		if _, err := p.Compile(n.Name, project.CompileState{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGeneratedProjectBinds(t *testing.T) {
	p, err := project.Load(context.Background(), genBindProject(50), project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Bind(t.Context(), p, BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	// 10 sources used, 50 models, 20 tests.
	if rep.Checked != 80 || len(rep.Skipped) != 0 {
		t.Fatalf("checked %d, skipped %v", rep.Checked, rep.Skipped)
	}
}

// BenchmarkBind1000 measures compile (load and render every model) and
// compile + bind of a generated 1,000-model project; the ratio
// bind/compile is compared against the compile baseline of the same run.
func BenchmarkBind1000(b *testing.B) {
	fsys := genBindProject(1000)
	ctx := context.Background()
	var compile, bind time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := project.Load(ctx, fsys, project.Options{})
		if err != nil {
			b.Fatal(err)
		}
		compileAll(b, p)
		compile += time.Since(start)

		start = time.Now()
		p, err = project.Load(ctx, fsys, project.Options{})
		if err != nil {
			b.Fatal(err)
		}
		compileAll(b, p)
		rep, err := Bind(ctx, p, BindOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			b.Fatal(err)
		}
		if rep.Checked < 1000 {
			b.Fatalf("checked only %d nodes", rep.Checked)
		}
		bind += time.Since(start)
	}
	b.ReportMetric(float64(compile.Milliseconds())/float64(b.N), "compile-ms/op")
	b.ReportMetric(float64(bind.Milliseconds())/float64(b.N), "compile+bind-ms/op")
	b.ReportMetric(float64(bind)/float64(compile), "bind/compile")
}
