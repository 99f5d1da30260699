package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

// bindCheck binds the selected models and tests against an empty copy of
// the schema (duckenv.Bind): source columns come from the target's
// database when it exists and no other process holds it, else from the
// property files. Errors go to stderr, one per node with its file and line;
// the summary to summary. It fails (exit 1) when anything failed to bind.
func (c *cli) bindCheck(ctx context.Context, p *project.Project, plan *orchestrate.Plan, targetPath string, summary io.Writer) error {
	var names []string
	for _, n := range plan.Order {
		if n.Kind == orchestrate.KindModel || n.Kind == orchestrate.KindTest {
			names = append(names, n.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	dbPath := c.databasePath(targetPath)
	start := time.Now()
	rep, err := duckenv.Bind(ctx, p, duckenv.BindOptions{Nodes: names, SourceDB: dbPath, Logger: c.log})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, e := range rep.Errors {
		fmt.Fprintf(c.stderr, "%v\n", e)
	}
	// Nodes skipped below a failure are listed; those skipped for a
	// source without known columns are counted per source.
	unknown := map[string]int{}
	for _, s := range rep.Skipped {
		if strings.HasPrefix(s.Reason, "source ") {
			unknown[s.Reason]++
			continue
		}
		fmt.Fprintf(c.stderr, "%s\n", s)
	}
	for _, reason := range slices.Sorted(maps.Keys(unknown)) {
		fmt.Fprintf(c.stderr, "warning: %d nodes not checked: %s (build or generate the sources first, or declare each column's data_type)\n", unknown[reason], reason)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(c.stderr, "note: %s\n", n)
	}
	counts := map[string]int{}
	for _, origin := range rep.Sources {
		counts[origin]++
	}
	fmt.Fprintf(summary, "Bound %d nodes against an empty copy of the schema in %.2fs (sources: %d from %s, %d declared, %d unknown): %d errors, %d skipped\n",
		rep.Checked, elapsed.Seconds(), counts[duckenv.SourceColumnsDatabase], filepath.ToSlash(dbPath),
		counts[duckenv.SourceColumnsDeclared], counts[duckenv.SourceColumnsUnknown], len(rep.Errors), len(rep.Skipped))
	if len(rep.Errors) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("compile: %d nodes failed to bind", len(rep.Errors))}
	}
	return nil
}
