package main

import (
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"slices"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/dashboard"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/schedule"
)

// dashboardPrefix is where serve mounts the dashboard.
const dashboardPrefix = "/ui"

// serveDashboard mounts the dashboard at /ui/ (and redirects / to it):
// the environment the daemon serves first, the other configured ones
// listed. With --users FILE users log in with HTTP basic auth and get
// their groups from environments.yml; without it every request acts as
// the daemon's principal (--as, $DATAOPS_USER or the OS user). Rollbacks
// are audit-logged to target/<env>.audit.jsonl like the CLI's commands.
func (c *cli) serveDashboard(fsys fs.FS, targetPath string, p *project.Project, sched *schedule.Config, e *duckenv.Env, mux *http.ServeMux) error {
	cfg, _, err := c.environments(fsys)
	if err != nil {
		return err
	}
	envs := []dashboard.Environment{{Name: c.opts.target, Env: e}}
	for _, name := range slices.Sorted(maps.Keys(cfg.Environments)) {
		if name != c.opts.target {
			envs = append(envs, dashboard.Environment{Name: name})
		}
	}
	o := dashboard.Options{
		Project:      p,
		Environments: envs,
		Schedule:     sched,
		Policy:       cfg.Policy(),
		Auditor:      &env.FileAuditor{Path: c.auditPath(targetPath)},
		Prefix:       dashboardPrefix,
		Logger:       c.log,
	}
	if c.opts.pg.users != "" {
		// The same users file as the PostgreSQL front (pgserve.Users is a
		// dashboard.Authenticator).
		users, err := pgserve.LoadUsers(c.opts.pg.users)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--users: %w", err)}
		}
		o.Auth = users
	} else {
		me, err := c.resolvePrincipal(cfg)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		o.Anonymous = &me
	}
	h, err := dashboard.New(o)
	if err != nil {
		return err
	}
	mux.Handle(dashboardPrefix+"/", h)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboardPrefix+"/", http.StatusFound))
	return nil
}
