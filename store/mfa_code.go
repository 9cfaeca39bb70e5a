package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// lockCodeMethod reads and locks the user's method row of this type, nil
// when there is none.
func lockCodeMethod(ctx context.Context, tx *sqlx.Tx, tenantID, userID, method string) (*roster.MFAMethod, error) {
	m := roster.MFAMethod{Type: method}
	var (
		c       roster.MFACode
		expires sql.NullTime
		sent    sql.NullTime
	)
	err := tx.QueryRowContext(ctx, `
		SELECT coalesce(target, ''), coalesce(pending_target, ''), verified, created_at, verified_at, last_used_at,
		    code_hash, code_expires_at, code_sent_at, code_attempts
		FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 AND type = $3 FOR UPDATE`, tenantID, userID, method).
		Scan(&m.Target, &m.PendingTarget, &m.Verified, &m.CreatedAt, &m.VerifiedAt, &m.LastUsedAt,
			&c.Hash, &expires, &sent, &c.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, translate(err)
	}
	if c.Hash != nil {
		c.Method, c.ExpiresAt, c.SentAt = method, expires.Time, sent.Time
		m.Code = &c
	}
	return &m, nil
}

// SetEnrolmentCode stores the code issue returns for an SMS or email
// enrolment.
func (s *MFAService) SetEnrolmentCode(ctx context.Context, tenantID, userID, method, target string, issue func(m *roster.MFAMethod) (*roster.MFACode, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if _, _, err := lockMFAUser(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		m, err := lockCodeMethod(ctx, tx, tenantID, userID, method)
		if err != nil {
			return err
		}
		c, err := issue(m)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO mfa_methods (tenant_id, user_id, type, pending_target, code_hash, code_expires_at, code_sent_at, code_attempts, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)
			ON CONFLICT (tenant_id, user_id, type) DO UPDATE
			SET pending_target = EXCLUDED.pending_target, code_hash = EXCLUDED.code_hash,
			    code_expires_at = EXCLUDED.code_expires_at, code_sent_at = EXCLUDED.code_sent_at, code_attempts = 0`,
			tenantID, userID, method, target, c.Hash, c.ExpiresAt, c.SentAt, now)
		return translate(err)
	})
}

// RecordEnrolmentCodeSent audits a sent enrolment code as mfa.enrolling.
func (s *MFAService) RecordEnrolmentCodeSent(ctx context.Context, tenantID string, by roster.Actor, userID, method, target string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var verified bool
		err := tx.QueryRowContext(ctx, `SELECT verified FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 AND type = $3`,
			tenantID, userID, method).Scan(&verified)
		if err != nil {
			return notFound(translate(err), "MFA method")
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionMFAEnrolling, "user", userID,
			map[string]any{"method": method, "target": roster.MaskMFATarget(method, target), "replaces_verified": verified})
	})
}

// WithdrawEnrolmentCode drops an enrolment code that could not be sent.
func (s *MFAService) WithdrawEnrolmentCode(ctx context.Context, tenantID, userID, method string, codeHash []byte) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			DELETE FROM mfa_methods
			WHERE tenant_id = $1 AND user_id = $2 AND type = $3 AND code_hash = $4 AND NOT verified`,
			tenantID, userID, method, codeHash); err != nil {
			return translate(err)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE mfa_methods SET pending_target = NULL, code_hash = NULL, code_expires_at = NULL, code_sent_at = NULL, code_attempts = 0
			WHERE tenant_id = $1 AND user_id = $2 AND type = $3 AND code_hash = $4`,
			tenantID, userID, method, codeHash)
		return translate(err)
	})
}

// ConfirmCode enables an SMS or email method once check accepts its code.
func (s *MFAService) ConfirmCode(ctx context.Context, tenantID string, by roster.Actor, userID, method string, check func(m *roster.MFAMethod) (bool, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if _, _, err := lockMFAUser(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		m, err := lockCodeMethod(ctx, tx, tenantID, userID, method)
		if err != nil {
			return err
		}
		if m == nil || m.Code == nil || m.PendingTarget == "" {
			return roster.Errorf(roster.ECONFLICT, "no %s enrolment awaits a code: start one with POST /api/v1/me/mfa/%s", method, method)
		}
		passed, err := check(m)
		if err != nil {
			return err
		}
		if !passed {
			_, err := tx.ExecContext(ctx, `
				UPDATE mfa_methods SET code_attempts = code_attempts + 1
				WHERE tenant_id = $1 AND user_id = $2 AND type = $3`, tenantID, userID, method)
			return translate(err)
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE mfa_methods SET target = pending_target, pending_target = NULL, code_hash = NULL,
			    code_expires_at = NULL, code_sent_at = NULL, code_attempts = 0,
			    verified = true, verified_at = $4, last_used_at = NULL
			WHERE tenant_id = $1 AND user_id = $2 AND type = $3`, tenantID, userID, method, now)
		if err != nil {
			return translate(err)
		}
		if err := addVerifiedMethod(ctx, tx, tenantID, userID, method); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFAEnabled, "user", userID,
			map[string]any{"method": method, "target": roster.MaskMFATarget(method, m.PendingTarget), "replaced": m.Verified})
	})
}

// SetChallengeCode stores the code issue returns on a sign-in's challenge.
func (s *MFAService) SetChallengeCode(ctx context.Context, tokenHash []byte, method string, issue func(a *roster.MFAAttempt, m *roster.MFAMethod) (*roster.MFACode, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		a, err := lockAttempt(ctx, tx, tokenHash)
		if err != nil {
			return err
		}
		c := a.Challenge
		m, err := lockCodeMethod(ctx, tx, c.TenantID, c.UserID, method)
		if err != nil {
			return err
		}
		if m != nil && !m.Verified {
			m = nil
		}
		code, err := issue(a, m)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE mfa_challenges SET code_method = $3, code_hash = $4, code_expires_at = $5, code_sent_at = $6, code_attempts = 0
			WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ID, method, code.Hash, code.ExpiresAt, code.SentAt)
		return translate(err)
	})
}

// WithdrawChallengeCode drops a challenge's code that could not be sent.
func (s *MFAService) WithdrawChallengeCode(ctx context.Context, tenantID string, tokenHash, codeHash []byte) error {
	if !isUUID(tenantID) {
		return nil
	}
	_, err := s.db.db.ExecContext(ctx, `
		UPDATE mfa_challenges
		SET code_method = NULL, code_hash = NULL, code_expires_at = NULL, code_sent_at = NULL, code_attempts = 0
		WHERE tenant_id = $1 AND token_hash = $2 AND code_hash = $3`, tenantID, tokenHash, codeHash)
	return translate(err)
}
