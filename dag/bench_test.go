package dag

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
)

// synthetic returns n vertices with about 3 dependencies each (so ~3n
// edges): seeds and sources first, then models in staging, intermediate and
// mart folders, plus a test for every tenth model.
func synthetic(n int) []Vertex {
	r := rand.New(rand.NewSource(42))
	vs := make([]Vertex, 0, n)
	folders := []string{"staging", "intermediate", "marts"}
	mats := []string{"view", "table", "incremental"}
	tags := []string{"hourly", "daily", "finance", "marketing"}
	for i := 0; i < n; i++ {
		var v Vertex
		switch {
		case i < n/100:
			v = Vertex{Name: fmt.Sprintf("raw_%05d", i), Kind: KindSeed, Path: fmt.Sprintf("seeds/raw_%05d.csv", i)}
		case i < n/50:
			v = Vertex{Name: fmt.Sprintf("src_%d.table_%05d", i%7, i), Kind: KindSource, Path: "models/sources.yml"}
		case i%10 == 9:
			target := vs[len(vs)-1].Name
			v = Vertex{Name: fmt.Sprintf("test_%05d", i), Kind: KindTest, Deps: []string{target}, TestOf: target}
		default:
			f := folders[min(2, 3*i/n)]
			name := fmt.Sprintf("model_%05d", i)
			v = Vertex{
				Name:   name,
				Kind:   KindModel,
				Path:   fmt.Sprintf("models/%s/%s.sql", f, name),
				Tags:   []string{tags[r.Intn(len(tags))]},
				Config: map[string]string{"materialized": mats[r.Intn(len(mats))], "schema": f},
			}
			for k := 0; k < 3; k++ {
				d := vs[r.Intn(len(vs))]
				if d.Kind != KindTest {
					v.Deps = append(v.Deps, d.Name)
				}
			}
		}
		vs = append(vs, v)
	}
	r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
	return vs
}

func BenchmarkNew10k(b *testing.B) {
	vs := synthetic(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(vs); err != nil {
			b.Fatal(err)
		}
	}
}

var benchSelect = []string{
	"+tag:hourly,config.materialized:view",
	"model_050*+1 2+model_09000",
	"@model_05000",
	"path:models/marts/*.sql,resource_type:model source:src_3+",
}

func BenchmarkSelect10k(b *testing.B) {
	g, err := New(synthetic(10000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Select(benchSelect, []string{"tag:finance"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewTopoSelect10k(b *testing.B) {
	vs := synthetic(10000)
	b.ReportAllocs()
	for b.Loop() {
		g, err := New(vs)
		if err != nil {
			b.Fatal(err)
		}
		_ = g.TopoOrder()
		if _, err := g.Select(benchSelect, []string{"tag:finance"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycleError10k(b *testing.B) {
	vs := synthetic(10000)
	// Close a cycle: make the dependency of some model depend on it.
	byName := make(map[string]int, len(vs))
	for i := range vs {
		byName[vs[i].Name] = i
	}
	for i := range vs {
		if vs[i].Kind == KindModel && len(vs[i].Deps) > 0 {
			d := byName[vs[i].Deps[0]]
			vs[d].Deps = append(vs[d].Deps, vs[i].Name)
			break
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_, err := New(vs)
		var ce *CycleError
		if !errors.As(err, &ce) {
			b.Fatal("no cycle:", err)
		}
	}
}
