package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// errNoCredential is the answer to an assertion by a credential the tenant
// does not know.
func errNoCredential() error {
	return roster.Errorf(roster.ENOTFOUND, "passkey not found")
}

// AttemptPasskey records one assertion by a passkey, as check judges it.
func (s *PasskeyService) AttemptPasskey(ctx context.Context, tenantID, userID string, credentialID []byte, details map[string]any, check func(*roster.PasskeyAttempt) (roster.PasskeyVerdict, error)) error {
	if !isUUID(tenantID) || (userID != "" && !isUUID(userID)) {
		return errNoCredential()
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM passkeys WHERE tenant_id = $1 AND credential_id = $2`,
			tenantID, credentialID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && userID != "" && owner != userID) {
			return errNoCredential()
		} else if err != nil {
			return translate(err)
		}
		a, err := lockPasskeyAttempt(ctx, tx, tenantID, owner, credentialID)
		if err != nil {
			return err
		}
		v, err := check(a)
		if err != nil {
			return err
		}
		return recordPasskeyUse(ctx, tx, now, tenantID, a, v, details)
	})
}

// lockPasskeyAttempt locks the user, then their passkeys, and reads them.
// ENOTFOUND when the credential went meanwhile.
func lockPasskeyAttempt(ctx context.Context, tx *sqlx.Tx, tenantID, userID string, credentialID []byte) (*roster.PasskeyAttempt, error) {
	a := roster.PasskeyAttempt{Login: &roster.Login{}}
	err := tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
		tenantID, userID).Scan(loginFields(a.Login)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCredential()
	} else if err != nil {
		return nil, translate(err)
	}
	if a.Passkeys, err = userPasskeys(ctx, tx, tenantID, userID, true); err != nil {
		return nil, err
	}
	for _, p := range a.Passkeys {
		if string(p.CredentialID) == string(credentialID) {
			a.Passkey = p
		}
	}
	return &a, nil
}

// recordPasskeyUse writes what an assertion changed on its passkey: a
// clone warning (audited, the counter left as it was), or the new counter,
// flags and use.
func recordPasskeyUse(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, a *roster.PasskeyAttempt, v roster.PasskeyVerdict, details map[string]any) error {
	if v.Use == nil || a.Passkey == nil {
		return nil
	}
	p, u := a.Passkey, v.Use
	if u.CloneWarning {
		if _, err := tx.ExecContext(ctx, `UPDATE passkeys SET clone_warning = true WHERE tenant_id = $1 AND id = $2`,
			tenantID, p.ID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionPasskeyCloneWarning, "user", p.UserID,
			map[string]any{"passkey_id": p.ID, "stored_sign_count": p.SignCount, "sign_count": u.SignCount})
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE passkeys SET sign_count = $3, backup_eligible = $4, backed_up = $5, user_verified = $6,
		    last_used_at = $7, use_count = use_count + 1
		WHERE tenant_id = $1 AND id = $2`,
		tenantID, p.ID, u.SignCount, u.BackupEligible, u.BackedUp, u.UserVerified, now)
	if err != nil {
		return translate(err)
	}
	if !v.Passed {
		return nil
	}
	d := map[string]any{"passkey_id": p.ID, "user_verified": u.UserVerified}
	for k, val := range details {
		d[k] = val
	}
	return insertAudit(ctx, tx, now, tenantID, signInActor, roster.ActionPasskeySignIn, "user", p.UserID, d)
}
