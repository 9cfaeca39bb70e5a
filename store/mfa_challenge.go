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

// CreateMFAChallenge stores a sign-in awaiting its second factor.
func (s *MFAService) CreateMFAChallenge(ctx context.Context, c *roster.MFAChallenge) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		c.ID, c.CreatedAt, c.FailedAttempts = newID(), now, 0
		// Abandoned challenges are cleared here, a user at a time, so that
		// no sweeper is needed and none piles up.
		if _, err := tx.ExecContext(ctx, `
			DELETE FROM mfa_challenges WHERE tenant_id = $1 AND user_id = $2 AND expires_at <= $3`,
			c.TenantID, c.UserID, now); err != nil {
			return translate(err)
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO mfa_challenges (tenant_id, id, user_id, token_hash, amr, auth_time, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.TenantID, c.ID, c.UserID, c.TokenHash, pq.Array(c.AMR), c.AuthTime, c.CreatedAt, c.ExpiresAt)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, c.TenantID, signInActor, roster.ActionMFAChallengeStarted, "user", c.UserID,
			map[string]any{"challenge_id": c.ID, "expires_at": c.ExpiresAt})
	})
}

// AttemptMFAChallenge records one try at a challenge's second factor, as
// check judges it.
func (s *MFAService) AttemptMFAChallenge(ctx context.Context, tokenHash []byte, method string, recoveryCodeHash []byte, check func(*roster.MFAAttempt) (roster.MFAVerdict, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		a, err := lockAttempt(ctx, tx, tokenHash)
		if err != nil {
			return err
		}
		c := a.Challenge
		if err := readFactor(ctx, tx, a, c.TenantID, c.UserID, method, recoveryCodeHash); err != nil {
			return err
		}
		verdict, err := check(a)
		if err != nil {
			return err
		}
		if !verdict.Passed {
			return recordChallengeFailure(ctx, tx, now, c, method, verdict.Burn)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_challenges WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ID); err != nil {
			return translate(err)
		}
		return spendFactor(ctx, tx, now, c.TenantID, signInActor, c.UserID, method, verdict.Step, recoveryCodeHash,
			map[string]any{"challenge_id": c.ID})
	})
}

// lockAttempt locks the user of the challenge with this token hash, then
// the challenge, and reads both. The user's row is locked before the
// challenge's, in the order of every other change to a user's factors (a
// reset deletes their challenges), so that the two cannot deadlock.
// EUNAUTHORIZED when there is no such challenge.
func lockAttempt(ctx context.Context, tx *sqlx.Tx, tokenHash []byte) (*roster.MFAAttempt, error) {
	var tenantID, userID string
	err := tx.QueryRowContext(ctx, `SELECT tenant_id, user_id FROM mfa_challenges WHERE token_hash = $1`, tokenHash).
		Scan(&tenantID, &userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnknownChallenge()
	} else if err != nil {
		return nil, translate(err)
	}
	a := roster.MFAAttempt{Login: &roster.Login{}}
	err = tx.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
		tenantID, userID).Scan(loginFields(a.Login)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnknownChallenge() // deleted with its user meanwhile
	} else if err != nil {
		return nil, translate(err)
	}
	if a.Challenge, err = lockChallenge(ctx, tx, tokenHash); err != nil {
		return nil, err
	}
	return &a, nil
}

// spendFactor records the use of a second factor that passed: a TOTP step
// becomes the last one accepted, a recovery code is used up (audited with
// the details and the number left).
func spendFactor(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, userID, method string, step int64, recoveryCodeHash []byte, details map[string]any) error {
	switch method {
	case roster.MFATOTP:
		_, err := tx.ExecContext(ctx, `
			UPDATE mfa_methods SET last_step = $3, last_used_at = $4
			WHERE tenant_id = $1 AND user_id = $2 AND type = 'totp'`, tenantID, userID, step, now)
		return translate(err)
	case roster.MFASMS, roster.MFAEmail:
		_, err := tx.ExecContext(ctx, `
			UPDATE mfa_methods SET last_used_at = $4
			WHERE tenant_id = $1 AND user_id = $2 AND type = $3`, tenantID, userID, method, now)
		return translate(err)
	case roster.MFARecoveryCode:
		return spendRecoveryCode(ctx, tx, now, tenantID, by, userID, recoveryCodeHash, details)
	}
	return nil
}

// readFactor reads into a what the check of a try with method needs: the
// user's verified TOTP method, locked, or whether the recovery code typed
// is an unused one of theirs.
func readFactor(ctx context.Context, tx *sqlx.Tx, a *roster.MFAAttempt, tenantID, userID, method string, recoveryCodeHash []byte) error {
	switch method {
	case roster.MFATOTP:
		m := roster.MFAMethod{Type: roster.MFATOTP, Verified: true}
		err := tx.QueryRowContext(ctx, `
			SELECT secret, last_step, created_at, verified_at, last_used_at
			FROM mfa_methods WHERE tenant_id = $1 AND user_id = $2 AND type = 'totp' AND verified
			FOR UPDATE`, tenantID, userID).
			Scan(&m.Secret, &m.LastStep, &m.CreatedAt, &m.VerifiedAt, &m.LastUsedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return translate(err)
		}
		a.TOTP = &m
	case roster.MFARecoveryCode:
		err := tx.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM recovery_codes
			               WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL)`,
			tenantID, userID, recoveryCodeHash).Scan(&a.RecoveryCodeUnused)
		return translate(err)
	}
	return nil
}

// lockChallenge reads and locks the challenge with this token hash.
// EUNAUTHORIZED when there is none.
func lockChallenge(ctx context.Context, tx *sqlx.Tx, tokenHash []byte) (*roster.MFAChallenge, error) {
	c := roster.MFAChallenge{TokenHash: tokenHash}
	var (
		code          roster.MFACode
		method        sql.NullString
		expires, sent sql.NullTime
	)
	err := tx.QueryRowContext(ctx, `
		SELECT tenant_id, id, user_id, amr, auth_time, created_at, expires_at, failed_attempts,
		    code_method, code_hash, code_expires_at, code_sent_at, code_attempts
		FROM mfa_challenges WHERE token_hash = $1 FOR UPDATE`, tokenHash).
		Scan(&c.TenantID, &c.ID, &c.UserID, pq.Array(&c.AMR), &c.AuthTime, &c.CreatedAt, &c.ExpiresAt, &c.FailedAttempts,
			&method, &code.Hash, &expires, &sent, &code.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnknownChallenge() // spent or ended meanwhile
	} else if err != nil {
		return nil, translate(err)
	}
	if method.Valid && code.Hash != nil {
		code.Method, code.ExpiresAt, code.SentAt = method.String, expires.Time, sent.Time
		c.Code = &code
	}
	return &c, nil
}

func errUnknownChallenge() error {
	return roster.Errorf(roster.EUNAUTHORIZED, "the mfa_token is unknown, expired or used up: sign in again")
}

// recordChallengeFailure counts a failed try, or ends the challenge.
func recordChallengeFailure(ctx context.Context, tx *sqlx.Tx, now time.Time, c *roster.MFAChallenge, method string, burn bool) error {
	if !burn {
		_, err := tx.ExecContext(ctx, `
			UPDATE mfa_challenges SET failed_attempts = failed_attempts + 1,
			    code_attempts = code_attempts + CASE WHEN code_method = $3 THEN 1 ELSE 0 END
			WHERE tenant_id = $1 AND id = $2`,
			c.TenantID, c.ID, method)
		return translate(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_challenges WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ID); err != nil {
		return translate(err)
	}
	return insertAudit(ctx, tx, now, c.TenantID, signInActor, roster.ActionMFAChallengeFailed, "user", c.UserID,
		map[string]any{"challenge_id": c.ID, "method": method, "failed_attempts": c.FailedAttempts + 1})
}

// spendRecoveryCode marks the code used and audits it with the details and
// the number left.
func spendRecoveryCode(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID string, by roster.Actor, userID string, hash []byte, details map[string]any) error {
	var remaining int
	err := tx.QueryRowContext(ctx, `
		WITH spent AS (
		    UPDATE recovery_codes SET used_at = $4
		    WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL
		    RETURNING code_hash
		)
		SELECT count(*) FROM recovery_codes
		WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL AND code_hash NOT IN (SELECT code_hash FROM spent)`,
		tenantID, userID, hash, now).Scan(&remaining)
	if err != nil {
		return translate(err)
	}
	details["remaining"] = remaining
	return insertAudit(ctx, tx, now, tenantID, by, roster.ActionMFARecoveryCodeUsed, "user", userID, details)
}
