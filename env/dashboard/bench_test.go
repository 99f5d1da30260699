package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/dashboard"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/snapshot"
)

const (
	benchModels = 1000
	benchRuns   = 60
)

// bigProject is a 1,000-model project in ten layers (each model reads two
// of the layer before) with a unique and a not_null test per model.
func bigProject(b *testing.B) *project.Project {
	fsys := fstest.MapFS{"dbt_project.yml": {Data: []byte("name: big\nversion: '1'\n")}}
	var props strings.Builder
	props.WriteString("version: 2\nmodels:\n")
	for i := range benchModels {
		layer := i / (benchModels / 10)
		sql := "select 1 as id"
		if layer > 0 {
			prev := (layer-1)*(benchModels/10) + i%(benchModels/10)
			sql = fmt.Sprintf("select a.id from {{ ref('m%04d') }} a join {{ ref('m%04d') }} b using (id)", prev, (layer-1)*(benchModels/10)+(i+1)%(benchModels/10))
		}
		fsys[fmt.Sprintf("models/l%d/m%04d.sql", layer, i)] = &fstest.MapFile{Data: []byte(sql + "\n")}
		fmt.Fprintf(&props, "  - name: m%04d\n    description: Model %d.\n    columns:\n      - name: id\n        tests: [unique, not_null]\n", i, i)
	}
	fsys["models/schema.yml"] = &fstest.MapFile{Data: []byte(props.String())}
	p, err := project.Load(context.Background(), fsys, project.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// bigHistory records benchRuns runs of every node (models and tests, ~3,000
// results each) and one snapshot serving every model.
func bigHistory(b *testing.B, e *duckenv.Env, p *project.Project) string {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var last string
	for r := range benchRuns {
		start := t0.Add(time.Duration(r) * time.Hour)
		var res []*orchestrate.NodeResult
		for k, n := range p.Nodes() {
			at := start.Add(time.Duration(k) * time.Millisecond)
			st := orchestrate.StatusSuccess
			if n.Kind == orchestrate.KindTest {
				st = orchestrate.StatusPass
			}
			nr := &orchestrate.NodeResult{Node: n.Name, Kind: n.Kind, Status: st, Index: k + 1, ReadyAt: at, StartedAt: at.Add(time.Millisecond),
				FinishedAt: at.Add(5 * time.Millisecond), Wait: time.Millisecond, ExecutionTime: 4 * time.Millisecond, RowsAffected: int64(100 + r),
				Attempts: []orchestrate.Attempt{{Number: 1, StartedAt: at.Add(time.Millisecond), Duration: 4 * time.Millisecond}}}
			res = append(res, nr)
		}
		data, err := json.Marshal(res)
		if err != nil {
			b.Fatal(err)
		}
		last = fmt.Sprintf("run-%03d", r)
		if err := e.RecordRun(ctx, duckenv.RunRecord{RunID: last, StartedAt: start, FinishedAt: start.Add(time.Minute), Status: "success",
			Invocation: "bench", NodeCounts: map[string]int{"success": benchModels, "pass": 2 * benchModels}, Results: data}); err != nil {
			b.Fatal(err)
		}
	}
	models := map[string]snapshot.Version{}
	for name := range p.Models {
		models[name] = snapshot.Version{Model: name, BuiltAt: t0, Rows: 100}
	}
	for range 20 {
		if _, err := e.Snapshots().Record(ctx, snapshot.Snapshot{Kind: snapshot.KindPublish, RunID: last, Models: models}); err != nil {
			b.Fatal(err)
		}
	}
	return last
}

// BenchmarkPages1000Models renders every page of a 1,000-model project
// with 60 recorded runs of ~3,000 nodes. Metrics: ms per page, the first
// view after a run (-cold: the run history is parsed) and the next ones;
// and, as
// ratios measured in the same loop, the dashboard's one-query reads
// against the naive reads through the general APIs (the whole run history
// parsed in Go; every snapshot's versions loaded for the list).
func BenchmarkPages1000Models(b *testing.B) {
	ctx := context.Background()
	p := bigProject(b)
	e, err := duckenv.Open(ctx, duckenv.Config{Path: filepath.Join(b.TempDir(), "big.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	lastRun := bigHistory(b, e, p)
	me := env.DefaultConfig().Principal("asha")
	pages := []string{"/", "/runs", "/runs/" + lastRun, "/lineage", "/lineage?select=%2Bm0950", "/models/m0500", "/quality", "/snapshots"}
	cold := make([]time.Duration, len(pages))
	warm := make([]time.Duration, len(pages))
	var modelQuery, naiveModel, listSnap, naiveSnap time.Duration
	for b.Loop() {
		// A new handler: the first views after a run (nothing cached),
		// then the same pages again.
		h, err := dashboard.New(dashboard.Options{Project: p, Environments: []dashboard.Environment{{Name: "dev", Env: e}}, Anonymous: &me})
		if err != nil {
			b.Fatal(err)
		}
		for _, spent := range [][]time.Duration{cold, warm} {
			for i, path := range pages {
				start := time.Now()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				spent[i] += time.Since(start)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
				}
			}
		}
		// A model's history: one JSON query vs. the history parsed in Go.
		start := time.Now()
		if _, err := e.NodeHistory(ctx, []string{"m0500", "unique_m0500_id", "not_null_m0500_id"}, benchRuns); err != nil {
			b.Fatal(err)
		}
		modelQuery += time.Since(start)
		start = time.Now()
		runs, err := e.AlertHistory().Runs(ctx, benchRuns)
		if err != nil {
			b.Fatal(err)
		}
		var found int
		for _, r := range runs {
			for _, n := range r.Nodes {
				if n.Node == "m0500" {
					found++
				}
			}
		}
		if found != benchRuns {
			b.Fatalf("naive history found %d", found)
		}
		naiveModel += time.Since(start)
		// The snapshot list: one query vs. List (each snapshot's versions).
		start = time.Now()
		if _, _, err := e.SnapshotSummaries(ctx, 50, 0); err != nil {
			b.Fatal(err)
		}
		listSnap += time.Since(start)
		start = time.Now()
		if _, err := e.Snapshots().List(ctx, 50); err != nil {
			b.Fatal(err)
		}
		naiveSnap += time.Since(start)
	}
	n := float64(b.N)
	names := []string{"overview", "runs", "run", "lineage", "lineage-select", "model", "quality", "snapshots"}
	for i := range pages {
		b.ReportMetric(float64(cold[i].Microseconds())/1000/n, "ms/"+names[i]+"-cold")
		b.ReportMetric(float64(warm[i].Microseconds())/1000/n, "ms/"+names[i])
	}
	b.ReportMetric(modelQuery.Seconds()/naiveModel.Seconds(), "model-history/naive-ratio")
	b.ReportMetric(listSnap.Seconds()/naiveSnap.Seconds(), "snapshot-list/naive-ratio")
}
