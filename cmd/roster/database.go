package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"

	"github.com/rosterhq/roster/internal/pglocal"
	"github.com/rosterhq/roster/store"
)

// databaseName is the database Roster creates on a local server it finds.
const databaseName = "roster"

// openDatabase connects to DATABASE_URL or, without one, to the "roster"
// database of a local PostgreSQL (found or started, and created if missing),
// and applies pending migrations.
func openDatabase(ctx context.Context, databaseURL string, log *slog.Logger) (*store.DB, string, error) {
	dsn := databaseURL
	if dsn == "" {
		server, err := pglocal.Find(ctx, log)
		if err != nil {
			return nil, "", fmt.Errorf("find PostgreSQL: %w", err)
		}
		if dsn, err = pglocal.EnsureDatabase(ctx, server, databaseName); err != nil {
			return nil, "", fmt.Errorf("create database: %w", err)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, "", err
	}
	return db, dsn, nil
}

var keywordPassword = regexp.MustCompile(`password=('[^']*'|\S+)`)

// redact hides the password of a URL DSN, for messages and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return keywordPassword.ReplaceAllString(dsn, "password=xxxxx")
	}
	if u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
