package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/vyaparbazaar/dataops/anonymize"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
)

// refreshCmd refreshes --target from the environment its refresh: names
// (production): anonymized through the project's policy for staging, a
// consistent anonymized sample for dev. The new data is written to a
// temporary file first (the anonymize package fails closed: PII without a
// rule, a key collision or a leak stop it there), then every table is
// replaced in one transaction.
func (c *cli) refreshCmd(ctx context.Context) error {
	return c.refreshInto(ctx, nil)
}

// refreshInto refreshes the --target environment, e (opened here when nil;
// the daemon passes its own).
func (c *cli) refreshInto(ctx context.Context, e *duckenv.Env) error {
	fsys, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	cfg, s := c.envCfg, c.envSettings
	if s.Refresh == nil {
		return &exitError{code: 2, err: fmt.Errorf("refresh: environment %s has no refresh: in %s", c.opts.target, env.EnvironmentsFile)}
	}
	if s.Data == env.DataFull {
		return &exitError{code: 2, err: fmt.Errorf("refresh: %s holds full data; only anonymized and sample environments are refreshed", c.opts.target)}
	}
	from, err := cfg.Environment(s.Refresh.From)
	if err != nil {
		return err
	}
	// Reading the source environment needs its own permission.
	if err := env.Check(ctx, cfg.Policy(), &env.FileAuditor{Path: filepath.Join(targetPath, from.Name+".audit.jsonl")}, c.principal, from.Name,
		env.ActionRead, "refresh "+c.opts.target, "cli"); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("refresh: %w", err)}
	}
	src := envDatabasePath(targetPath, from)
	if c.opts.fromBackup != "" {
		restored := filepath.Join(targetPath, fmt.Sprintf(".refresh-source-%d.duckdb", time.Now().UnixNano()))
		if _, err := duckenv.RestoreBackup(ctx, c.opts.fromBackup, restored, duckenv.RestoreOptions{}); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("refresh: %w", err)}
		}
		defer os.Remove(restored)
		src = restored
	}
	if _, err := os.Stat(src); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("refresh: %s's database %s: %w", from.Name, src, err)}
	}
	if c.opts.fromBackup == "" {
		// The source's own process (its daemon) holds the file: read its
		// newest whole-database backup instead.
		if probe, err := duckenv.Open(ctx, duckenv.Config{Path: src, ReadOnly: true, TempDir: filepath.Join(targetPath, ".dataops-refresh")}); err == nil {
			_ = probe.Close()
		} else if errors.Is(err, duckenv.ErrLocked) {
			backups, _ := filepath.Glob(filepath.Join(targetPath, "backups", from.Name+"-*.duckdb"))
			if len(backups) == 0 {
				return &exitError{code: 1, err: fmt.Errorf("refresh: %s is held by another process and has no backup in %s: %w",
					from.Name, filepath.Join(targetPath, "backups"), err)}
			}
			src = backups[len(backups)-1] // names sort by time
			fmt.Fprintf(c.stdout, "%s is in use by another process: reading its newest backup %s\n", from.Name, src)
		}
	}
	policyFile := s.Refresh.Policy
	if policyFile == "" {
		policyFile = "anonymize.yml"
	}
	data, err := fs.ReadFile(fsys, policyFile)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("refresh: policy %s: %w", policyFile, err)}
	}
	policy, err := anonymize.ParsePolicy(data, policyFile)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("refresh: %w", err)}
	}
	if s.Data == env.DataSample && policy.Sample == nil {
		root, fraction := s.Refresh.Root, s.Refresh.Fraction
		if root == "" {
			root = "customers"
		}
		if fraction == 0 {
			fraction = 0.01
		}
		policy.Sample = &anonymize.Sample{Seed: s.Refresh.Seed, Fractions: map[string]float64{root: fraction}}
	}
	var key []byte
	if c.opts.keyFile != "" {
		key, err = anonymize.KeyFromFile(c.opts.keyFile)
	} else {
		key, err = anonymize.KeyFromEnv(defaultKeyEnv)
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("refresh: %w", err)}
	}
	tmp := filepath.Join(targetPath, fmt.Sprintf(".refresh-%s-%d.duckdb", c.opts.target, time.Now().UnixNano()))
	defer os.Remove(tmp)
	kind := "anonymized"
	if policy.Sample != nil {
		kind = "anonymized sample"
	}
	fmt.Fprintf(c.stdout, "Refreshing %s from %s (%s, policy %s)\n", c.opts.target, from.Name, kind, policyFile)
	res, err := anonymize.Run(ctx, src, tmp, policy, anonymize.Options{
		Key: key, MemoryLimit: s.MemoryLimit, Threads: s.Threads, Logger: c.log,
		Progress: func(p anonymize.Progress) {
			if p.Step == "table" {
				fmt.Fprintf(c.stdout, "  %-28s %12s rows  %6.2fs\n", p.Table, humanize.Comma(p.Rows), p.Elapsed.Seconds())
			} else {
				fmt.Fprintf(c.stdout, "  %-28s %12s       %6.2fs\n", p.Step, "", p.Elapsed.Seconds())
			}
		},
	})
	if err != nil {
		var le *anonymize.LeakError
		if errors.As(err, &le) {
			fmt.Fprintf(c.stderr, "Leak check: FAIL\n")
		}
		return &exitError{code: 1, err: fmt.Errorf("refresh refused, %s unchanged: %w", c.opts.target, err)}
	}
	if e == nil {
		if e, err = c.open(ctx, c.databasePath(targetPath), false); err != nil {
			return err
		}
		defer e.Close()
	}
	tables, err := e.ReplaceTables(ctx, tmp)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	var rows int64
	names := make([]string, len(tables))
	for i, t := range tables {
		rows += t.Rows
		names[i] = t.Schema + "." + t.Name
	}
	summary := fmt.Sprintf("refresh %s from %s: %d tables, %d rows (%s; leak check: %d values searched, 0 found)",
		c.opts.target, from.Name, len(tables), rows, kind, res.Leaks.Values)
	now := time.Now()
	if err := e.RecordRun(ctx, duckenv.RunRecord{RunID: orchestrate.NewRunID(now), StartedAt: now.Add(-res.Elapsed), FinishedAt: now,
		Status: "success", Invocation: summary}); err != nil {
		fmt.Fprintf(c.stderr, "warning: refresh not recorded: %v\n", err)
	}
	fmt.Fprintf(c.stdout, "Leak check: PASS (%s original values searched, 0 found)\n", humanize.Comma(res.Leaks.Values))
	fmt.Fprintf(c.stdout, "Replaced %d tables (%s rows) in one transaction: %s\n", len(tables), humanize.Comma(rows), strings.Join(names, ", "))
	fmt.Fprintf(c.stdout, "Rebuild on the new data: vyaparbazaar build --target %s\n", c.opts.target)
	return nil
}

// envDatabasePath is an environment's database file under targetPath.
func envDatabasePath(targetPath string, s *env.Settings) string {
	if s.Database == "" {
		return filepath.Join(targetPath, s.Name+".duckdb")
	}
	if filepath.IsAbs(s.Database) {
		return s.Database
	}
	return filepath.Join(targetPath, filepath.FromSlash(s.Database))
}
