package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/notify"
	"github.com/rosterhq/roster/store"
)

// Main is the running service: its database, its verifiers and its HTTP
// server, wired by hand.
type Main struct {
	Config Config
	Log    *slog.Logger

	DB       *store.DB
	DSN      string
	app      *app.App
	server   *http.Server
	debug    *http.Server
	listener net.Listener
	done     chan error
}

// NewMain returns a Main for cfg that logs to w: JSON for machines, text
// for a person at a terminal, unless ROSTER_LOG_FORMAT says otherwise.
func NewMain(cfg Config, w io.Writer) *Main {
	var h slog.Handler = slog.NewJSONHandler(w, nil)
	if cfg.LogFormat == "text" || (cfg.LogFormat == "" && isTerminal(w)) {
		h = slog.NewTextHandler(w, nil)
	}
	return &Main{Config: cfg, Log: slog.New(h)}
}

// Open connects to the database, applies migrations and starts serving.
func (m *Main) Open(ctx context.Context) error {
	var err error
	if m.DB, m.DSN, err = openDatabase(ctx, m.Config.DatabaseURL, m.Log); err != nil {
		return err
	}
	if m.listener, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	handler, err := m.handler(ctx)
	if err != nil {
		return err
	}
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	if m.Config.DebugAddr != "" {
		if err := m.serveDebug(); err != nil {
			return err
		}
	}
	m.done = make(chan error, 1)
	go func() { m.done <- m.server.Serve(m.listener) }()
	m.app.Worker.Start(context.WithoutCancel(ctx))
	m.Log.Info("roster is listening", "addr", m.listener.Addr().String(), "version", version)
	return nil
}

// handler builds the service on the database: every route, and the worker.
func (m *Main) handler(ctx context.Context) (http.Handler, error) {
	key, err := m.encryptionKey()
	if err != nil {
		return nil, err
	}
	publicURL := m.Config.PublicURL
	if publicURL == "" {
		publicURL = m.URL()
	}
	cfg := app.Config{
		PublicURL:       publicURL,
		EncryptionKey:   key,
		SCIMRate:        m.Config.SCIMRate,
		StepUpMaxAge:    m.Config.StepUpMaxAge,
		InvitationTTL:   m.Config.InvitationTTL,
		SignUp:          m.Config.SignUp,
		SignInRate:      m.Config.SignInRate,
		MaxBodyBytes:    m.Config.MaxBodyBytes,
		TrustedProxies:  m.Config.TrustedProxies,
		WebAuthnRPID:    m.Config.WebAuthnRPID,
		WebAuthnRPName:  m.Config.WebAuthnRPName,
		WebAuthnOrigins: m.Config.WebAuthnOrigins,
		Worker:          m.Config.Worker,
		GraphQL:         m.Config.GraphQL,
		Webhooks:        notify.HookConfig{Guard: notify.HookGuard{AllowLoopback: m.Config.WebhookAllowLoopback}},
		Log:             m.Log,
	}
	if m.Config.JWKSURL != "" {
		cfg.JWT = &auth.JWTConfig{JWKSURL: m.Config.JWKSURL, Issuer: m.Config.JWTIssuer, Audience: m.Config.JWTAudience}
	}
	// Outside development, a channel with nothing configured stays nil and
	// its MFA method answers that it is unavailable.
	cfg.Mailer, cfg.SMS, err = notify.FromEnv(os.Getenv, m.Log, m.Config.Development())
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	if m.app, err = app.New(ctx, m.DB, cfg); err != nil {
		return nil, err
	}
	return m.app.Handler, nil
}

// encryptionKey is the key that seals secrets at rest (and keys the hashes
// of recovery codes): ROSTER_ENCRYPTION_KEY or, in development only, a key
// made once and kept in the user's config folder.
func (m *Main) encryptionKey() ([]byte, error) {
	var key []byte
	var err error
	if m.Config.EncryptionKey != "" {
		key, err = auth.ParseEncryptionKey(m.Config.EncryptionKey)
	} else {
		dir, derr := os.UserConfigDir()
		if derr != nil {
			return nil, fmt.Errorf("no ROSTER_ENCRYPTION_KEY and no folder for a development key: %w", derr)
		}
		path := filepath.Join(dir, "roster", "dev-encryption.key")
		m.Log.Warn("no ROSTER_ENCRYPTION_KEY: using the development key; set one in production", "path", path)
		key, err = auth.DevEncryptionKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return key, nil
}

// serveDebug serves the profiler on its own listener, away from the API.
func (m *Main) serveDebug() error {
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.debug.Serve(ln) //nolint:errcheck // ends with ErrServerClosed at Close
	m.Log.Info("profiler is listening", "addr", ln.Addr().String())
	return nil
}

// URL is the base URL the service answers on.
func (m *Main) URL() string {
	addr := m.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Close stops accepting connections, lets in-flight requests finish (up to
// 30 seconds), and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs = append(errs, m.server.Shutdown(ctx))
		if err := <-m.done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.app != nil {
		errs = append(errs, m.app.Close()) // a running job goes back to the queue where it stopped
	}
	if m.debug != nil {
		errs = append(errs, m.debug.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}

// runServe runs the service until ctx is cancelled (SIGTERM or Ctrl-C).
func runServe(ctx context.Context, cfg Config, stderr io.Writer) error {
	tuneGC()
	m := NewMain(cfg, stderr)
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	if err := printFirstSteps(ctx, m); err != nil {
		m.Log.Warn("could not check for tenants", "err", err)
	}
	select {
	case <-ctx.Done():
		m.Log.Info("shutting down: finishing in-flight requests")
	case err := <-m.done:
		m.done <- err
	}
	return m.Close()
}

// tuneGC trades memory for CPU unless GOGC or GOMEMLIMIT say otherwise: a
// request allocates many short-lived JSON values, and collecting at 4× the
// live heap instead of 2× measured +30 % SCIM provisioning throughput on 2
// cores. The soft limit brings collection back early when memory runs
// short (argon2id holds 64 MiB per sign-in in flight).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}

// printFirstSteps tells a newcomer how to get a first admin token when the
// database has no tenant yet.
func printFirstSteps(ctx context.Context, m *Main) error {
	has, err := store.NewTenantService(m.DB).HasTenants(ctx)
	if err != nil || has {
		return err
	}
	self := "roster"
	if strings.Contains(os.Args[0], "go-build") {
		self = "go run ./cmd/roster"
	}
	env := ""
	if m.Config.DatabaseURL == "" {
		env = "DATABASE_URL='" + m.DSN + "' "
	}
	m.Log.Info("no tenant yet: create one and its first admin token with the command below",
		"command", env+self+" tenant create --name 'Acme' --admin-email admin@example.com --json")
	return nil
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
