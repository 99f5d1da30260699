// Package dashboard is dataops' web dashboard: deployment health and data
// quality in the browser. New returns an http.Handler that a daemon (the
// reference CLI's `serve`) or an embedding service mounts; it renders
// pages on the server with html/template, inline SVG pictures and one
// embedded stylesheet (no script, no CDN, works offline).
//
// Pages: overview (every environment: last deploy, jobs' last runs, open
// incidents and alerts, models serving fallback or withheld data, critical
// marts' freshness against their deadlines), runs (a filtered, paged list;
// a run's Gantt timeline with waits, attempts, retries and errors),
// lineage (coloured by last status and freshness, with a dbt selector),
// model (description, owner, rendered SQL, columns, tests and their
// history, duration and row-count charts with the baseline and
// anomalies), data quality, snapshots and deployments (history, diff,
// rollback for administrators), and the schedule.
//
// Access: every request is authenticated (HTTP basic, through an
// Authenticator) unless Options.Anonymous names a principal, and
// authorized by the environments' policy: reading needs env.ActionRead,
// rolling back env.ActionAdmin, checked and audit-logged with env.Check.
// The only action (rollback) is a POST with a CSRF token bound to the
// user and a confirmation step.
package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vyaparbazaar/dataops/dag"
	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
	"github.com/vyaparbazaar/dataops/orchestrate"
	"github.com/vyaparbazaar/dataops/orchestrate/project"
	"github.com/vyaparbazaar/dataops/schedule"
)

// Environment is one environment the dashboard shows.
type Environment struct {
	// Name is the environment's name (dev, staging, production).
	Name string
	// Env is its open database; nil for an environment that is configured
	// but not served by this process (the overview says so).
	Env *duckenv.Env
}

// Options configure the dashboard.
type Options struct {
	// Project is the project whose models, tests and lineage are shown.
	Project *project.Project
	// Environments are shown in this order; the first is the default.
	Environments []Environment
	// Schedule is the timetable (nil: the schedule page says there is
	// none).
	Schedule *schedule.Config
	// Auth authenticates users. Nil requires Anonymous.
	Auth Authenticator
	// Anonymous, when Auth is nil, is who every request acts as (a local
	// dashboard for the user running the daemon).
	Anonymous *env.Principal
	// Policy authorizes reads and rollbacks (nil: env.DefaultPolicy()).
	Policy env.Authorizer
	// Auditor records rollback decisions (allowed and denied). It may be
	// nil only in tests; the reference daemon writes
	// target/<env>.audit.jsonl.
	Auditor env.Auditor
	// Prefix is the path the handler is mounted at, without a trailing
	// slash ("" for the root, "/ui" for /ui/...): links start with it.
	Prefix string
	// Now is the clock (nil: time.Now); freshness and next runs use it.
	Now func() time.Time
	// Location shows times (nil: the timetable's zone, else time.Local).
	Location *time.Location
	// CSRFKey signs CSRF tokens (nil: a random key per process).
	CSRFKey []byte
	// Logger receives errors of pages (nil: slog.Default()).
	Logger *slog.Logger
	// Runs is how many recent runs the charts, statuses and quality page
	// read (default 60).
	Runs int
	// FreshFor is how old a model's data may be before the lineage calls
	// it stale (default 26h).
	FreshFor time.Duration
}

// Handler serves the dashboard. It is safe for concurrent use.
type Handler struct {
	o       Options
	mux     *http.ServeMux
	pages   map[string]*template.Template
	nodes   []*orchestrate.Node
	jobSets map[string]map[string]bool // job → nodes it builds

	cacheMu sync.Mutex
	cache   map[*duckenv.Env]*historyCache
}

// historyCache keeps what was read from an environment's run history (the
// latest outcome of every node, a model's history) until another run is
// recorded: parsing many runs' results is the expensive part of a page on
// a large project, and runs finish far less often than pages are viewed.
type historyCache struct {
	key     string // the newest run's id, status and finish, and the count
	entries map[string]any
}

// maxCacheEntries bounds one environment's cached reads.
const maxCacheEntries = 256

// fromHistory returns fn's value for name, computed once per state of the
// environment's run history.
func fromHistory[T any](r *http.Request, h *Handler, e *duckenv.Env, name string, fn func() (T, error)) (T, error) {
	var zero T
	runs, total, err := e.RunSummaries(r.Context(), duckenv.RunFilter{Limit: 1})
	if err != nil {
		return zero, err
	}
	key := strconv.Itoa(total)
	if len(runs) > 0 {
		key += "|" + runs[0].RunID + "|" + runs[0].Status + "|" + runs[0].FinishedAt.String()
	}
	h.cacheMu.Lock()
	c := h.cache[e]
	if c == nil || c.key != key || len(c.entries) >= maxCacheEntries {
		c = &historyCache{key: key, entries: map[string]any{}}
		h.cache[e] = c
	}
	if v, ok := c.entries[name]; ok {
		h.cacheMu.Unlock()
		return v.(T), nil
	}
	h.cacheMu.Unlock()
	v, err := fn()
	if err != nil {
		return zero, err
	}
	h.cacheMu.Lock()
	c.entries[name] = v
	h.cacheMu.Unlock()
	return v, nil
}

// New checks the options and returns the dashboard's handler.
func New(o Options) (*Handler, error) {
	if o.Project == nil {
		return nil, errors.New("dashboard: Options.Project is required")
	}
	if len(o.Environments) == 0 {
		return nil, errors.New("dashboard: no environments")
	}
	if o.Auth == nil && o.Anonymous == nil {
		return nil, errors.New("dashboard: set Options.Auth (users) or Options.Anonymous")
	}
	if o.Policy == nil {
		o.Policy = env.DefaultPolicy()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
		if o.Schedule != nil && o.Schedule.Location != nil {
			o.Location = o.Schedule.Location
		}
	}
	if len(o.CSRFKey) == 0 {
		o.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(o.CSRFKey); err != nil {
			return nil, fmt.Errorf("dashboard: csrf key: %w", err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Runs <= 0 {
		o.Runs = 60
	}
	if o.FreshFor <= 0 {
		o.FreshFor = 26 * time.Hour
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	h := &Handler{o: o, nodes: o.Project.Nodes(), jobSets: map[string]map[string]bool{}, cache: map[*duckenv.Env]*historyCache{}}
	var err error
	if h.pages, err = parseTemplates(h.funcs()); err != nil {
		return nil, err
	}
	if o.Schedule != nil {
		for _, j := range o.Schedule.Jobs {
			if len(j.Select) == 0 {
				continue
			}
			plan, err := orchestrate.NewPlanWith(o.Project, dag.SelectOptions{Select: j.Select, Exclude: j.Exclude})
			if err != nil {
				return nil, fmt.Errorf("dashboard: job %s: %w", j.Name, err)
			}
			set := map[string]bool{}
			for _, n := range plan.Order {
				set[n.Name] = true
			}
			h.jobSets[j.Name] = set
		}
	}
	p := o.Prefix
	m := http.NewServeMux()
	m.Handle("GET "+p+"/static/", http.StripPrefix(p+"/static/", staticHandler()))
	m.HandleFunc("GET "+p+"/{$}", h.page(h.overview))
	m.HandleFunc("GET "+p+"/runs", h.page(h.runs))
	m.HandleFunc("GET "+p+"/runs/{id}", h.page(h.run))
	m.HandleFunc("GET "+p+"/lineage", h.page(h.lineage))
	m.HandleFunc("GET "+p+"/models/{name}", h.page(h.model))
	m.HandleFunc("GET "+p+"/quality", h.page(h.quality))
	m.HandleFunc("GET "+p+"/snapshots", h.page(h.snapshots))
	m.HandleFunc("GET "+p+"/rollback", h.page(h.rollbackConfirm))
	m.HandleFunc("POST "+p+"/rollback", h.rollback)
	m.HandleFunc("GET "+p+"/schedule", h.page(h.schedule))
	h.mux = m
	return h, nil
}

// ServeHTTP authenticates the request, then serves the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	if strings.HasPrefix(r.URL.Path, h.o.Prefix+"/static/") {
		h.mux.ServeHTTP(w, r)
		return
	}
	var p env.Principal
	if h.o.Auth != nil {
		user, pass, ok := r.BasicAuth()
		var err error
		if ok {
			p, err = h.o.Auth.Authenticate(r.Context(), user, pass)
		}
		if !ok || err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="dataops dashboard", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
	} else {
		p = *h.o.Anonymous
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

type principalKey struct{}

func principalOf(r *http.Request) env.Principal {
	p, _ := r.Context().Value(principalKey{}).(env.Principal)
	return p
}

// httpError is an error with the status a page answers with.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errStatus(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// view is what every page template gets.
type view struct {
	Title     string
	Page      string // nav entry
	Prefix    string
	Env       string
	Envs      []string
	User      string
	Groups    string
	IsAdmin   bool
	CSRF      string
	Generated string
	Data      any
}

// pageFunc loads a page's data: the template name and its data.
type pageFunc func(r *http.Request, v *view, e Environment) (string, error)

func (h *Handler) page(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		e, err := h.environment(r)
		if err == nil {
			// Reading any page of an environment needs read access to it.
			err = h.o.Policy.Authorize(r.Context(), p, e.Name, env.ActionRead)
			if errors.Is(err, env.ErrDenied) {
				err = errStatus(http.StatusForbidden, "%s", err.Error())
			}
		}
		v := &view{Prefix: h.o.Prefix, Env: e.Name, User: p.Name, Groups: strings.Join(p.Groups, ", "), CSRF: h.csrfToken(p.Name),
			Generated: h.o.Now().In(h.o.Location).Format("2006-01-02 15:04:05 MST")}
		for _, x := range h.o.Environments {
			v.Envs = append(v.Envs, x.Name)
		}
		v.IsAdmin = e.Name != "" && h.o.Policy.Authorize(r.Context(), p, e.Name, env.ActionAdmin) == nil
		name := ""
		if err == nil {
			name, err = f(r, v, e)
		}
		if err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				code = he.code
			} else {
				h.o.Logger.Error("dashboard: page failed", "path", r.URL.Path, "err", err)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(code)
			v.Title, v.Data = http.StatusText(code), err.Error()
			_ = h.pages["error"].ExecuteTemplate(w, "layout", v)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := h.pages[name].ExecuteTemplate(w, "layout", v); err != nil {
			h.o.Logger.Error("dashboard: render failed", "page", name, "err", err)
		}
	}
}

// environment is the ?env= environment, else the first one.
func (h *Handler) environment(r *http.Request) (Environment, error) {
	name := r.URL.Query().Get("env")
	if name == "" {
		return h.o.Environments[0], nil
	}
	for _, e := range h.o.Environments {
		if e.Name == name {
			return e, nil
		}
	}
	return Environment{}, errStatus(http.StatusNotFound, "unknown environment %q", name)
}

func servedEnv(e Environment) (*duckenv.Env, error) {
	if e.Env == nil {
		return nil, errStatus(http.StatusNotFound, "environment %s is not served by this process", e.Name)
	}
	return e.Env, nil
}

// csrfToken is an HMAC of the user's name: a form posted from another site
// cannot know it, and one user's token is worthless to another.
func (h *Handler) csrfToken(user string) string {
	m := hmac.New(sha256.New, h.o.CSRFKey)
	m.Write([]byte("dataops-dashboard-csrf\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) validCSRF(r *http.Request, user string) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(h.csrfToken(user)))
}

// link builds a dashboard URL for the environment.
func (h *Handler) link(envName, path string, kv ...string) string {
	q := url.Values{}
	if envName != "" && envName != h.o.Environments[0].Name {
		q.Set("env", envName)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u := h.o.Prefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"link": func(envName, path string, kv ...string) string { return h.link(envName, path, kv...) },
		"model": func(envName, name string) string {
			return h.link(envName, "/models/"+url.PathEscape(name))
		},
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(h.o.Location).Format("2006-01-02 15:04:05 MST")
		},
		"dur":     fmtDuration,
		"ago":     func(t time.Time) string { return ago(h.o.Now(), t) },
		"short":   func(s string) string { return shorten(s, 12) },
		"firstln": firstLine,
		"join":    strings.Join,
		"svg":     func(b []byte) template.HTML { return template.HTML(b) }, // generated by this package from escaped templates
		"statusclass": func(s string) string {
			return "st-" + statusClass(s)
		},
		"contains": slices.Contains[[]string],
	}
}

func statusClass(s string) string {
	switch s {
	case "success", "pass", "deployed", "ok", "resolved", "publish", "fresh":
		return "ok"
	case "error", "fail", "failed", "cancelled", "firing", "open", "refused", "late", "critical", "high":
		return "bad"
	case "warn", "fallback", "withheld", "rolled_back", "rollback", "stale", "running", "medium":
		return "warn"
	}
	return "neutral"
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + fmtDuration(-d.Round(time.Second))
	}
	return fmtDuration(d.Round(time.Second)) + " ago"
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
