package main

// The `docs` command: a static HTML site of the project (internal/docsite).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/vyaparbazaar/dataops/internal/docsite"
)

func init() {
	register("docs", command{
		Summary: "write a static HTML site (models, columns, tests, owners, freshness, lineage picture) to target/docs",
		Run:     runDocs,
	})
}

// runDocs loads the project and writes its site into <target-path>/docs,
// or --out DIR.
func runDocs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("docs", flag.ContinueOnError)
	o := ciFlags(fset)
	out := fset.String("out", "", "output folder (default <target-path>/docs)")
	if err := fset.Parse(args); err != nil || fset.NArg() > 0 {
		fmt.Fprintf(stderr, "usage: vyaparbazaar docs [--project DIR] [--target-path DIR] [--out DIR] [--vars YAML]\n")
		return 2
	}
	c := &cli{opts: o, stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	p, targetPath, err := c.load(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar docs: %v\n", err)
		return 1
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(targetPath, "docs")
	}
	st, err := docsite.Write(ctx, p, dir, docsite.Options{Generated: time.Now()})
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar docs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wrote %d pages (%d models, %d sources, %d seeds, %d lineage edges) to %s\n",
		st.Pages, st.Models, st.Sources, st.Seeds, st.Edges, filepath.Join(dir, "index.html"))
	return 0
}
