package orchestrate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/vyaparbazaar/dataops/orchestrate"
)

// genDAG makes n no-op nodes in `width`-wide layers; each node depends on up
// to three nodes of the previous layer.
func genDAG(n, width int) []*orchestrate.Node {
	r := rand.New(rand.NewPCG(1, 2))
	nodes := make([]*orchestrate.Node, n)
	for i := range n {
		node := &orchestrate.Node{Name: fmt.Sprintf("m%05d", i), Kind: orchestrate.KindModel}
		layer := i / width
		if layer > 0 {
			for range 3 {
				j := (layer-1)*width + r.IntN(width)
				node.Deps = append(node.Deps, nodes[j].Name)
			}
		}
		nodes[i] = node
	}
	return nodes
}

var noop = orchestrate.RunnerFunc(func(context.Context, *orchestrate.Node) (orchestrate.Outcome, error) {
	return orchestrate.Outcome{}, nil
})

// BenchmarkExecutor10k measures the executor's scheduling overhead on a
// 10,000-node no-op DAG (100 layers of 100), against a baseline that calls the
// runner for every node in order without scheduling. The metric
// overhead-us/node is (executor - baseline) / 10,000.
func BenchmarkExecutor10k(b *testing.B) {
	nodes := genDAG(10_000, 100)
	p := orchestrate.NewPipeline(nodes...)
	var baseline float64
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			for _, n := range nodes {
				_, _ = noop.Run(context.Background(), n)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	for _, threads := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			for b.Loop() {
				run, err := orchestrate.Execute(context.Background(), p, orchestrate.Options{Runner: noop, Threads: threads})
				if err != nil || !run.OK() {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&ms)
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric((per-baseline)/10_000/1e3, "overhead-us/node")
			b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/1e6, "MB-alloc/run")
		})
	}
}
