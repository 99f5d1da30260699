package main

// The PostgreSQL front of `serve` (package env/pgserve) and the `users`
// command. serve.go calls startPG next to the scheduler; both share the
// environment's *duckenv.Env.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/env/pgserve"
)

// pgOptions are serve's PostgreSQL flags.
type pgOptions struct {
	addr      string
	users     string
	tlsCert   string
	tlsKey    string
	auditLog  string
	plaintext bool
}

// register adds the flags to serve's flag set.
func (o *pgOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.addr, "pg-addr", "", "")
	fs.StringVar(&o.users, "users", "", "")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "")
	fs.StringVar(&o.tlsKey, "tls-key", "", "")
	fs.StringVar(&o.auditLog, "audit-log", "", "")
	fs.BoolVar(&o.plaintext, "pg-allow-plaintext", false, "")
}

// pgFront is the running PostgreSQL front.
type pgFront struct {
	srv   *pgserve.Server
	audit *pgserve.FileAuditor
	done  chan error
	addr  net.Addr
}

// startPG starts the PostgreSQL front when --pg-addr is set, adds its
// /pg/healthz and /pg/readyz to mux, and returns nil otherwise.
func (c *cli) startPG(ctx context.Context, e *duckenv.Env, targetPath string, meter metric.Meter, mux *http.ServeMux) (*pgFront, error) {
	o := c.opts.pg
	if o.addr == "" {
		if o.tlsCert != "" {
			return nil, errors.New("--tls-cert needs --pg-addr")
		}
		return nil, nil
	}
	if o.users == "" {
		return nil, errors.New("--pg-addr needs --users FILE (make password hashes with `vyaparbazaar users hash`)")
	}
	users, err := pgserve.LoadUsers(o.users)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("--pg-addr %q: %w", o.addr, err)
	}
	var tlsCfg *tls.Config
	switch {
	case o.tlsCert != "" || o.tlsKey != "":
		if o.tlsCert == "" || o.tlsKey == "" {
			return nil, errors.New("--tls-cert and --tls-key go together")
		}
		tlsCfg, err = pgserve.LoadTLS(o.tlsCert, o.tlsKey)
	default:
		tlsCfg, err = pgserve.SelfSignedTLS(host, "localhost", "127.0.0.1")
	}
	if err != nil {
		return nil, err
	}
	auditPath := o.auditLog
	if auditPath == "" {
		auditPath = filepath.Join(targetPath, "pg-audit.jsonl")
	}
	if err := os.MkdirAll(filepath.Dir(auditPath), 0o755); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	audit, err := pgserve.OpenFileAuditor(auditPath)
	if err != nil {
		return nil, err
	}
	srv, err := pgserve.New(pgserve.Config{
		Environments:            []*duckenv.Env{e},
		Auth:                    users,
		Auditor:                 audit,
		TLS:                     tlsCfg,
		AllowPlaintextPasswords: o.plaintext,
		Meter:                   meter,
		Logger:                  c.log,
		Limits: map[env.Role]pgserve.Limits{
			// Dashboards and business users: bounded so that a runaway
			// query cannot starve the builds running in this process.
			env.RoleReader: {MaxConnections: 64, MaxConcurrentQueries: 4, QueryTimeout: 5 * time.Minute},
			env.RoleQA:     {MaxConnections: 16, MaxConcurrentQueries: 2, QueryTimeout: 15 * time.Minute},
		},
	})
	if err != nil {
		_ = audit.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		_ = audit.Close()
		return nil, fmt.Errorf("--pg-addr: %w", err)
	}
	f := &pgFront{srv: srv, audit: audit, done: make(chan error, 1), addr: ln.Addr()}
	go func() { f.done <- srv.Serve(context.WithoutCancel(ctx), ln) }()
	mux.Handle("GET /pg/", http.StripPrefix("/pg", srv.HealthHandler()))
	fmt.Fprintf(c.stdout, "Serving environment %s to PostgreSQL clients on %s (TLS; psql \"host=%s port=%s dbname=%s sslmode=require user=NAME\"); audit log %s\n",
		e.Name(), f.addr, hostOf(f.addr), portOf(f.addr), e.Name(), auditPath)
	return f, nil
}

func hostOf(a net.Addr) string { h, _, _ := net.SplitHostPort(a.String()); return h }
func portOf(a net.Addr) string { _, p, _ := net.SplitHostPort(a.String()); return p }

// shutdown drains running queries for up to timeout, then stops.
func (f *pgFront) shutdown(timeout time.Duration) error {
	if f == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	err = errors.Join(err, <-f.done, f.audit.Close())
	return err
}

func init() {
	register("users", command{
		Summary: "users hash: print a bcrypt hash of a password read from stdin; users check FILE: show users, groups and access",
		Run:     usersCommand,
	})
}

func usersCommand(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return usersMain(args, os.Stdin, stdout, stderr)
}

func usersMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := "usage: vyaparbazaar users hash  (password on stdin)\n       vyaparbazaar users check FILE\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "hash":
		if len(args) != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		// The password comes from stdin, never from the command line
		// (which other users see in ps and which shells keep).
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "vyaparbazaar users hash: %v\n", err)
			return 1
		}
		h, err := pgserve.HashPassword(strings.TrimRight(line, "\r\n"))
		if err != nil {
			fmt.Fprintf(stderr, "vyaparbazaar users hash: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, h)
		return 0
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		us, err := pgserve.LoadUsers(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "vyaparbazaar users check: %v\n", err)
			return 1
		}
		pol := env.DefaultPolicy()
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tGROUPS\tDEV\tSTAGING\tPRODUCTION")
		for _, u := range us.List() {
			p := env.Principal{Name: u.Name, Groups: u.Groups}
			cells := []string{u.Name, strings.Join(u.Groups, ",")}
			for _, e := range []string{"dev", "staging", "production"} {
				cells = append(cells, rolesText(pol.Roles(p, e)))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		_ = tw.Flush()
		return 0
	}
	fmt.Fprint(stderr, usage)
	return 2
}

func rolesText(rs []env.Role) string {
	if len(rs) == 0 {
		return "-"
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = string(r)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
