package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.LoginService = (*LoginService)(nil)

// LoginService is the PostgreSQL implementation of roster.LoginService.
type LoginService struct {
	db *DB
}

// NewLoginService returns a LoginService on db.
func NewLoginService(db *DB) *LoginService {
	return &LoginService{db: db}
}

// signInActor is who records what happens at sign-in, before anyone is
// signed in.
var signInActor = roster.Actor{Type: roster.ActorSystem, ID: "sign-in"}

// FindLogin finds a user of the tenant by user name or email (the user
// name wins when the two would name different users). The tenant is its
// id, resolved beforehand (TenantService.FindTenantID), so that the query names the
// tenant it reads, as a database sharded by tenant needs. An email that
// several users share (unique_email false) names none of them: ENOTFOUND,
// which sign-in answers as it does a wrong password.
func (s *LoginService) FindLogin(ctx context.Context, tenantID, username string) (*roster.Login, error) {
	if !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT `+loginColumns+`, lower(user_name) = lower($2)
		FROM users
		WHERE tenant_id = $1 AND (lower(user_name) = lower($2) OR lower(email) = lower($2))
		ORDER BY lower(user_name) = lower($2) DESC
		LIMIT 2`, tenantID, username)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var found []*roster.Login
	for rows.Next() {
		var l roster.Login
		var byName bool
		if err := rows.Scan(append(loginFields(&l), &byName)...); err != nil {
			return nil, translate(err)
		}
		if byName {
			return &l, nil
		}
		found = append(found, &l)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(found) != 1 {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return found[0], nil
}

// FindLoginByID returns the sign-in state of one user of the tenant.
// ENOTFOUND.
func (s *LoginService) FindLoginByID(ctx context.Context, tenantID, userID string) (*roster.Login, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var l roster.Login
	err := s.db.db.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).
		Scan(loginFields(&l)...)
	if err != nil {
		return nil, notFound(translate(err), "user")
	}
	return &l, nil
}

// loginColumns are what sign-in reads of a users row: the user and the
// state of their password and second factors.
const loginColumns = userColumns + `, coalesce(password_hash, ''), failed_logins, locked_until, mfa_methods,
	coalesce(mfa_default, ''),
	(SELECT count(*) FROM recovery_codes r
	 WHERE r.tenant_id = users.tenant_id AND r.user_id = users.id AND r.used_at IS NULL),
	NOT active AND EXISTS (SELECT 1 FROM setup_links l
	 WHERE l.tenant_id = users.tenant_id AND l.user_id = users.id AND l.purpose = '` + roster.LinkVerify + `' AND l.used_at IS NULL)`

// loginFields returns pointers to l's fields in loginColumns order; l.User
// is set to a new user.
func loginFields(l *roster.Login) []any {
	l.User = &roster.User{}
	return append(userFields(l.User), &l.PasswordHash, &l.FailedLogins, &l.LockedUntil, pq.Array(&l.MFAMethods),
		&l.MFADefault, &l.RecoveryCodes, &l.Unverified)
}

// RecordLoginFailure counts and audits a failed attempt, and records a
// sign-in's (method not "") in the history; the attempt that reaches
// lockAfter locks the account for lockFor and starts the count again.
func (s *LoginService) RecordLoginFailure(ctx context.Context, tenantID, userID string, lockAfter int, lockFor time.Duration, method, reason string) (*roster.Login, error) {
	var l roster.Login
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var locked bool
		err := tx.QueryRowContext(ctx, `
			UPDATE users SET
			    locked_until  = CASE WHEN failed_logins + 1 >= $3 THEN $4 ELSE locked_until END,
			    failed_logins = CASE WHEN failed_logins + 1 >= $3 THEN 0 ELSE failed_logins + 1 END
			WHERE tenant_id = $1 AND id = $2
			RETURNING failed_logins, locked_until, failed_logins = 0`,
			tenantID, userID, lockAfter, now.Add(lockFor)).Scan(&l.FailedLogins, &l.LockedUntil, &locked)
		if err != nil {
			return notFound(translate(err), "user")
		}
		if method != "" {
			if err := insertSignIn(ctx, tx, now, tenantID, &roster.SignInAttempt{UserID: userID, Method: method,
				Result: roster.SignInFailed, Reason: reason}); err != nil {
				return err
			}
		}
		if err := insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionUserSignInFailed, "user", userID,
			map[string]any{"reason": "wrong password", "locked": locked}); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionUserLocked, "user", userID,
			map[string]any{"locked_until": l.LockedUntil, "after_failed_attempts": lockAfter})
	})
	return &l, err
}

// RecordLogin clears failed attempts (the lockout's count and the
// throttle's), records the sign-in time, audits it and records it in the
// history, with the new sign-in mail of a device the user has not used
// lately. The users row is updated first, so that two sign-ins of one
// user take turns at the device check.
func (s *LoginService) RecordLogin(ctx context.Context, tenantID, userID, method string, amr []string) error {
	if !isUUID(tenantID) || !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		u := &roster.User{}
		err := tx.QueryRowContext(ctx, `
			UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $3
			WHERE tenant_id = $1 AND id = $2 RETURNING `+userColumns, tenantID, userID, now).Scan(userFields(u)...)
		if err != nil {
			return notFound(translate(err), "user")
		}
		if err := clearAccountFailures(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		a := &roster.SignInAttempt{UserID: userID, Method: method, Result: roster.SignInSucceeded, AMR: amr}
		if err := mailNewDevice(ctx, tx, now, u, a); err != nil {
			return err
		}
		if err := insertSignIn(ctx, tx, now, tenantID, a); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionUserSignedIn, "user", userID, map[string]any{})
	})
}

// RecordSignIn records an attempt that changes nothing else, in a
// transaction of its own.
func (s *LoginService) RecordSignIn(ctx context.Context, tenantID string, a roster.SignInAttempt) error {
	if !isUUID(tenantID) {
		return roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	if a.UserID != "" && !isUUID(a.UserID) {
		a.UserID = ""
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		return insertSignIn(ctx, tx, s.db.now(), tenantID, &a)
	})
}

// ChangePassword stores a new password hash and ends the user's other
// sessions. ENOTFOUND.
func (s *LoginService) ChangePassword(ctx context.Context, tenantID string, by roster.Actor, userID, hash, keepFamily string) error {
	if !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var keep any // NULL keeps no family, and never fails the uuid comparison
	if isUUID(keepFamily) {
		keep = keepFamily
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET password_hash = $3, updated_at = $4, version = version + 1
			WHERE tenant_id = $1 AND id = $2`, tenantID, userID, hash, now)
		if err := rowAffected(res, err, "user"); err != nil {
			return err
		}
		var revoked int
		err = tx.QueryRowContext(ctx, `
			WITH revoked AS (
			    UPDATE refresh_tokens SET revoked_at = $3
			    WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL
			      AND family_id IS DISTINCT FROM $4::uuid
			    RETURNING family_id
			)
			SELECT count(DISTINCT family_id) FROM revoked`, tenantID, userID, now, keep).Scan(&revoked)
		if err != nil {
			return translate(err)
		}
		// A sign-in that passed the old password must not finish with its
		// second factor.
		if err := deleteMFAState(ctx, tx, tenantID, userID, "mfa_challenges"); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionUserPasswordChanged, "user", userID,
			map[string]any{"sessions_revoked": revoked})
	})
}

// Unlock clears a lockout and the failures the throttle counted against
// the account, so its user can sign in at once. ENOTFOUND.
func (s *LoginService) Unlock(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
	if !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET failed_logins = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
		if err := rowAffected(res, err, "user"); err != nil {
			return err
		}
		if err := clearAccountFailures(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionUserUnlocked, "user", userID, map[string]any{})
	})
}

// rowAffected turns an update that matched no row into ENOTFOUND.
func rowAffected(res sql.Result, err error, what string) error {
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return roster.Errorf(roster.ENOTFOUND, "%s not found", what)
	}
	return nil
}
