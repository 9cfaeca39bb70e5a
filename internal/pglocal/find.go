// Package pglocal finds a PostgreSQL server for `roster serve` and for tests,
// starting a private one in the user's data folder when none is running.
package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"time"

	_ "github.com/lib/pq" // the "postgres" database/sql driver
)

// privatePort is fixed so that a later run finds the private server again.
const privatePort = 54329

// options says where the private server lives; tests point it elsewhere.
type options struct {
	dataDir string // empty: the default folder for the current user
	port    int
}

// Find returns the URL of a PostgreSQL server whose database is the
// maintenance database postgres. It returns $DATABASE_URL as given when set;
// otherwise the first local server that answers; otherwise it starts a private
// server in $ROSTER_PG_DATA or the user's data folder and leaves it running.
// log may be nil.
func Find(ctx context.Context, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		log.Info("postgres: using $DATABASE_URL", "dsn", redact(dsn))
		return dsn, nil
	}
	return find(ctx, log, options{dataDir: os.Getenv("ROSTER_PG_DATA"), port: privatePort})
}

func find(ctx context.Context, log *slog.Logger, opts options) (string, error) {
	var tried []error
	for _, dsn := range candidates(opts.port) {
		err := ping(ctx, dsn)
		if err == nil {
			log.Info("postgres: using running server", "dsn", dsn)
			return dsn, nil
		}
		tried = append(tried, fmt.Errorf("%s: %w", dsn, err))
	}
	dsn, err := startPrivate(ctx, log, opts)
	if err != nil {
		return "", fmt.Errorf("pglocal: no server answered (%w) and starting a private one failed: %w",
			errors.Join(tried...), err)
	}
	return dsn, nil
}

// candidates lists the servers to try, most likely first.
func candidates(port int) []string {
	const socketDir = "/var/run/postgresql"
	dsns := []string{
		tcpDSN("postgres", "127.0.0.1", 5432),
		socketDSN("postgres", socketDir),
	}
	// Homebrew and Debian's peer authentication admit the OS user, not postgres.
	if name := osUser(); name != "" && name != "postgres" {
		dsns = append(dsns, tcpDSN(name, "127.0.0.1", 5432), socketDSN(name, socketDir))
	}
	return append(dsns, tcpDSN("postgres", "127.0.0.1", port))
}

func tcpDSN(user, host string, port int) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(user),
		Host:     net.JoinHostPort(host, strconv.Itoa(port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func socketDSN(user, dir string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(user),
		Path:     "/postgres",
		RawQuery: "host=" + dir + "&sslmode=disable",
	}
	return u.String()
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// ping reports whether dsn accepts a connection within a few seconds.
func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// redact hides a password in a URL DSN, and the whole DSN when it is not a URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(not a URL)"
	}
	return u.Redacted()
}
