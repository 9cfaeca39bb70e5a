package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

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

// CreateRefreshToken stores a new refresh token. The first of a family
// starts its session; a later one (a refresh) marks the session seen, from
// where the request came (roster.ClientFromContext).
func (s *SessionService) CreateRefreshToken(ctx context.Context, t *roster.RefreshToken) error {
	t.ID, t.CreatedAt = newID(), s.db.now()
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	client := roster.ClientFromContext(ctx)
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO refresh_tokens (tenant_id, id, family_id, user_id, token_hash, amr, auth_time, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			t.TenantID, t.ID, t.FamilyID, t.UserID, t.Hash, pq.Array(t.AMR), t.AuthTime, t.CreatedAt, t.ExpiresAt)
		if err != nil {
			return translate(err)
		}
		// The family's first token and a session made before the sessions
		// table are both made here; a refresh keeps the way it signed in.
		_, err = tx.ExecContext(ctx, `
			INSERT INTO sessions (tenant_id, id, user_id, amr, address, user_agent, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (tenant_id, id) DO UPDATE
			SET address = excluded.address, user_agent = excluded.user_agent, last_seen_at = excluded.last_seen_at`,
			t.TenantID, t.FamilyID, t.UserID, pq.Array(t.AMR), clip(client.Address, 64), clip(client.UserAgent, 512), t.CreatedAt)
		return translate(err)
	})
}

// clip shortens s to at most n bytes, at a rune boundary, for the columns
// that keep what a client says of itself.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// liveToken holds for a refresh token (aliased r) that can still be used:
// neither spent, revoked nor expired. $3 is now.
const liveToken = `r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > $3`

// liveFamily holds for a session (aliased s) with a live refresh token.
const liveFamily = `EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.tenant_id = s.tenant_id AND r.family_id = s.id AND ` + liveToken + `)`

// ListSessions returns the user's live sessions, newest first.
func (s *SessionService) ListSessions(ctx context.Context, tenantID, userID string) ([]*roster.Session, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return nil, nil
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT s.id, s.user_id, s.amr, s.address, s.user_agent, s.created_at, s.last_seen_at
		FROM sessions s WHERE s.tenant_id = $1 AND s.user_id = $2 AND `+liveFamily+`
		ORDER BY s.created_at DESC, s.id LIMIT `+fmt.Sprint(roster.MaxPageSize), tenantID, userID, s.db.now())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*roster.Session
	for rows.Next() {
		var ses roster.Session
		if err := rows.Scan(&ses.ID, &ses.UserID, pq.Array(&ses.AMR), &ses.Address, &ses.UserAgent, &ses.CreatedAt, &ses.LastSeenAt); err != nil {
			return nil, translate(err)
		}
		out = append(out, &ses)
	}
	return out, translate(rows.Err())
}

// EndSessions revokes the refresh tokens of the user's live sessions (one,
// or all but except), audited each.
func (s *SessionService) EndSessions(ctx context.Context, tenantID, userID string, by roster.Actor, id, except string) (int, error) {
	if !isUUID(tenantID) || !isUUID(userID) || (id != "" && !isUUID(id)) {
		return 0, nil
	}
	return s.endSessions(ctx, tenantID, userID, by, `UPDATE refresh_tokens r SET revoked_at = $3
			FROM sessions s
			WHERE s.tenant_id = $1 AND s.user_id = $2 AND ($4::uuid IS NULL OR s.id = $4) AND ($5::uuid IS NULL OR s.id <> $5)
			  AND r.tenant_id = s.tenant_id AND r.family_id = s.id
			  AND `+liveToken+`
			RETURNING s.id`, nullUUID(id), nullUUID(except))
}

// EndOldestSessions revokes the refresh tokens of the user's live sessions
// but the keep newest, audited each.
func (s *SessionService) EndOldestSessions(ctx context.Context, tenantID, userID string, by roster.Actor, keep int) (int, error) {
	if !isUUID(tenantID) || !isUUID(userID) {
		return 0, nil
	}
	return s.endSessions(ctx, tenantID, userID, by, `UPDATE refresh_tokens r SET revoked_at = $3
			FROM (SELECT s.id FROM sessions s WHERE s.tenant_id = $1 AND s.user_id = $2 AND `+liveFamily+`
			      ORDER BY s.created_at DESC, s.id DESC OFFSET $4) old
			WHERE r.tenant_id = $1 AND r.family_id = old.id AND `+liveToken+`
			RETURNING r.family_id`, keep)
}

// endSessions runs revoke, an UPDATE of refresh_tokens returning the ids
// of the sessions it ended ($1 the tenant, $2 the user, $3 now, then
// args), and audits each as session.revoked, in one transaction.
func (s *SessionService) endSessions(ctx context.Context, tenantID, userID string, by roster.Actor, revoke string, args ...any) (int, error) {
	var ended []string
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		rows, err := tx.QueryContext(ctx, revoke, append([]any{tenantID, userID, now}, args...)...)
		if err != nil {
			return translate(err)
		}
		for rows.Next() {
			var sid string
			if err := rows.Scan(&sid); err != nil {
				rows.Close()
				return translate(err)
			}
			ended = append(ended, sid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		for _, sid := range ended {
			if err := insertAudit(ctx, tx, now, tenantID, by, roster.ActionSessionRevoked, "user", userID,
				map[string]any{"session_id": sid}); err != nil {
				return err
			}
		}
		return nil
	})
	return len(ended), err
}

// nullUUID is NULL for "", else the id.
func nullUUID(id string) any {
	if id == "" || !isUUID(id) {
		return nil
	}
	return id
}

// UseRefreshToken spends a refresh token; a replay revokes its family.
func (s *SessionService) UseRefreshToken(ctx context.Context, hash []byte) (*roster.RefreshToken, error) {
	var t roster.RefreshToken
	replayed := false
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		err := tx.QueryRowContext(ctx, `
			SELECT r.tenant_id, r.id, r.family_id, r.user_id, r.amr, r.auth_time, r.created_at, r.expires_at, r.used_at, r.revoked_at,
			       coalesce(s.created_at, r.created_at), coalesce(s.last_seen_at, r.created_at)
			FROM refresh_tokens r LEFT JOIN sessions s ON s.tenant_id = r.tenant_id AND s.id = r.family_id
			WHERE r.token_hash = $1 FOR UPDATE OF r`, hash).
			Scan(&t.TenantID, &t.ID, &t.FamilyID, &t.UserID, pq.Array(&t.AMR), &t.AuthTime, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt, &t.RevokedAt,
				&t.SessionStartedAt, &t.SessionSeenAt)
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
		SELECT count(*) FROM refresh_tokens r
		WHERE r.tenant_id = $1 AND r.user_id = $2 AND `+liveToken,
		tenantID, userID, s.db.now()).Scan(&n)
	return n, translate(err)
}
