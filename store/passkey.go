package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.PasskeyService = (*PasskeyService)(nil)

// PasskeyService is the PostgreSQL implementation of roster.PasskeyService.
// Like MFAService, it keeps 'passkey' in users.mfa_methods in step with the
// passkeys rows, and locks the users row before any passkey row.
type PasskeyService struct {
	db *DB
}

// NewPasskeyService returns a PasskeyService on db.
func NewPasskeyService(db *DB) *PasskeyService {
	return &PasskeyService{db: db}
}

// passkeyColumns are the columns a passkey is read with.
const passkeyColumns = `tenant_id, id, user_id, credential_id, public_key, attestation_type, coalesce(aaguid::text, ''),
	sign_count, clone_warning, backup_eligible, backed_up, user_verified, transports, name, created_at, last_used_at, use_count`

// passkeyFields returns pointers to p's fields in passkeyColumns order.
func passkeyFields(p *roster.Passkey) []any {
	return []any{&p.TenantID, &p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AAGUID,
		&p.SignCount, &p.CloneWarning, &p.BackupEligible, &p.BackedUp, &p.UserVerified, pq.Array(&p.Transports),
		&p.Name, &p.CreatedAt, &p.LastUsedAt, &p.UseCount}
}

// FindTenantID resolves a tenant id or slug.
func (s *PasskeyService) FindTenantID(ctx context.Context, tenant string) (string, error) {
	var tenantID any // NULL unless tenant is an id, so the uuid comparison cannot fail
	if isUUID(tenant) {
		tenantID = tenant
	}
	var id string
	err := s.db.db.QueryRowContext(ctx, `SELECT id FROM tenants WHERE id = $1 OR lower(slug) = lower($2)`, tenantID, tenant).Scan(&id)
	if err != nil {
		return "", notFound(translate(err), "tenant")
	}
	return id, nil
}

// CreateWebAuthnSession stores a ceremony in progress.
func (s *PasskeyService) CreateWebAuthnSession(ctx context.Context, ws *roster.WebAuthnSession) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		return insertWebAuthnSession(ctx, tx, s.db.now(), ws)
	})
}

// insertWebAuthnSession stores ws, first deleting a bounded batch of
// expired ceremonies: abandoned ones are cleared as new ones begin, with no
// sweeper, and no begin pays for more than a batch.
func insertWebAuthnSession(ctx context.Context, tx *sqlx.Tx, now time.Time, ws *roster.WebAuthnSession) error {
	_, err := tx.ExecContext(ctx, `
		DELETE FROM webauthn_sessions WHERE (tenant_id, id) IN (
		    SELECT tenant_id, id FROM webauthn_sessions WHERE expires_at <= $1 LIMIT 100)`, now)
	if err != nil {
		return translate(err)
	}
	ws.ID, ws.CreatedAt = newID(), now
	_, err = tx.ExecContext(ctx, `
		INSERT INTO webauthn_sessions (tenant_id, id, kind, user_id, mfa_challenge_id, challenge, session_data, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ws.TenantID, ws.ID, ws.Kind, nullIfEmpty(ws.UserID), nullIfEmpty(ws.MFAChallengeID), ws.Challenge, []byte(ws.Data),
		ws.CreatedAt, ws.ExpiresAt)
	return translate(err)
}

// nullIfEmpty is s, or NULL for "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TakeWebAuthnSession deletes and returns a ceremony, single use.
func (s *PasskeyService) TakeWebAuthnSession(ctx context.Context, tenantID, kind, userID, challenge string) (*roster.WebAuthnSession, error) {
	if !isUUID(tenantID) || (userID != "" && !isUUID(userID)) {
		return nil, roster.Errorf(roster.ENOTFOUND, "no such ceremony")
	}
	var ws *roster.WebAuthnSession
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		ws, err = takeWebAuthnSession(ctx, tx, tenantID, kind, userID, "", challenge)
		return err
	})
	return ws, err
}

// takeWebAuthnSession deletes and returns the ceremony, bound to the user
// and sign-in given ("" for none). ENOTFOUND.
func takeWebAuthnSession(ctx context.Context, tx *sqlx.Tx, tenantID, kind, userID, mfaChallengeID, challenge string) (*roster.WebAuthnSession, error) {
	ws := roster.WebAuthnSession{TenantID: tenantID, Kind: kind, UserID: userID, MFAChallengeID: mfaChallengeID, Challenge: challenge}
	var data []byte
	err := tx.QueryRowContext(ctx, `
		DELETE FROM webauthn_sessions
		WHERE challenge = $1 AND tenant_id = $2 AND kind = $3
		  AND user_id IS NOT DISTINCT FROM $4::uuid AND mfa_challenge_id IS NOT DISTINCT FROM $5::uuid
		RETURNING id, session_data, created_at, expires_at`,
		challenge, tenantID, kind, nullIfEmpty(userID), nullIfEmpty(mfaChallengeID)).
		Scan(&ws.ID, &data, &ws.CreatedAt, &ws.ExpiresAt)
	if err != nil {
		return nil, notFound(translate(err), "ceremony")
	}
	ws.Data = data
	return &ws, nil
}

// FindPasskeys returns the user's passkeys.
func (s *PasskeyService) FindPasskeys(ctx context.Context, tenantID, userID string) ([]*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var exists bool
	if err := s.db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)`,
		tenantID, userID).Scan(&exists); err != nil {
		return nil, translate(err)
	}
	if !exists {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return userPasskeys(ctx, s.db.db, tenantID, userID, false)
}

// userPasskeys reads the user's passkeys, oldest first, locked when lock
// is set.
func userPasskeys(ctx context.Context, q sqlx.QueryerContext, tenantID, userID string, lock bool) ([]*roster.Passkey, error) {
	query := `SELECT ` + passkeyColumns + ` FROM passkeys WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`
	if lock {
		query += ` FOR UPDATE`
	}
	rows, err := q.QueryContext(ctx, query, tenantID, userID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	passkeys := []*roster.Passkey{}
	for rows.Next() {
		p := &roster.Passkey{}
		if err := rows.Scan(passkeyFields(p)...); err != nil {
			return nil, translate(err)
		}
		passkeys = append(passkeys, p)
	}
	return passkeys, translate(rows.Err())
}

// CreatePasskey stores a new passkey of the user.
func (s *PasskeyService) CreatePasskey(ctx context.Context, tenantID string, by roster.Actor, p *roster.Passkey) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if _, _, err := lockMFAUser(ctx, tx, tenantID, p.UserID); err != nil {
			return err
		}
		p.TenantID, p.ID, p.CreatedAt = tenantID, newID(), now
		if p.Transports == nil {
			p.Transports = []string{}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO passkeys (tenant_id, id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
			    backup_eligible, backed_up, user_verified, transports, name, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.TenantID, p.ID, p.UserID, p.CredentialID, p.PublicKey, p.AttestationType, nullIfEmpty(p.AAGUID), p.SignCount,
			p.BackupEligible, p.BackedUp, p.UserVerified, pq.Array(p.Transports), p.Name, p.CreatedAt)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return roster.Errorf(roster.ECONFLICT, "this passkey is registered already")
		} else if err != nil {
			return translate(err)
		}
		if err := addVerifiedMethod(ctx, tx, tenantID, p.UserID, roster.MFAPasskey); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRegistered, "user", p.UserID,
			map[string]any{"passkey_id": p.ID, "name": p.Name, "aaguid": p.AAGUID, "backup_eligible": p.BackupEligible})
	})
}

// RenamePasskey renames one of the user's passkeys.
func (s *PasskeyService) RenamePasskey(ctx context.Context, tenantID string, by roster.Actor, userID, id, name string) (*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) || !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "passkey not found")
	}
	p := &roster.Passkey{}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var old string
		err := tx.QueryRowContext(ctx, `SELECT name FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3 FOR UPDATE`,
			tenantID, userID, id).Scan(&old)
		if err != nil {
			return notFound(translate(err), "passkey")
		}
		err = tx.QueryRowContext(ctx, `
			UPDATE passkeys SET name = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
			RETURNING `+passkeyColumns, tenantID, userID, id, name).Scan(passkeyFields(p)...)
		if err != nil {
			return translate(err)
		}
		if old == name {
			return nil
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRenamed, "user", userID,
			map[string]any{"passkey_id": id, "from": old, "to": name})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeletePasskey removes one of the user's passkeys.
func (s *PasskeyService) DeletePasskey(ctx context.Context, tenantID string, by roster.Actor, userID, id string) (*roster.Passkey, error) {
	if !isUUID(tenantID) || !isUUID(userID) || !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "passkey not found")
	}
	p := &roster.Passkey{}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return notFound(err, "passkey")
		}
		err = tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3 RETURNING `+passkeyColumns,
			tenantID, userID, id).Scan(passkeyFields(p)...)
		if err != nil {
			return notFound(translate(err), "passkey")
		}
		var left bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM passkeys WHERE tenant_id = $1 AND user_id = $2)`,
			tenantID, userID).Scan(&left); err != nil {
			return translate(err)
		}
		details := map[string]any{"passkey_id": id, "name": p.Name}
		if !left {
			remaining, err := dropVerifiedMethod(ctx, tx, tenantID, userID, methods, def, roster.MFAPasskey)
			if err != nil {
				return err
			}
			details["remaining"] = remaining
			details["recovery_codes_removed"] = len(remaining) == 0
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionPasskeyRemoved, "user", userID, details)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteAllPasskeys removes every passkey of the user.
func (s *PasskeyService) DeleteAllPasskeys(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
	if !isUUID(tenantID) || !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "the user has no passkey")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		var ids []string
		rows, err := tx.QueryContext(ctx, `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 RETURNING id`, tenantID, userID)
		if err != nil {
			return translate(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return translate(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		if len(ids) == 0 {
			return roster.Errorf(roster.ENOTFOUND, "the user has no passkey")
		}
		remaining, err := dropVerifiedMethod(ctx, tx, tenantID, userID, methods, def, roster.MFAPasskey)
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFARemoved, "user", userID,
			map[string]any{"method": roster.MFAPasskey, "passkey_ids": ids, "remaining": remaining,
				"recovery_codes_removed": len(remaining) == 0})
	})
}

// dropVerifiedMethod takes method out of the user's verified methods (and
// default), and when none is left removes the recovery codes and open
// sign-ins, as RemoveMFAMethod does. It returns the methods left.
func dropVerifiedMethod(ctx context.Context, tx *sqlx.Tx, tenantID, userID string, methods []string, def, method string) ([]string, error) {
	remaining := slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == method })
	if def == method {
		def = ""
		if len(remaining) > 0 {
			def = remaining[0]
		}
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE users SET mfa_methods = $3, mfa_default = nullif($4, '') WHERE tenant_id = $1 AND id = $2`,
		tenantID, userID, pq.Array(remaining), def)
	if err != nil {
		return nil, translate(err)
	}
	if len(remaining) == 0 {
		if err := deleteMFAState(ctx, tx, tenantID, userID, "recovery_codes", "mfa_challenges"); err != nil {
			return nil, err
		}
	}
	return remaining, nil
}

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

// CountActiveSessions counts the user's live refresh tokens: one per
// session, since each use spends the token and issues the next.
func (s *PasskeyService) CountActiveSessions(ctx context.Context, tenantID, userID string) (int, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return 0, nil
	}
	var n int
	err := s.db.db.QueryRowContext(ctx, `
		SELECT count(*) FROM refresh_tokens
		WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3`,
		tenantID, userID, s.db.now()).Scan(&n)
	return n, translate(err)
}
