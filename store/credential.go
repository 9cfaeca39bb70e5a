package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.CredentialService = (*CredentialService)(nil)

// CredentialService is the PostgreSQL implementation of
// roster.CredentialService.
type CredentialService struct {
	db *DB
}

// NewCredentialService returns a CredentialService on db.
func NewCredentialService(db *DB) *CredentialService {
	return &CredentialService{db: db}
}

// signInActor is who records what happens at sign-in, before anyone is
// signed in.
var signInActor = roster.Actor{Type: roster.ActorSystem, ID: "sign-in"}

// FindLogin finds a user by user name or email (the user name wins when the
// two would name different users) in the tenant named by id or slug.
func (s *CredentialService) FindLogin(ctx context.Context, tenant, username string) (*roster.Login, error) {
	var tenantID any // NULL unless tenant is an id, so the uuid comparison cannot fail
	if isUUID(tenant) {
		tenantID = tenant
	}
	var l roster.Login
	err := s.db.db.QueryRowContext(ctx, `
		SELECT `+loginColumns+`
		FROM users
		WHERE tenant_id = (SELECT id FROM tenants WHERE id = $1 OR lower(slug) = lower($2))
		  AND (lower(user_name) = lower($3) OR lower(email) = lower($3))
		ORDER BY lower(user_name) = lower($3) DESC
		LIMIT 1`, tenantID, tenant, username).
		Scan(loginFields(&l)...)
	if err != nil {
		return nil, notFound(translate(err), "user")
	}
	return &l, nil
}

// FindLoginByID returns the sign-in state of one user of the tenant.
// ENOTFOUND.
func (s *CredentialService) FindLoginByID(ctx context.Context, tenantID, userID string) (*roster.Login, error) {
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
	 WHERE r.tenant_id = users.tenant_id AND r.user_id = users.id AND r.used_at IS NULL)`

// loginFields returns pointers to l's fields in loginColumns order; l.User
// is set to a new user.
func loginFields(l *roster.Login) []any {
	l.User = &roster.User{}
	return append(userFields(l.User), &l.PasswordHash, &l.FailedLogins, &l.LockedUntil, pq.Array(&l.MFAMethods),
		&l.MFADefault, &l.RecoveryCodes)
}

// RecordLoginFailure counts a failed attempt; the attempt that reaches
// lockAfter locks the account for lockFor and starts the count again.
func (s *CredentialService) RecordLoginFailure(ctx context.Context, tenantID, userID string, lockAfter int, lockFor time.Duration) (*roster.Login, error) {
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
		if !locked {
			return nil
		}
		return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionUserLocked, "user", userID,
			map[string]any{"locked_until": l.LockedUntil, "after_failed_attempts": lockAfter})
	})
	return &l, err
}

// RecordLogin clears failed attempts, records the sign-in time and audits it.
func (s *CredentialService) RecordLogin(ctx context.Context, tenantID, userID string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $3
			WHERE tenant_id = $1 AND id = $2`, tenantID, userID, now)
		if err := rowAffected(res, err, "user"); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionUserSignedIn, "user", userID, map[string]any{})
	})
}

// SetPassword stores a password hash. ENOTFOUND.
func (s *CredentialService) SetPassword(ctx context.Context, tenantID string, by roster.Actor, userID, hash string) error {
	if !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET password_hash = $3, updated_at = $4, version = version + 1
			WHERE tenant_id = $1 AND id = $2`, tenantID, userID, hash, now)
		if err := rowAffected(res, err, "user"); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionUserPasswordSet, "user", userID, map[string]any{})
	})
}

// ChangePassword stores a new password hash and ends the user's other
// sessions. ENOTFOUND.
func (s *CredentialService) ChangePassword(ctx context.Context, tenantID string, by roster.Actor, userID, hash, keepFamily string) error {
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

// Unlock clears a lockout. ENOTFOUND.
func (s *CredentialService) Unlock(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
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

// CreateRefreshToken stores a new refresh token.
func (s *CredentialService) CreateRefreshToken(ctx context.Context, t *roster.RefreshToken) error {
	t.ID, t.CreatedAt = newID(), s.db.now()
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	_, err := s.db.db.ExecContext(ctx, `
		INSERT INTO refresh_tokens (tenant_id, id, family_id, user_id, token_hash, amr, auth_time, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.TenantID, t.ID, t.FamilyID, t.UserID, t.Hash, pq.Array(t.AMR), t.AuthTime, t.CreatedAt, t.ExpiresAt)
	return translate(err)
}

// UseRefreshToken spends a refresh token; a replay revokes its family.
func (s *CredentialService) UseRefreshToken(ctx context.Context, hash []byte) (*roster.RefreshToken, error) {
	var t roster.RefreshToken
	replayed := false
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		err := tx.QueryRowContext(ctx, `
			SELECT tenant_id, id, family_id, user_id, amr, auth_time, created_at, expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hash).
			Scan(&t.TenantID, &t.ID, &t.FamilyID, &t.UserID, pq.Array(&t.AMR), &t.AuthTime, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt, &t.RevokedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return roster.Errorf(roster.EUNAUTHORIZED, "invalid refresh token")
		} else if err != nil {
			return translate(err)
		}
		switch {
		case t.RevokedAt != nil || !now.Before(t.ExpiresAt):
			return roster.Errorf(roster.EUNAUTHORIZED, "invalid refresh token")
		case t.UsedAt != nil:
			replayed = true
			if _, err := tx.ExecContext(ctx, `
				UPDATE refresh_tokens SET revoked_at = $3
				WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL`, t.TenantID, t.FamilyID, now); err != nil {
				return translate(err)
			}
			return insertAudit(ctx, tx, now, t.TenantID, signInActor, roster.ActionSessionRefreshReplayed, "user", t.UserID,
				map[string]any{"family_id": t.FamilyID})
		}
		t.UsedAt = &now
		_, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = $3 WHERE tenant_id = $1 AND id = $2`, t.TenantID, t.ID, now)
		return translate(err)
	})
	if err != nil {
		return nil, err
	}
	if replayed {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "refresh token already used: the session is revoked")
	}
	return &t, nil
}

// RevokeRefreshFamily signs a session out.
func (s *CredentialService) RevokeRefreshFamily(ctx context.Context, hash []byte) error {
	_, err := s.db.db.ExecContext(ctx, `
		UPDATE refresh_tokens r SET revoked_at = $2
		FROM refresh_tokens t
		WHERE t.token_hash = $1 AND r.tenant_id = t.tenant_id AND r.family_id = t.family_id AND r.revoked_at IS NULL`,
		hash, s.db.now())
	return translate(err)
}

// SigningKeys returns the keys not retired, oldest first.
func (s *CredentialService) SigningKeys(ctx context.Context) ([]roster.SigningKey, error) {
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT kid, algorithm, private_key, public_jwk, created_at, signs_from, retired_at
		FROM signing_keys WHERE retired_at IS NULL ORDER BY signs_from, kid`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var keys []roster.SigningKey
	for rows.Next() {
		var k roster.SigningKey
		if err := rows.Scan(&k.KID, &k.Algorithm, &k.PrivateKey, &k.PublicJWK, &k.CreatedAt, &k.SignsFrom, &k.RetiredAt); err != nil {
			return nil, translate(err)
		}
		keys = append(keys, k)
	}
	return keys, translate(rows.Err())
}

// CreateSigningKey stores a new signing key.
func (s *CredentialService) CreateSigningKey(ctx context.Context, k *roster.SigningKey) error {
	k.CreatedAt = s.db.now()
	_, err := s.db.db.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, signs_from)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Algorithm, k.PrivateKey, string(k.PublicJWK), k.CreatedAt, k.SignsFrom)
	return translate(err)
}
