package main

import (
	"io"
	"testing"
	"time"
)

// BenchmarkCompileDemo measures `compile` of the embedded demo against its
// generated sources: rendering only (--bind=false, the baseline) and
// rendering plus binding every model and test (the default), in the same
// run, reported as milliseconds and as the ratio bind/render.
func BenchmarkCompileDemo(b *testing.B) {
	tp := b.TempDir()
	if code := Main(b.Context(), []string{"generate", "--target-path", tp}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("generate: exit %d", code)
	}
	var render, bind time.Duration
	for b.Loop() {
		start := time.Now()
		if code := Main(b.Context(), []string{"compile", "--target-path", tp, "--bind=false"}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("compile --bind=false: exit %d", code)
		}
		render += time.Since(start)
		start = time.Now()
		if code := Main(b.Context(), []string{"compile", "--target-path", tp}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("compile: exit %d", code)
		}
		bind += time.Since(start)
	}
	b.ReportMetric(float64(render.Microseconds())/1000/float64(b.N), "render-ms/op")
	b.ReportMetric(float64(bind.Microseconds())/1000/float64(b.N), "render+bind-ms/op")
	b.ReportMetric(float64(bind)/float64(render), "bind/render")
}
