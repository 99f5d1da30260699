package pgserve

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
	"go.opentelemetry.io/otel/metric"

	"github.com/vyaparbazaar/dataops/env"
	"github.com/vyaparbazaar/dataops/env/duckenv"
)

// ServerVersion is the PostgreSQL version the front reports (clients pick
// their catalog queries by it).
const ServerVersion = "15.0"

// Limits protect the environment's builds from readers' queries. They are
// set per role; zero fields mean no limit.
type Limits struct {
	// MaxConnections bounds the role's open connections (all
	// environments of the server together).
	MaxConnections int
	// MaxConcurrentQueries bounds the role's statements running at once;
	// further statements wait (up to their timeout). With DuckDB's
	// database-wide memory_limit this is the per-role memory cap: DuckDB
	// 1.5 has no per-connection memory setting (only profiling settings
	// are connection-local), so a role's share of memory is bounded by how
	// many of its statements run at once, and results stream instead of
	// being materialised.
	MaxConcurrentQueries int
	// QueryTimeout cancels a statement (DuckDB interrupt) that runs,
	// including streaming its rows, longer than this.
	QueryTimeout time.Duration
	// MaxResultRows ends a statement with an error (54000) once it has
	// sent this many rows.
	MaxResultRows int64
}

// DefaultLimits are the limits of roles Config.Limits does not name.
var DefaultLimits = Limits{MaxConnections: 32, MaxConcurrentQueries: 8, QueryTimeout: 5 * time.Minute}

// Config configures a Server.
type Config struct {
	// Environments are served under their names (Env.Name): the name is
	// the PostgreSQL database a client connects to.
	Environments []*duckenv.Env
	// Auth checks user names and passwords (required), e.g. *Users.
	Auth Authenticator
	// Authorizer decides who may read which environment; nil means
	// env.DefaultPolicy(). A principal connects to an environment when
	// it may env.ActionRead there. Nobody writes through this front:
	// builds and publishes go through the pipeline.
	Authorizer env.Authorizer
	// Roles, when set, names the principal's roles in an environment to
	// pick its Limits (*env.Policy implements it). Nil: DefaultLimits.
	Roles interface {
		Roles(p env.Principal, environment string) []env.Role
	}
	// Auditor receives connects, refusals and (with AuditQueries) every
	// statement; nil discards.
	Auditor env.Auditor
	// AuditQueries also audits every statement that runs.
	AuditQueries bool
	// TLS is the certificate to serve; passwords are only accepted over
	// TLS unless AllowPlaintextPasswords is set.
	TLS *tls.Config
	// AllowPlaintextPasswords accepts passwords on connections without
	// TLS (tests, loopback development).
	AllowPlaintextPasswords bool
	// MaxConnections bounds open connections of all roles; default 100.
	MaxConnections int
	// Limits per role; roles not named get DefaultLimits.
	Limits map[env.Role]Limits
	// Meter receives the front's metrics (nil: none).
	Meter metric.Meter
	// Logger receives connection and refusal logs (never passwords); nil
	// discards.
	Logger *slog.Logger
}

// Server serves DuckDB environments over the PostgreSQL wire protocol to
// read-only clients (psql, BI tools, pgx). It is safe for concurrent use.
type Server struct {
	cfg     Config
	envs    map[string]*duckenv.Env
	wire    *wire.Server
	log     *slog.Logger
	metrics *metrics

	mu          sync.Mutex
	sessions    map[int32]*session
	conns       map[string]*trackedConn // by remote address
	roleConns   map[env.Role]int
	roleSems    map[env.Role]chan struct{}
	nextID      int32
	serving     atomic.Bool
	draining    atomic.Bool
	inflight    sync.WaitGroup
	inflightN   atomic.Int64
	stopQueries context.Context
	stopCancel  context.CancelFunc
	ln          net.Listener
}

// New checks cfg and returns a Server; call Serve or ListenAndServe.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil {
		return nil, errors.New("pgserve: Config.Auth is required")
	}
	if len(cfg.Environments) == 0 {
		return nil, errors.New("pgserve: no environment to serve")
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = env.DefaultPolicy()
		if cfg.Roles == nil {
			cfg.Roles = cfg.Authorizer.(*env.Policy)
		}
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 100
	}
	s := &Server{
		cfg:       cfg,
		envs:      map[string]*duckenv.Env{},
		log:       cfg.Logger,
		sessions:  map[int32]*session{},
		conns:     map[string]*trackedConn{},
		roleConns: map[env.Role]int{},
		roleSems:  map[env.Role]chan struct{}{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, e := range cfg.Environments {
		if _, dup := s.envs[e.Name()]; dup {
			return nil, fmt.Errorf("pgserve: environment %q given twice", e.Name())
		}
		s.envs[e.Name()] = e
	}
	s.stopQueries, s.stopCancel = context.WithCancel(context.Background())
	m, err := newMetrics(cfg.Meter)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	opts := []wire.OptionFn{
		wire.SessionAuthStrategy(s.authenticate),
		wire.Version(ServerVersion),
		wire.ExtendTypes(extendTypes),
		wire.BackendKeyData(s.backendKey),
		wire.CancelRequest(s.cancelRequest),
		wire.CloseConn(s.closeConn),
		wire.ErrorSanitizer(sanitizeForClient),
		wire.Logger(s.log.With("component", "psql-wire")),
		wire.GlobalParameters(wire.Parameters{
			"DateStyle":                     "ISO, MDY",
			"TimeZone":                      "UTC",
			"integer_datetimes":             "on",
			"standard_conforming_strings":   "on",
			"client_encoding":               "UTF8",
			"server_encoding":               "UTF8",
			"default_transaction_read_only": "on",
		}),
	}
	if cfg.TLS != nil {
		opts = append(opts, wire.TLSConfig(cfg.TLS))
	}
	w, err := wire.NewServer(s.parse, opts...)
	if err != nil {
		return nil, fmt.Errorf("pgserve: %w", err)
	}
	s.wire = w
	return s, nil
}

// ListenAndServe listens on addr (host:port) and serves until Shutdown.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pgserve: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves connections accepted on ln until Shutdown is called or ctx
// ends (which starts a Shutdown that drains for up to 30 s). It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	})
	defer stop()
	tl := &trackListener{Listener: ln, s: s}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.ln = tl
	s.mu.Unlock()
	s.serving.Store(true)
	defer s.serving.Store(false)
	err := s.wire.Serve(tl)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("pgserve: %w", err)
	}
	return nil
}

// Ready reports whether the server accepts new connections and queries
// (serving and not shutting down).
func (s *Server) Ready() bool { return s.serving.Load() && !s.draining.Load() }

// Healthy pings every served environment's database.
func (s *Server) Healthy(ctx context.Context) error {
	var errs []error
	for name, e := range s.envs {
		if err := e.DB().PingContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Status is what the health endpoints report.
type Status struct {
	Ready        bool     `json:"ready"`
	Healthy      bool     `json:"healthy"`
	Error        string   `json:"error,omitempty"`
	Environments []string `json:"environments"`
	Connections  int      `json:"connections"`
	Queries      int64    `json:"running_queries"`
}

// Status returns the server's state.
func (s *Server) Status(ctx context.Context) Status {
	st := Status{Ready: s.Ready(), Queries: s.inflightN.Load()}
	if err := s.Healthy(ctx); err != nil {
		st.Error = err.Error()
	} else {
		st.Healthy = true
	}
	for name := range s.envs {
		st.Environments = append(st.Environments, name)
	}
	s.mu.Lock()
	st.Connections = len(s.sessions)
	s.mu.Unlock()
	return st
}

// HealthHandler serves GET /healthz (200 while the databases answer) and
// GET /readyz (200 while serving and not draining), each with a JSON
// Status. Mount it under any prefix with http.StripPrefix.
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, r *http.Request, ok func(Status) bool) {
		st := s.Status(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if !ok(st) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(st)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, func(st Status) bool { return st.Healthy })
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, func(st Status) bool { return st.Ready && st.Healthy })
	})
	return mux
}

// Shutdown stops accepting connections and statements, waits for running
// statements to finish until ctx ends, then cancels what still runs, and
// closes every connection once it is idle (its last answer sent) or ctx
// has ended. It returns ctx.Err() when it had to cut something short.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.stopCancel()
		<-done
	}
	s.stopCancel()
	// A connection blocked reading the client's next message has nothing
	// left to send: close it. Others are still writing their last answer.
	for {
		s.mu.Lock()
		conns := make([]*trackedConn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		if len(conns) == 0 {
			break
		}
		hard := ctx.Err() != nil
		for _, c := range conns {
			if hard || c.reading.Load() > 0 {
				_ = c.Close()
			}
		}
		if hard && err == nil {
			err = ctx.Err()
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	closeErr := s.wire.Close()
	s.wire.Wait()
	if errors.Is(closeErr, net.ErrClosed) {
		closeErr = nil
	}
	return errors.Join(err, closeErr)
}

// ---- connections --------------------------------------------------------

// trackListener records accepted connections so that Shutdown can close
// them and authentication can tell whether the client asked for TLS.
type trackListener struct {
	net.Listener
	s *Server
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.conns[c.RemoteAddr().String()] = tc
	l.s.mu.Unlock()
	l.s.metrics.accepted(context.Background())
	return tc, nil
}

// trackedConn notes whether the client's first message was an SSLRequest.
type trackedConn struct {
	net.Conn
	s       *Server
	mu      sync.Mutex
	head    []byte
	sslReq  bool
	once    sync.Once
	reading atomic.Int32 // > 0 while blocked reading the client
}

var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

func (c *trackedConn) Read(p []byte) (int, error) {
	c.reading.Add(1)
	n, err := c.Conn.Read(p)
	c.reading.Add(-1)
	c.mu.Lock()
	if len(c.head) < 8 {
		need := min(8-len(c.head), n)
		c.head = append(c.head, p[:need]...)
		if len(c.head) == 8 && string(c.head) == string(sslRequest) {
			c.sslReq = true
		}
	}
	c.mu.Unlock()
	return n, err
}

func (c *trackedConn) tls() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sslReq && c.s.cfg.TLS != nil
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		if c.s.conns[c.RemoteAddr().String()] == c {
			delete(c.s.conns, c.RemoteAddr().String())
		}
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// session is one authenticated client connection.
type session struct {
	id        int32
	secret    int32
	principal env.Principal
	envName   string
	env       *duckenv.Env
	role      env.Role
	limits    Limits
	remote    string
	app       string

	mu     sync.Mutex
	cancel context.CancelFunc

	dbMu   sync.Mutex
	db     *dbConn // the session's DuckDB connection (conn.go)
	closed bool
}

func (ss *session) setCancel(c context.CancelFunc) {
	ss.mu.Lock()
	ss.cancel = c
	ss.mu.Unlock()
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	ss, _ := ctx.Value(sessionKey{}).(*session)
	return ss
}

// rolePrecedence picks the role whose limits apply when a principal has
// several.
var rolePrecedence = []env.Role{env.RoleAdmin, env.RoleDeployer, env.RoleEngineer, env.RoleQA, env.RoleReader}

func (s *Server) roleOf(p env.Principal, environment string) env.Role {
	if s.cfg.Roles == nil {
		return env.RoleReader
	}
	roles := s.cfg.Roles.Roles(p, environment)
	for _, r := range rolePrecedence {
		for _, x := range roles {
			if x == r {
				return r
			}
		}
	}
	return env.RoleReader
}

func (s *Server) limitsOf(r env.Role) Limits {
	if l, ok := s.cfg.Limits[r]; ok {
		return l
	}
	return DefaultLimits
}

// authenticate asks for a clear-text password (over TLS), checks it, the
// database (environment) and the principal's right to read it, and the
// connection limits.
func (s *Server) authenticate(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (context.Context, error) {
	params := wire.ClientParameters(ctx)
	dbName, user := params[wire.ParamDatabase], params[wire.ParamUsername]
	if dbName == "" {
		dbName = user
	}
	remote := ""
	if a := wire.RemoteAddress(ctx); a != nil {
		remote = a.String()
	}
	fail := func(code codes.Code, reason string, msg string, args ...any) (context.Context, error) {
		s.metrics.refused(ctx, dbName, string(code))
		s.audit(ctx, env.AuditEvent{Principal: user, Environment: dbName, Action: env.ActionRead, Object: "connect from " + remote, Allowed: false, Result: reason})
		s.log.Info("pgserve: connection refused", "user", user, "database", dbName, "remote", remote, "reason", reason)
		err := pgerror.WithSeverity(pgerror.WithCode(fmt.Errorf(msg, args...), code), pgerror.LevelFatal)
		_ = wire.WriteUnterminatedError(w, err)
		return ctx, err
	}
	if s.draining.Load() {
		return fail(codes.CannotConnectNow, "shutting down", "the server is shutting down")
	}
	s.mu.Lock()
	tc := s.conns[remote]
	s.mu.Unlock()
	if !s.cfg.AllowPlaintextPasswords && (tc == nil || !tc.tls()) {
		return fail(codes.InvalidAuthorizationSpecification, "no TLS", "password authentication requires TLS (connect with sslmode=require)")
	}
	w.Start(types.ServerAuth)
	w.AddInt32(3) // clear-text password
	if err := w.End(); err != nil {
		return ctx, err
	}
	t, _, err := r.ReadTypedMsg()
	if err != nil {
		return ctx, err
	}
	if t != types.ClientPassword {
		return fail(codes.ProtocolViolation, "no password message", "expected a password message")
	}
	password, err := r.GetString()
	if err != nil {
		return ctx, err
	}
	p, err := s.cfg.Auth.Authenticate(ctx, user, password)
	if err != nil {
		return fail(codes.InvalidPassword, "bad credentials", "password authentication failed for user %q", user)
	}
	e, ok := s.envs[dbName]
	if !ok {
		return fail(codes.InvalidCatalogName, "no such environment", "database %q does not exist", dbName)
	}
	if err := s.cfg.Authorizer.Authorize(ctx, p, dbName, env.ActionRead); err != nil {
		reason := err.Error()
		var de *env.DeniedError
		if errors.As(err, &de) {
			reason = de.Reason
		}
		return fail(StateInsufficientPrivilege, reason, "permission denied for database %q: %s", dbName, reason)
	}
	role := s.roleOf(p, dbName)
	lim := s.limitsOf(role)
	s.mu.Lock()
	switch {
	case len(s.sessions) >= s.cfg.MaxConnections:
		s.mu.Unlock()
		return fail(codes.TooManyConnections, "too many connections", "sorry, too many clients already")
	case lim.MaxConnections > 0 && s.roleConns[role] >= lim.MaxConnections:
		s.mu.Unlock()
		return fail(codes.TooManyConnections, "too many connections for role "+string(role), "too many connections for role %q", string(role))
	}
	var secret [4]byte
	_, _ = rand.Read(secret[:])
	s.nextID++
	ss := &session{
		id: s.nextID, secret: int32(binary.BigEndian.Uint32(secret[:])),
		principal: p, envName: dbName, env: e, role: role, limits: lim, remote: remote,
		app: params[wire.ParamApplicationName],
	}
	s.sessions[ss.id] = ss
	s.roleConns[role]++
	s.mu.Unlock()
	s.metrics.connOpened(ctx, dbName)
	s.audit(ctx, env.AuditEvent{Principal: p.Name, Environment: dbName, Action: env.ActionRead, Object: "connect from " + remote, Allowed: true, Result: "ok"})
	s.log.Info("pgserve: connected", "user", p.Name, "database", dbName, "role", role, "remote", remote)
	w.Start(types.ServerAuth)
	w.AddInt32(0) // OK
	if err := w.End(); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, sessionKey{}, ss), nil
}

func (s *Server) backendKey(ctx context.Context) (int32, int32) {
	if ss := sessionFrom(ctx); ss != nil {
		return ss.id, ss.secret
	}
	return 0, 0
}

// cancelRequest cancels the running statement of the session with the
// given key.
func (s *Server) cancelRequest(_ context.Context, pid, secret int32) error {
	s.mu.Lock()
	ss := s.sessions[pid]
	s.mu.Unlock()
	if ss == nil || ss.secret != secret {
		return nil
	}
	ss.mu.Lock()
	if ss.cancel != nil {
		ss.cancel()
	}
	ss.mu.Unlock()
	return nil
}

func (s *Server) closeConn(ctx context.Context) error {
	ss := sessionFrom(ctx)
	if ss == nil {
		return nil
	}
	s.mu.Lock()
	if _, ok := s.sessions[ss.id]; ok {
		delete(s.sessions, ss.id)
		s.roleConns[ss.role]--
	}
	s.mu.Unlock()
	ss.closeDB()
	s.metrics.connClosed(ctx, ss.envName)
	return nil
}

func (s *Server) audit(ctx context.Context, ev env.AuditEvent) {
	if s.cfg.Auditor == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	ev.Via = "pgwire"
	if err := s.cfg.Auditor.Audit(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("pgserve: audit failed", "err", err)
	}
}

func (s *Server) roleSem(r env.Role, n int) chan struct{} {
	if n <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sem, ok := s.roleSems[r]
	if !ok {
		sem = make(chan struct{}, n)
		s.roleSems[r] = sem
	}
	return sem
}

// beginQuery registers a running statement unless the server drains.
func (s *Server) beginQuery() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.inflight.Add(1)
	s.inflightN.Add(1)
	return true
}

func (s *Server) endQuery() {
	s.inflightN.Add(-1)
	s.inflight.Done()
}

// discardConn marks a database/sql connection broken so the pool drops it.
func discardConn(any) error { return driver.ErrBadConn }
