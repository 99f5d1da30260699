package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/vyaparbazaar/dataops/env"
)

// environments loads the project's environments.yml (or the default: dev
// only) and the settings of --target, once.
func (c *cli) environments(fsys fs.FS) (*env.Config, *env.Settings, error) {
	if c.envCfg != nil {
		return c.envCfg, c.envSettings, nil
	}
	cfg := env.DefaultConfig()
	data, err := fs.ReadFile(fsys, env.EnvironmentsFile)
	switch {
	case err == nil:
		if cfg, err = env.ParseConfig(data, env.EnvironmentsFile); err != nil {
			return nil, nil, &exitError{code: 2, err: err}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, err
	}
	s, err := cfg.Environment(c.opts.target)
	if err != nil {
		if cfg.File != "" {
			return nil, nil, &exitError{code: 2, err: fmt.Errorf("--target: %w", err)}
		}
		// Without environments.yml any target name is a local database.
		s = &env.Settings{Name: c.opts.target, Data: env.DataFull}
	}
	c.envCfg, c.envSettings = cfg, s
	return cfg, s, nil
}

// principal is who runs the CLI: the operating-system account, acting as
// the principal claimed with --as or $DATAOPS_USER when environments.yml
// allows it (env.Config.Resolve).
func (c *cli) resolvePrincipal(cfg *env.Config) (env.Principal, error) {
	claimed := c.opts.as
	if claimed == "" {
		claimed = os.Getenv("DATAOPS_USER")
	}
	osUser := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		osUser = u.Username
	}
	return cfg.Resolve(claimed, osUser)
}

// commandAction is the action a command needs on its environment, if it
// touches the environment's data.
func commandAction(cmd string, positional []string) (env.Action, bool) {
	sub := ""
	if len(positional) > 0 {
		sub = positional[0]
	}
	switch cmd {
	case "query", "history", "status", "deployments", "plan", "report":
		return env.ActionRead, true
	case "alerts":
		if sub == "" || sub == "list" || sub == "show" {
			return env.ActionRead, true
		}
		return env.ActionWrite, true
	case "build", "run", "test", "seed", "retry", "demo", "generate", "serve", "deploy", "refresh", "perf":
		return env.ActionWrite, true
	case "approve":
		return env.ActionApprove, true
	case "incidents":
		if sub == "" || sub == "list" || sub == "show" {
			return env.ActionRead, true
		}
		return env.ActionWrite, true
	case "snapshots":
		switch sub {
		case "", "list", "show", "diff":
			return env.ActionRead, true
		}
		return env.ActionAdmin, true
	}
	return "", false
}

// auditPath is the environment's audit log, next to its database.
func (c *cli) auditPath(targetPath string) string {
	return filepath.Join(targetPath, c.opts.target+".audit.jsonl")
}

// authorize checks the command against the environment's access policy and
// records the decision in the audit log.
func (c *cli) authorize(ctx context.Context, cmd string) error {
	act, ok := commandAction(cmd, c.opts.positional)
	if !ok {
		return nil
	}
	fsys, targetPath, err := c.projectFS()
	if err != nil {
		return err
	}
	cfg, _, err := c.environments(fsys)
	if err != nil {
		return err
	}
	object := strings.Join(append([]string{cmd}, c.opts.positional...), " ")
	p, err := c.resolvePrincipal(cfg)
	if err != nil {
		osUser := "unknown"
		if u, uerr := user.Current(); uerr == nil {
			osUser = u.Username
		}
		_ = (&env.FileAuditor{Path: c.auditPath(targetPath)}).Audit(ctx, env.AuditEvent{Time: time.Now(), Principal: osUser,
			Environment: c.opts.target, Action: "act as " + env.Action(c.opts.as), Object: object, Result: err.Error(), Via: "cli"})
		return &exitError{code: 1, err: fmt.Errorf("vyaparbazaar %s: %w", cmd, err)}
	}
	c.principal = p
	if c.opts.database != "" && cfg.File != "" {
		// Another environment's file is reached through that environment,
		// whose policy then applies.
		got, _ := filepath.Abs(c.opts.database)
		for name, s := range cfg.Environments {
			other, _ := filepath.Abs(envDatabasePath(targetPath, s))
			if name != c.opts.target && other == got {
				return &exitError{code: 2, err: fmt.Errorf("vyaparbazaar %s: --database %s is the database of environment %s, not %s; use --target %s",
					cmd, c.opts.database, name, c.opts.target, name)}
			}
		}
	}
	err = env.Check(ctx, cfg.Policy(), &env.FileAuditor{Path: c.auditPath(targetPath)}, p, c.opts.target, act, object, "cli")
	if errors.Is(err, env.ErrDenied) {
		return &exitError{code: 1, err: fmt.Errorf("vyaparbazaar %s: %w", cmd, err)}
	}
	return err
}

// scanEnvFlags picks --project, --target, --target-path and --as out of the
// arguments of a command that parses its own flags, for authorization.
func scanEnvFlags(args []string) *cliOptions {
	o := &cliOptions{target: "dev"}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		switch name {
		case "project":
			o.projectDir = val
		case "target":
			o.target = val
		case "target-path":
			o.targetPath = val
		case "as":
			o.as = val
		}
	}
	return o
}

// positionals are the arguments that are not flags or flag values (a
// flag's value is taken to follow it unless given with =).
func positionals(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !isBoolFlag(a) {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func isBoolFlag(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "all", "json", "verbose", "replace", "force", "dry-run", "undo":
		return true
	}
	return false
}

// readerOnly reports whether the principal's only role in the environment
// is reader (business users, stakeholders): such readers see published
// data, not dataops' own tables.
func (c *cli) readerOnly() bool {
	if c.envCfg == nil || c.envCfg.File == "" {
		return false
	}
	roles := c.envCfg.Policy().Roles(c.principal, c.opts.target)
	for _, r := range roles {
		if r != env.RoleReader {
			return false
		}
	}
	return len(roles) > 0
}

// auditResult records how an authorized command ended (the decision was
// recorded when it started): "completed", or the failure's first line.
func (c *cli) auditResult(ctx context.Context, cmd string, err error) {
	act, ok := commandAction(cmd, c.opts.positional)
	if !ok || c.principal.Name == "" {
		return
	}
	_, targetPath, perr := c.projectFiles()
	if perr != nil {
		return
	}
	result := "completed"
	if err != nil {
		var msg string
		var ee *exitError
		if errors.As(err, &ee) && ee.err == nil {
			msg = fmt.Sprintf("exit status %d", ee.code)
		} else {
			msg = err.Error()
		}
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		result = "failed: " + msg
	}
	object := strings.Join(append([]string{cmd}, c.opts.positional...), " ")
	a := &env.FileAuditor{Path: c.auditPath(targetPath)}
	if aerr := a.Audit(context.WithoutCancel(ctx), env.AuditEvent{Time: time.Now(), Principal: c.principal.Name, Environment: c.opts.target,
		Action: act, Object: object, Allowed: true, Result: result, Via: "cli"}); aerr != nil {
		fmt.Fprintf(c.stderr, "warning: audit log: %v\n", aerr)
	}
}
