// Package store implements Roster's services on PostgreSQL with sqlx. Every
// read and write of tenant data goes through it, and every query is scoped by
// the tenant id its caller passes.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/migrations"
)

// DB is a connection pool with the clock every service reads the time from.
type DB struct {
	db *sqlx.DB

	stmts         sync.Map // query text -> *sql.Stmt, for the hottest reads
	preparedCount atomic.Int64

	networks  networkPolicies // each tenant's allowed networks, briefly
	teamStats teamStatsCache  // large teams' figures, briefly

	// Now returns the current time; tests replace it. Read once per
	// transaction so every row a change writes carries the same instant.
	Now func() time.Time

	// MailSealer seals the bodies of queued mail that carry a credential
	// (invitation links) until they are sent; nil stores them in the clear.
	MailSealer roster.Sealer
}

// Open connects to the database at dsn and checks that it answers.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping database: %w", translate(err))
	}
	return &DB{db: db, Now: func() time.Time { return time.Now().UTC() }}, nil
}

// OpenDB is Open on a pool the caller made, such as one on a connector
// that watches the statements (the GraphQL statement-count test).
func OpenDB(ctx context.Context, pool *sql.DB) (*DB, error) {
	db := sqlx.NewDb(pool, "postgres")
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("ping database: %w", translate(err))
	}
	return &DB{db: db, Now: func() time.Time { return time.Now().UTC() }}, nil
}

// Migrate applies pending migrations; it is safe to run from several
// processes at once.
func (db *DB) Migrate(ctx context.Context) error {
	return migrations.Up(ctx, db.db.DB)
}

// Ping reports whether the database answers; EUNAVAILABLE when it does not.
func (db *DB) Ping(ctx context.Context) error {
	return translate(db.db.PingContext(ctx))
}

// Close closes the pool and its prepared statements.
func (db *DB) Close() error {
	db.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return db.db.Close()
}

// now returns the clock's time at the database's microsecond precision, so
// what a method returns equals what a later read returns.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Microsecond)
}

// inTx runs fn in a transaction, committing when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// prepared returns a prepared statement for query, preparing it on first
// use. database/sql prepares it again on each pooled connection as needed, so
// a hot read is one round trip with no parse or plan. Only queries whose
// best plan does not depend on their parameters belong here.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, translate(err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	db.preparedCount.Add(1)
	return s, nil
}

// maxPrepared bounds the statements prepare-on-use keeps, since filters
// come in shapes chosen by clients.
const maxPrepared = 500

// planPerValue marks a condition whose best plan depends on its values (how
// common a search's words are, how far back a time goes): a statement with
// one is never prepared, so PostgreSQL plans each run for its values.
const planPerValue = "/* planned per value */ "

// query runs a read, as a prepared statement when its plan cannot depend on
// its values: not for LIKE (SCIM's co, sw, ew), nor for a statement with a
// planPerValue condition.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if stmt := db.preparable(ctx, query); stmt != nil {
		rows, err := stmt.QueryContext(ctx, args...)
		return rows, translate(err)
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	return rows, translate(err)
}

// queryRow is query for one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if stmt := db.preparable(ctx, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return db.db.QueryRowContext(ctx, query, args...)
}

// preparable returns a prepared statement for query when it is worth one.
func (db *DB) preparable(ctx context.Context, query string) *sql.Stmt {
	if strings.Contains(query, " LIKE ") || strings.Contains(query, planPerValue) || db.preparedCount.Load() >= maxPrepared {
		return nil
	}
	stmt, err := db.prepared(ctx, query)
	if err != nil {
		return nil // the plain query reports the error, if it persists
	}
	return stmt
}

// newID returns a UUIDv7: time-ordered, so new rows land at the end of the
// primary key index instead of all over it.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// isUUID reports whether s is a UUID; ids that are not cannot exist, and
// PostgreSQL would refuse them as uuid parameters.
func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
