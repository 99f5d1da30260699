package main

// The `lint` command: project rules (orchestrate/project.Lint) configured
// by the lint: section of dataops.yml.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/vyaparbazaar/dataops/orchestrate/project"
)

func init() {
	register("lint", command{
		Summary: "project rules: layer prefixes, mart owner and description, tested primary keys, no select * in marts",
		Run:     runLint,
	})
}

// ciFlags are the flags of the lint and docs commands.
func ciFlags(fs *flag.FlagSet) *cliOptions {
	o := &cliOptions{target: "dev", threads: 1}
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.projectDir, "project", "", "project folder")
	fs.StringVar(&o.target, "target", "dev", "target name")
	fs.StringVar(&o.targetPath, "target-path", "", "output folder")
	fs.StringVar(&o.vars, "vars", "", "project vars (YAML)")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.database, "database", "", "DuckDB file")
	return o
}

// lintConfig reads the lint: section of the project's dataops.yml.
func lintConfig(fsys fs.FS) (project.LintConfig, error) {
	data, err := fs.ReadFile(fsys, settingsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return project.LintConfig{}, nil
	}
	if err != nil {
		return project.LintConfig{}, err
	}
	return project.ParseLintConfig(settingsFile, data)
}

// runLint loads the project, checks it and prints one line per finding:
// "file:line: severity [rule] model name: message". Exit 1 when a finding
// is an error, 0 when there are only warnings or none, 2 for usage errors.
func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("lint", flag.ContinueOnError)
	o := ciFlags(fset)
	if err := fset.Parse(args); err != nil || fset.NArg() > 0 {
		fmt.Fprintf(stderr, "usage: vyaparbazaar lint [--project DIR] [--format text|json] [--vars YAML]\n")
		return 2
	}
	if o.format != "text" && o.format != "json" {
		fmt.Fprintf(stderr, "vyaparbazaar lint: unknown --format %q (text or json)\n", o.format)
		return 2
	}
	c := &cli{opts: o, stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	fsys, _, err := c.projectFS()
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar lint: %v\n", err)
		return 1
	}
	cfg, err := lintConfig(fsys)
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar lint: %v\n", err)
		return 1
	}
	p, _, err := c.load(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "vyaparbazaar lint: %v\n", err)
		return 1
	}
	findings := p.Lint(cfg)
	errs, warns := 0, 0
	for _, f := range findings {
		if f.Severity == project.LintError {
			errs++
		} else {
			warns++
		}
	}
	if o.format == "json" {
		type item struct {
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			Path     string `json:"path"`
			Line     int    `json:"line,omitempty"`
			Model    string `json:"model"`
			Message  string `json:"message"`
		}
		out := make([]item, 0, len(findings))
		for _, f := range findings {
			out = append(out, item{f.Rule, f.Severity, f.Path, f.Line, f.Node, f.Msg})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "vyaparbazaar lint: %v\n", err)
			return 1
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(stdout, f)
		}
		fmt.Fprintf(stdout, "Linted %d models: %d errors, %d warnings\n", len(p.Models), errs, warns)
	}
	if errs > 0 {
		return 1
	}
	return 0
}
