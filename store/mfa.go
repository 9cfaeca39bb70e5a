package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.MFAService = (*MFAService)(nil)

// MFAService is the PostgreSQL implementation of roster.MFAService. The
// user's verified methods are kept on the users row (mfa_methods,
// mfa_default) by every change here, in the same transaction as the
// mfa_methods rows, so that lists can filter on them by index. Every change
// locks the users row first, so changes to one user's factors run one at a
// time.
type MFAService struct {
	db *DB
}

// NewMFAService returns an MFAService on db.
func NewMFAService(db *DB) *MFAService {
	return &MFAService{db: db}
}

// lockMFAUser locks the user's row and returns their verified methods and
// default. ENOTFOUND.
func lockMFAUser(ctx context.Context, tx *sqlx.Tx, tenantID, userID string) (methods []string, def string, err error) {
	if !isUUID(userID) {
		return nil, "", roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	err = tx.QueryRowContext(ctx, `
		SELECT mfa_methods, coalesce(mfa_default, '') FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
		tenantID, userID).Scan(pq.Array(&methods), &def)
	if err != nil {
		return nil, "", notFound(translate(err), "user")
	}
	return methods, def, nil
}

// FindMFAStatus returns the user's second factors, secrets left out.
func (s *MFAService) FindMFAStatus(ctx context.Context, tenantID, userID string) (*roster.MFAStatus, error) {
	if !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var st roster.MFAStatus
	err := s.db.db.QueryRowContext(ctx, `
		SELECT mfa_methods, coalesce(mfa_default, ''),
		    (SELECT count(*) FROM recovery_codes r
		     WHERE r.tenant_id = users.tenant_id AND r.user_id = users.id AND r.used_at IS NULL)
		FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, userID).
		Scan(pq.Array(&st.Methods), &st.Default, &st.RecoveryCodesRemaining)
	if err != nil {
		return nil, notFound(translate(err), "user")
	}
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT type, coalesce(target, ''), verified, created_at, verified_at, last_used_at
		FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, type`, tenantID, userID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m roster.MFAMethod
		if err := rows.Scan(&m.Type, &m.Target, &m.Verified, &m.CreatedAt, &m.VerifiedAt, &m.LastUsedAt); err != nil {
			return nil, translate(err)
		}
		st.Enrolled = append(st.Enrolled, m)
	}
	return &st, translate(rows.Err())
}

// SetPendingTOTP stores a TOTP secret awaiting confirmation.
func (s *MFAService) SetPendingTOTP(ctx context.Context, tenantID string, by roster.Actor, userID string, sealed []byte) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, _, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO mfa_methods (tenant_id, user_id, type, pending_secret, pending_since, created_at)
			VALUES ($1, $2, 'totp', $3, $4, $4)
			ON CONFLICT (tenant_id, user_id, type) DO UPDATE
			SET pending_secret = EXCLUDED.pending_secret, pending_since = EXCLUDED.pending_since`,
			tenantID, userID, sealed, now)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFAEnrolling, "user", userID,
			map[string]any{"method": roster.MFATOTP, "replaces_verified": slices.Contains(methods, roster.MFATOTP)})
	})
}

// ConfirmTOTP promotes the pending TOTP secret once check accepts a code.
func (s *MFAService) ConfirmTOTP(ctx context.Context, tenantID string, by roster.Actor, userID string, check func(m *roster.MFAMethod) (int64, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, _, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		m := roster.MFAMethod{Type: roster.MFATOTP}
		err = tx.QueryRowContext(ctx, `
			SELECT secret, pending_secret, verified, last_step, created_at, verified_at, last_used_at
			FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 AND type = 'totp' FOR UPDATE`, tenantID, userID).
			Scan(&m.Secret, &m.PendingSecret, &m.Verified, &m.LastStep, &m.CreatedAt, &m.VerifiedAt, &m.LastUsedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return translate(err)
		}
		if m.PendingSecret == nil {
			return roster.Errorf(roster.ECONFLICT, "no TOTP enrolment awaits confirmation: start one with POST /api/v1/me/mfa/totp")
		}
		step, err := check(&m)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE mfa_methods SET secret = pending_secret, pending_secret = NULL, pending_since = NULL,
			    created_at = pending_since, verified = true, verified_at = $3, last_step = $4, last_used_at = NULL
			WHERE tenant_id = $1 AND user_id = $2 AND type = 'totp'`, tenantID, userID, now, step)
		if err != nil {
			return translate(err)
		}
		if err := addVerifiedMethod(ctx, tx, tenantID, userID, roster.MFATOTP); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFAEnabled, "user", userID,
			map[string]any{"method": roster.MFATOTP, "replaced": slices.Contains(methods, roster.MFATOTP)})
	})
}

// addVerifiedMethod adds method to the user's verified methods, and makes
// it the default when there is none.
func addVerifiedMethod(ctx context.Context, tx *sqlx.Tx, tenantID, userID, method string) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE users SET
		    mfa_methods = CASE WHEN $3 = ANY (mfa_methods) THEN mfa_methods ELSE array_append(mfa_methods, $3) END,
		    mfa_default = coalesce(mfa_default, $3)
		WHERE tenant_id = $1 AND id = $2`, tenantID, userID, method)
	return translate(err)
}

// RemoveMFAMethod removes one of the user's methods.
func (s *MFAService) RemoveMFAMethod(ctx context.Context, tenantID string, by roster.Actor, userID, method string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		var verified bool
		err = tx.QueryRowContext(ctx, `
			DELETE FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 AND type = $3 RETURNING verified`,
			tenantID, userID, method).Scan(&verified)
		if errors.Is(err, sql.ErrNoRows) {
			return roster.Errorf(roster.ENOTFOUND, "the user has no %s method", method)
		} else if err != nil {
			return translate(err)
		}
		remaining := slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == method })
		if def == method {
			def = ""
			if len(remaining) > 0 {
				def = remaining[0]
			}
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE users SET mfa_methods = $3, mfa_default = nullif($4, '') WHERE tenant_id = $1 AND id = $2`,
			tenantID, userID, pq.Array(remaining), def)
		if err != nil {
			return translate(err)
		}
		// Recovery codes stand in for a second factor; with none left they
		// go too, so that enabling MFA again cannot revive old ones.
		codesRemoved := len(remaining) == 0
		if codesRemoved {
			if err := deleteMFAState(ctx, tx, tenantID, userID, "recovery_codes", "mfa_challenges"); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFARemoved, "user", userID,
			map[string]any{"method": method, "was_verified": verified, "remaining": remaining, "recovery_codes_removed": codesRemoved})
	})
}

// ResetMFA removes every second factor of the user.
func (s *MFAService) ResetMFA(ctx context.Context, tenantID string, by roster.Actor, userID string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, _, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		// Passkeys are factors too: a reset removes them, as Okta's
		// "reset all factors" does, so a lost or stolen device stops working.
		if err := deleteMFAState(ctx, tx, tenantID, userID, "mfa_methods", "recovery_codes", "mfa_challenges",
			"passkeys", "webauthn_sessions"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE users SET mfa_methods = '{}', mfa_default = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, userID)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFAReset, "user", userID,
			map[string]any{"methods": methods})
	})
}

// deleteMFAState deletes the user's rows of each table named, all of which
// key users by (tenant_id, user_id). The names are the callers' constants.
func deleteMFAState(ctx context.Context, tx *sqlx.Tx, tenantID, userID string, tables ...string) error {
	for _, table := range tables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
			return translate(err)
		}
	}
	return nil
}

// SetMFADefault changes the method sign-in offers first.
func (s *MFAService) SetMFADefault(ctx context.Context, tenantID string, by roster.Actor, userID, method string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, def, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if !slices.Contains(methods, method) {
			return roster.Errorf(roster.ECONFLICT, "%s is not a verified MFA method of the user", method)
		}
		if def == method {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET mfa_default = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, userID, method)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFADefaultChanged, "user", userID,
			map[string]any{"from": def, "to": method})
	})
}

// ReplaceRecoveryCodes stores a new set of recovery code hashes.
func (s *MFAService) ReplaceRecoveryCodes(ctx context.Context, tenantID string, by roster.Actor, userID string, hashes [][]byte) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		methods, _, err := lockMFAUser(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if len(methods) == 0 {
			return roster.Errorf(roster.ECONFLICT, "recovery codes need a verified MFA method: enrol one first")
		}
		if err := deleteMFAState(ctx, tx, tenantID, userID, "recovery_codes"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO recovery_codes (tenant_id, user_id, code_hash, created_at)
			SELECT $1, $2, h, $4 FROM unnest($3::bytea[]) AS h`,
			tenantID, userID, pq.ByteaArray(hashes), now)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFARecoveryCodesCreated, "user", userID,
			map[string]any{"count": len(hashes)})
	})
}
