package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

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
