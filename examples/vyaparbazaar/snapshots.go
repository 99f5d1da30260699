package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/snapshot"
)

const snapshotsUsage = `usage: vyaparbazaar snapshots <list|show|diff|rollback|restore-at|gc|compact|backup|restore> ...
  list [--limit N]                  snapshots, newest first
  show ID                           the models and versions of a snapshot
  diff A [B]                        what changed from snapshot A to B (default: the latest)
  rollback ID [-s SELECTOR]         make readers see snapshot ID again (the whole environment, or the selected models)
  rollback --undo                   undo the latest rollback
  restore-at TIME [-s SELECTOR]     the state as of TIME, e.g. "2026-11-25 05:30:00" (local time) or RFC 3339
  gc [--keep-last N] [--keep-for D] [--dry-run]
                                    drop versions no retained snapshot references (production: 7 days and 10 publishes)
  compact                           rewrite the database file without its free space
  backup DIR                        Parquet files and a manifest (row counts, SHA-256) in DIR
  restore DIR [--database FILE] [--force]
                                    a backup into a new database file (--force overwrites an existing one)`

// actor names who publishes from this CLI.
func actor(cmd string) string { return actorAs("", cmd) }

// actorAs names who publishes: the authorized principal when known, else
// the operating system user.
func actorAs(principal, cmd string) string {
	if principal != "" {
		return principal + " (vyaparbazaar " + cmd + ")"
	}
	who := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
	}
	if who == "" {
		who = "unknown"
	}
	return who + " (vyaparbazaar " + cmd + ")"
}

// gitCommit is the HEAD commit of the project folder's repository, or "".
func gitCommit(ctx context.Context, dir string) string {
	if dir == "" {
		return ""
	}
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (c *cli) snapshots(ctx context.Context) error {
	args := c.opts.positional
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New(snapshotsUsage)}
	}
	usage := func(msg string) error {
		return &exitError{code: 2, err: fmt.Errorf("snapshots %s: %s\n%s", args[0], msg, snapshotsUsage)}
	}
	sub, rest := args[0], args[1:]
	if sub == "restore" {
		if len(rest) != 1 {
			return usage("give the backup folder")
		}
		return c.snapshotRestore(ctx, rest[0])
	}
	if sub == "compact" {
		return c.snapshotCompact(ctx)
	}
	p, targetPath, e, err := c.loadOpen(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	st := e.Snapshots()
	switch sub {
	case "list":
		list, err := st.List(ctx, c.opts.limit)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "No snapshots yet: a build publishes one.")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tKIND\tMODELS\tRUN\tACTOR\tNOTE")
		for _, s := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.CreatedAt.Local().Format(time.DateTime), s.Kind, len(s.Models),
				orDash(s.RunID), orDash(s.Actor), s.Note)
		}
		return tw.Flush()
	case "show":
		if len(rest) != 1 {
			return usage("give a snapshot id")
		}
		id, err := parseSnapID(rest[0])
		if err != nil {
			return usage(err.Error())
		}
		s, err := st.Get(ctx, id)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(c.stdout, "Snapshot #%d  %s  %s  environment %s\n", s.ID, s.CreatedAt.Local().Format(time.DateTime), s.Kind, s.Environment)
		fmt.Fprintf(c.stdout, "Run %s  by %s  code %s%s\n", orDash(s.RunID), orDash(s.Actor), orDash(short(s.Fingerprint)), gitSuffix(s.GitCommit))
		if s.Note != "" {
			fmt.Fprintf(c.stdout, "Note: %s\n", s.Note)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nMODEL\tRELATION\tKIND\tVERSION\tROWS\tBUILT\tRUN")
		for _, name := range s.Names() {
			v := s.Models[name]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", name, v.Relation, v.Materialized, v.ID, rowsText(v.Rows),
				v.BuiltAt.Local().Format(time.DateTime), orDash(v.RunID))
		}
		return tw.Flush()
	case "diff":
		if len(rest) < 1 || len(rest) > 2 {
			return usage("give one or two snapshot ids")
		}
		a, err := parseSnapID(rest[0])
		if err != nil {
			return usage(err.Error())
		}
		sa, err := st.Get(ctx, a)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		var sb snapshot.Snapshot
		if len(rest) == 2 {
			b, err := parseSnapID(rest[1])
			if err != nil {
				return usage(err.Error())
			}
			sb, err = st.Get(ctx, b)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
		} else if sb, err = st.At(ctx, time.Now().Add(24*time.Hour*365*100)); err != nil {
			return &exitError{code: 1, err: err}
		}
		changes := snapshot.Diff(sa, sb)
		fmt.Fprintf(c.stdout, "From #%d (%s) to #%d (%s): %d %s changed\n", sa.ID, sa.CreatedAt.Local().Format(time.DateTime),
			sb.ID, sb.CreatedAt.Local().Format(time.DateTime), len(changes), plural(int64(len(changes)), "model", "models"))
		for _, ch := range changes {
			switch ch.Type {
			case snapshot.Added:
				fmt.Fprintf(c.stdout, "  + %s  version %d, %s\n", ch.Model, ch.To.ID, rowsText(ch.To.Rows))
			case snapshot.Removed:
				fmt.Fprintf(c.stdout, "  - %s  (was version %d)\n", ch.Model, ch.From.ID)
			default:
				delta := ""
				if d, ok := ch.RowDelta(); ok {
					delta = fmt.Sprintf(", rows %s → %s (%+d)", humanize.Comma(ch.From.Rows), humanize.Comma(ch.To.Rows), d)
				}
				fmt.Fprintf(c.stdout, "  ~ %s  version %d → %d (run %s)%s\n", ch.Model, ch.From.ID, ch.To.ID, orDash(ch.To.RunID), delta)
			}
		}
		return nil
	case "rollback", "restore-at":
		opts := duckenv.RollbackOptions{Actor: actorAs(c.principal.Name, "snapshots "+sub)}
		switch {
		case sub == "rollback" && c.opts.undo:
			if len(rest) != 0 {
				return usage("--undo takes no snapshot id")
			}
			s, err := e.UndoRollback(ctx, opts.Actor)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(c.stdout, "Undone: readers see snapshot #%d again (recorded as snapshot #%d: %s)\n", s.RestoredFrom, s.ID, s.Note)
			return nil
		case len(rest) != 1:
			if sub == "rollback" {
				return usage("give a snapshot id (or --undo)")
			}
			return usage("give a time")
		case sub == "rollback":
			if opts.To, err = parseSnapID(rest[0]); err != nil {
				return usage(err.Error())
			}
		default:
			if opts.At, err = parseTime(rest[0]); err != nil {
				return usage(err.Error())
			}
		}
		if len(c.opts.selects) > 0 || len(c.opts.excludes) > 0 {
			plan, err := c.plan(p)
			if err != nil {
				return err
			}
			for _, n := range plan.Order {
				if n.Kind == orchestrate.KindModel || n.Kind == orchestrate.KindSeed {
					opts.Models = append(opts.Models, n.Name)
				}
			}
			if len(opts.Models) == 0 {
				// Never fall through to rolling back everything.
				return &exitError{code: 1, err: fmt.Errorf("snapshots %s: the selection matches no model; nothing was changed", sub)}
			}
		}
		before, _ := st.At(ctx, time.Now().Add(24*time.Hour*365*100))
		s, err := e.Rollback(ctx, opts)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		changed := snapshot.Diff(before, s)
		fmt.Fprintf(c.stdout, "Rolled back %d %s to snapshot #%d in one transaction; recorded as snapshot #%d.\n",
			len(changed), plural(int64(len(changed)), "model", "models"), s.RestoredFrom, s.ID)
		for _, ch := range changed {
			fmt.Fprintf(c.stdout, "  %s %s\n", ch.Type, ch.Model)
		}
		fmt.Fprintln(c.stdout, "Undo with: vyaparbazaar snapshots rollback --undo")
		return nil
	case "gc":
		opts := duckenv.GCOptions{Retention: c.retention()}
		if c.opts.keepLast >= 0 || c.opts.keepFor >= 0 {
			ret := snapshot.DefaultRetention(c.opts.target)
			if r := c.retention(); r != nil {
				ret = *r
			}
			if c.opts.keepLast >= 0 {
				ret.KeepLast = c.opts.keepLast
			}
			if c.opts.keepFor >= 0 {
				ret.KeepFor = c.opts.keepFor
			}
			opts.Retention = &ret
		}
		opts.DryRun = c.opts.dryRun
		rep, err := e.GC(ctx, opts)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		verb := "Dropped"
		if opts.DryRun {
			verb = "Would drop"
		}
		fmt.Fprintf(c.stdout, "Kept %d snapshots, forgot %d. %s %d relations (%d versions collected, %s lineage rows trimmed).\n",
			len(rep.Kept), len(rep.Forgotten), verb, len(rep.Dropped), rep.Collected, humanize.Comma(rep.Trimmed))
		if !opts.DryRun {
			fmt.Fprintf(c.stdout, "Freed %s inside the database file (%s); `snapshots compact` shrinks the file.\n",
				humanize.IBytes(uint64(rep.FreedBytes)), humanize.IBytes(uint64(rep.FileBytes)))
		}
		return nil
	case "backup":
		if len(rest) != 1 {
			return usage("give a folder to write the backup to")
		}
		start := time.Now()
		m, err := e.ExportBackup(ctx, rest[0])
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(c.stdout, "Backed up %d tables, %d views (%s rows, %s) of %s to %s in %s (snapshot #%d)\n",
			len(m.Tables), len(m.Views), humanize.Comma(m.Rows()), humanize.IBytes(uint64(m.Bytes())), c.databasePath(targetPath), rest[0],
			time.Since(start).Round(time.Millisecond), m.Snapshot)
		return nil
	}
	return usage("unknown subcommand")
}

// snapshotRestore restores a backup folder into --database (default: the
// target's database path).
func (c *cli) snapshotRestore(ctx context.Context, dir string) error {
	_, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	dest := c.databasePath(targetPath)
	start := time.Now()
	m, err := duckenv.RestoreBackup(ctx, dir, dest, duckenv.RestoreOptions{Overwrite: c.opts.force})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(c.stdout, "Restored %d tables (%s rows, verified against the manifest) and %d views into %s in %s\n",
		len(m.Tables), humanize.Comma(m.Rows()), len(m.Views), dest, time.Since(start).Round(time.Millisecond))
	return nil
}

func (c *cli) snapshotCompact(ctx context.Context) error {
	_, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	path := c.databasePath(targetPath)
	if _, err := os.Stat(path); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("compact: %w", err)}
	}
	rep, err := duckenv.CompactFile(ctx, duckenv.Config{Name: c.opts.target, Path: path, Logger: c.log,
		TempDir: filepath.Join(filepath.Dir(path), ".dataops")})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(c.stdout, "Compacted %s: %s → %s\n", path, humanize.IBytes(uint64(rep.BytesBefore)), humanize.IBytes(uint64(rep.BytesAfter)))
	return nil
}

func parseSnapID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a snapshot id (a positive number; `snapshots list` shows them)", s)
	}
	return id, nil
}

// parseTime accepts RFC 3339 or local "2006-01-02 15:04[:05]" or "15:04"
// (today).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			now := time.Now()
			return time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339, \"2006-01-02 15:04:05\" or \"05:30\" (today, local time)", s)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func gitSuffix(commit string) string {
	if commit == "" {
		return ""
	}
	return "  git " + short(commit)
}

func rowsText(n int64) string {
	if n < 0 {
		return "-"
	}
	return humanize.Comma(n)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// retention is the environment's snapshot retention from environments.yml,
// or nil for the default.
func (c *cli) retention() *snapshot.Retention {
	if c.envSettings == nil || c.envSettings.Retention == nil {
		return nil
	}
	return &snapshot.Retention{KeepLast: c.envSettings.Retention.KeepLast, KeepFor: c.envSettings.Retention.KeepFor}
}
