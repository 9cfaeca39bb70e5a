package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// WithDatabase returns dsn, a postgres:// URL, with its database replaced by
// name.
func WithDatabase(dsn, name string) (string, error) {
	if name == "" {
		return "", errors.New("pglocal: empty database name")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Error repeats the DSN, password included; keep only the cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return "", fmt.Errorf("pglocal: DSN is not a URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", errors.New("pglocal: DSN must be a postgres:// URL")
	}
	u.Path, u.RawPath = "/"+name, ""
	// lib/pq would let a dbname parameter override the path.
	if q := u.Query(); q.Has("dbname") {
		q.Del("dbname")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// EnsureDatabase creates the database name on the server at serverDSN unless
// it exists, and returns serverDSN pointed at it.
func EnsureDatabase(ctx context.Context, serverDSN, name string) (string, error) {
	dsn, err := WithDatabase(serverDSN, name)
	if err != nil {
		return "", err
	}
	db, err := sql.Open("postgres", serverDSN)
	if err != nil {
		return "", fmt.Errorf("pglocal: open server: %w", err)
	}
	defer db.Close()

	var exists bool
	err = db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return "", fmt.Errorf("pglocal: look up database %s: %w", name, err)
	}
	if exists {
		return dsn, nil
	}
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	// Losing a race with another creator is as good as winning it.
	if err != nil && pq.As(err, pqerror.DuplicateDatabase) == nil {
		return "", fmt.Errorf("pglocal: create database %s: %w", name, err)
	}
	return dsn, nil
}

// DropDatabase drops the database name on the server at serverDSN, if it
// exists, disconnecting its sessions.
func DropDatabase(ctx context.Context, serverDSN, name string) error {
	if name == "" {
		return errors.New("pglocal: empty database name")
	}
	db, err := sql.Open("postgres", serverDSN)
	if err != nil {
		return fmt.Errorf("pglocal: open server: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("pglocal: drop database %s: %w", name, err)
	}
	return nil
}
