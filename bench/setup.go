package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// defaultServerURL is the PostgreSQL server used when DATABASE_URL is unset.
const defaultServerURL = "postgres://postgres@127.0.0.1:5432"

// tenantSlug names the tenant the bench creates once and reuses.
const tenantSlug = "bench"

// benchEnv is everything setup found or made.
type benchEnv struct {
	server     *url.URL // the PostgreSQL server, with its maintenance database
	benchURL   string   // Roster's bench database
	pgbenchURL *url.URL // pgbench's database
	db         *sql.DB  // on benchURL
	tmpDir     string
	binary     string // the roster binary built from this module
	moduleRoot string

	pgVersion     string
	sharedBuffers string
	tenantID      string
	users         int               // users in the tenant after seeding
	teams         map[string]string // the team scenarios' team ids, by size
	seed          *seedInfo         // when this run seeded
	lastSeed      string            // what an earlier run recorded about its seeding
}

// seedInfo is what `roster seed` reported.
type seedInfo struct {
	users    int
	duration time.Duration
	line     string
}

// setup makes the bench database, the tenant and its users when missing,
// and builds the roster binary.
func setup(ctx context.Context, o options) (*benchEnv, error) {
	env := &benchEnv{}
	ok := false
	defer func() {
		if !ok {
			env.close()
		}
	}()
	var err error
	if env.server, err = serverURL(os.Getenv("DATABASE_URL")); err != nil {
		return nil, err
	}
	env.benchURL = withDatabase(env.server, o.dbName).String()
	env.pgbenchURL = withDatabase(env.server, o.pgbenchDB)

	if env.moduleRoot, err = moduleRoot(ctx); err != nil {
		return nil, err
	}
	if env.tmpDir, err = os.MkdirTemp("", "roster-bench-"); err != nil {
		return nil, err
	}
	env.binary = filepath.Join(env.tmpDir, "roster")
	logf("building roster (go build -o %s ./cmd/roster)", env.binary)
	build := exec.CommandContext(ctx, "go", "build", "-o", env.binary, "./cmd/roster")
	build.Dir = env.moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/roster: %w\n%s", err, out)
	}

	if o.fresh {
		logf("dropping database %s (-fresh)", o.dbName)
		if err := dropDatabase(ctx, env.server, o.dbName); err != nil {
			return nil, err
		}
	}
	if err := ensureDatabase(ctx, env.server, o.dbName); err != nil {
		return nil, err
	}
	if _, err := env.roster(ctx, "migrate"); err != nil {
		return nil, err
	}
	if env.db, err = sql.Open("postgres", env.benchURL); err != nil {
		return nil, err
	}
	env.db.SetMaxOpenConns(4)
	if err := env.db.QueryRowContext(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers')`).
		Scan(&env.pgVersion, &env.sharedBuffers); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(env.benchURL), err)
	}

	if err := env.ensureTenant(ctx); err != nil {
		return nil, err
	}
	if err := env.ensureUsers(ctx, o.users); err != nil {
		return nil, err
	}
	if err := env.ensureTeams(ctx); err != nil {
		return nil, err
	}
	ok = true
	return env, nil
}

// close releases the database handle and the build folder.
func (env *benchEnv) close() {
	if env.db != nil {
		env.db.Close()
	}
	if env.tmpDir != "" {
		os.RemoveAll(env.tmpDir)
	}
}

// serverURL parses DATABASE_URL (a postgres:// URL) or the default. Without
// an sslmode, a loopback server is reached without TLS, by Roster and by
// pgbench alike, so that neither pays for it.
func serverURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = defaultServerURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	q := u.Query()
	if q.Get("sslmode") == "" && isLoopbackHost(u.Hostname()) {
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/postgres"
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withDatabase is u naming database name instead.
func withDatabase(u *url.URL, name string) *url.URL {
	c := *u
	c.Path = "/" + name
	return &c
}

// redact hides a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the bench from inside the roster module (go run ./bench)")
	}
	return filepath.Dir(gomod), nil
}

// ensureDatabase creates database name on the server when it is missing.
func ensureDatabase(ctx context.Context, server *url.URL, name string) error {
	db, err := sql.Open("postgres", server.String())
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("connect to %s: %w", redact(server.String()), err)
	}
	if exists {
		return nil
	}
	logf("creating database %s", name)
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile
		return nil
	}
	return err
}

func dropDatabase(ctx context.Context, server *url.URL, name string) error {
	db, err := sql.Open("postgres", server.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name))
	return err
}

// roster runs a roster subcommand against the bench database and returns
// its standard output.
func (env *benchEnv) roster(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, env.binary, args...)
	cmd.Env = append(cleanEnv(), "DATABASE_URL="+env.benchURL, "ROSTER_LOG_FORMAT=text")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("roster %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// cleanEnv is the environment without Roster's settings, which the bench
// sets itself.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ROSTER_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// ensureTenant finds the bench tenant by its slug, or creates it.
func (env *benchEnv) ensureTenant(ctx context.Context) error {
	err := env.db.QueryRowContext(ctx, `SELECT id FROM tenants WHERE lower(slug) = $1`, tenantSlug).Scan(&env.tenantID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	logf("creating tenant %q", tenantSlug)
	out, err := env.roster(ctx, "tenant", "create", "--name", "Bench", "--slug", tenantSlug,
		"--admin-email", "admin@bench.example", "--json")
	if err != nil {
		return err
	}
	var created struct {
		TenantID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.TenantID == "" {
		return fmt.Errorf("roster tenant create printed %q", out)
	}
	env.tenantID = created.TenantID
	return nil
}

var seededLine = regexp.MustCompile(`seeded (\d+) users in (\S+)`)

// ensureUsers seeds the tenant up to n users, then vacuums and analyzes
// the table so that plans and index-only scans are what a settled
// production table gets from autovacuum.
func (env *benchEnv) ensureUsers(ctx context.Context, n int) error {
	if err := env.countUsers(ctx); err != nil {
		return err
	}
	if err := env.db.QueryRowContext(ctx,
		`SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = current_database()`).
		Scan(&env.lastSeed); err != nil {
		return err
	}
	if env.users >= n {
		logf("tenant %s already has %d users", env.tenantID, env.users)
		return nil
	}
	missing := n - env.users
	logf("seeding %d users (roster seed --tenant %s --users %d)", missing, env.tenantID, missing)
	out, err := env.roster(ctx, "seed", "--tenant", env.tenantID, "--users", strconv.Itoa(missing))
	if err != nil {
		return err
	}
	line := strings.TrimSpace(out)
	logf("  %s", line)
	m := seededLine.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("roster seed printed %q", line)
	}
	count, _ := strconv.Atoi(m[1])
	d, err := time.ParseDuration(m[2])
	if err != nil {
		return fmt.Errorf("roster seed printed %q", line)
	}
	env.seed = &seedInfo{users: count, duration: d, line: line}
	note := fmt.Sprintf("roster bench: %s on %s", line, time.Now().UTC().Format(time.RFC3339))
	if _, err := env.db.ExecContext(ctx, `COMMENT ON DATABASE `+pq.QuoteIdentifier(currentDB(env.benchURL))+` IS `+pq.QuoteLiteral(note)); err != nil {
		return err
	}
	logf("VACUUM (ANALYZE) users")
	if _, err := env.db.ExecContext(ctx, `VACUUM (ANALYZE) users`); err != nil {
		return err
	}
	return env.countUsers(ctx)
}

func (env *benchEnv) countUsers(ctx context.Context) error {
	return env.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant_id = $1`, env.tenantID).Scan(&env.users)
}

func currentDB(raw string) string {
	u, _ := url.Parse(raw)
	return strings.Trim(u.Path, "/")
}

// createToken makes a fresh admin API token for this run; tokens are shown
// only once, so none is kept between runs.
func (env *benchEnv) createToken(ctx context.Context) (string, error) {
	out, err := env.roster(ctx, "token", "create", "--tenant", env.tenantID, "--role", "admin", "--name", "bench", "--json")
	if err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("roster token create did not print a token")
	}
	return tok.Token, nil
}

// sampleIDs returns up to n random ids of the tenant's users.
func (env *benchEnv) sampleIDs(ctx context.Context, n int) ([]string, error) {
	return env.sample(ctx, "id::text", n)
}

// sampleEmails returns up to n random addresses of the bench tenant.
func (env *benchEnv) sampleEmails(ctx context.Context, n int) ([]string, error) {
	return env.sample(ctx, "email", n)
}

// sample returns column of up to n random users of the bench tenant.
func (env *benchEnv) sample(ctx context.Context, column string, n int) ([]string, error) {
	rows, err := env.db.QueryContext(ctx, `SELECT `+column+` FROM users WHERE tenant_id = $1 ORDER BY random() LIMIT $2`, env.tenantID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var values []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("the bench tenant has no users")
	}
	return values, nil
}
