package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.SessionService = (*SessionService)(nil)

// SessionService is the PostgreSQL implementation of roster.SessionService:
// the refresh token chains of signed-in sessions.
type SessionService struct {
	db *DB
}

// NewSessionService returns a SessionService on db.
func NewSessionService(db *DB) *SessionService {
	return &SessionService{db: db}
}

// CreateRefreshToken stores a new refresh token.
func (s *SessionService) CreateRefreshToken(ctx context.Context, t *roster.RefreshToken) error {
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
func (s *SessionService) UseRefreshToken(ctx context.Context, hash []byte) (*roster.RefreshToken, error) {
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
func (s *SessionService) RevokeRefreshFamily(ctx context.Context, hash []byte) error {
	_, err := s.db.db.ExecContext(ctx, `
		UPDATE refresh_tokens r SET revoked_at = $2
		FROM refresh_tokens t
		WHERE t.token_hash = $1 AND r.tenant_id = t.tenant_id AND r.family_id = t.family_id AND r.revoked_at IS NULL`,
		hash, s.db.now())
	return translate(err)
}

// CountActiveSessions counts the user's live refresh tokens: one per
// session, since each use spends the token and issues the next.
func (s *SessionService) CountActiveSessions(ctx context.Context, tenantID, userID string) (int, error) {
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
