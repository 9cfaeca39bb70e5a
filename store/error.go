package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// uniqueFields names the request field behind each unique index, so a
// conflict can say which value is taken.
var uniqueFields = map[string]string{
	"users_email_key":         "email",
	"users_user_name_key":     "user_name",
	"tenants_slug_key":        "slug",
	"groups_display_name_key": "displayName",

	"invitations_open_email_key": "email",
	"roles_name_key":             "name",
	"teams_name_key":             "name",
}

// translate turns database errors into Roster errors, once, here: a unique
// violation is ECONFLICT, no rows ENOTFOUND, a lost connection EUNAVAILABLE.
// Roster errors and context errors pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var rerr *roster.Error
	if errors.As(err, &rerr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Errorf(roster.ENOTFOUND, "not found")
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code == "23505":
			if field, ok := uniqueFields[pqErr.Constraint]; ok {
				return &roster.Error{
					Code:    roster.ECONFLICT,
					Message: field + " is already taken",
					Fields:  []roster.FieldError{{Field: field, Message: "is already taken"}},
				}
			}
			return roster.Errorf(roster.ECONFLICT, "the resource already exists")
		case pqErr.Code.Class() == "08", pqErr.Code == "57P01", pqErr.Code == "57P02", pqErr.Code == "57P03":
			return &unavailable{err}
		}
		return err
	}
	if isConnectionError(err) {
		return &unavailable{err}
	}
	return err
}

// isConnectionError reports whether err means the database cannot be reached.
func isConnectionError(err error) bool {
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "connection refused")
}

// unavailable is an EUNAVAILABLE error that keeps its cause for the logs.
type unavailable struct{ cause error }

func (e *unavailable) Error() string { return "database unavailable: " + e.cause.Error() }
func (e *unavailable) Unwrap() []error {
	return []error{e.cause, roster.Errorf(roster.EUNAVAILABLE, "the database is unavailable; try again shortly")}
}

// checkVersion is the If-Match check of an update: EPRECONDITION unless
// ifVersion is 0 (any) or the row's current version. roster.NoVersion
// matches none.
func checkVersion(what string, ifVersion, current int64) error {
	switch {
	case ifVersion == 0 || ifVersion == current:
		return nil
	case ifVersion == roster.NoVersion:
		return roster.Errorf(roster.EPRECONDITION, "the If-Match entity tag is not a version of this %s", what)
	}
	return roster.Errorf(roster.EPRECONDITION, "the %s has changed since version %d", what, ifVersion)
}
