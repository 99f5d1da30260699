package project

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// benchLayers are the five layers of the generated benchmark project.
var benchLayers = []string{"staging", "intermediate", "marts", "dimensions", "facts"}

// genProject builds a project of n models in 5 layers; each model refs 2-3
// models of the previous layer, loops with {% for %}, calls config() and a
// macro.
func genProject(n int) fstest.MapFS {
	fsys := fstest.MapFS{
		"dbt_project.yml": {Data: []byte(`name: bench
version: "1.0"
vars:
  cutoff: 10
models:
  bench:
    +materialized: view
    staging:
      +tags: [stg]
    marts:
      +materialized: table
`)},
		"macros/util.sql": {Data: []byte(`{% macro cents(col, scale=2) -%}
  ({{ col }} / 100)::numeric(16, {{ scale }})
{%- endmacro %}
{% macro safe_div(a, b) -%}
  case when {{ b }} = 0 then null else {{ a }} / {{ b }} end
{%- endmacro %}
`)},
	}
	per := n / len(benchLayers)
	name := func(layer, i int) string { return fmt.Sprintf("%s_%05d", benchLayers[layer][:3], i) }
	for layer := range benchLayers {
		for i := 0; i < per; i++ {
			var b strings.Builder
			fmt.Fprintf(&b, "{{ config(materialized='%s', tags=['l%d']) }}\n", []string{"view", "table"}[i%2], layer)
			b.WriteString("with\n")
			if layer == 0 {
				fmt.Fprintf(&b, "src as (select * from {{ source('raw', 't%d') }})\n", i%50)
			} else {
				k := 2 + i%2
				for j := 0; j < k; j++ {
					if j > 0 {
						b.WriteString(",\n")
					}
					fmt.Fprintf(&b, "p%d as (select * from {{ ref('%s') }})", j, name(layer-1, (i+j*7)%per))
				}
				b.WriteString("\n")
			}
			b.WriteString("select\n  id,\n  {{ cents('amount') }} as amount,\n")
			b.WriteString("{%- for c in ['a', 'b', 'c'] %}\n  {{ safe_div(c, 'n') }} as ratio_{{ c }},\n{%- endfor %}\n")
			b.WriteString("  {{ var('cutoff') }} as cutoff\n")
			if layer == 0 {
				b.WriteString("from src\n")
			} else {
				b.WriteString("from p0\n")
			}
			fsys[fmt.Sprintf("models/%s/%s.sql", benchLayers[layer], name(layer, i))] = &fstest.MapFile{Data: []byte(b.String())}
		}
	}
	var src strings.Builder
	src.WriteString("version: 2\nsources:\n  - name: raw\n    tables:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&src, "      - name: t%d\n", i)
	}
	fsys["models/sources.yml"] = &fstest.MapFile{Data: []byte(src.String())}
	return fsys
}

func benchLoad(b *testing.B, n int) {
	fsys := genProject(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Load(context.Background(), fsys, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Models) != n {
			b.Fatalf("got %d models", len(p.Models))
		}
	}
}

func BenchmarkLoad1k(b *testing.B)  { benchLoad(b, 1000) }
func BenchmarkLoad10k(b *testing.B) { benchLoad(b, 10000) }
