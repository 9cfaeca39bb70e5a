package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.TokenService = (*TokenService)(nil)

// TokenService is the PostgreSQL implementation of roster.TokenService.
type TokenService struct {
	db *DB
}

// NewTokenService returns a TokenService on db.
func NewTokenService(db *DB) *TokenService {
	return &TokenService{db: db}
}

// CreateToken stores t with its audit event. EINVALID, ENOTFOUND when the
// token's user is not in the tenant.
func (s *TokenService) CreateToken(ctx context.Context, tenantID string, by roster.Actor, t *roster.APIToken) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		return createToken(ctx, tx, s.db.now(), tenantID, by, t)
	})
}

func createToken(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, by roster.Actor, t *roster.APIToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.UserID != nil {
		var exists bool
		err := sqlx.GetContext(ctx, tx, &exists,
			`SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)`, tenantID, *t.UserID)
		if err != nil {
			return translate(err)
		}
		if !exists {
			return roster.Errorf(roster.ENOTFOUND, "user not found")
		}
	}
	t.ID, t.TenantID, t.CreatedAt = newID(), tenantID, now
	if t.Scopes == nil {
		t.Scopes = []string{}
	}
	if t.Kind == "" {
		t.Kind = roster.TokenTenant
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO api_tokens (tenant_id, id, name, prefix, token_hash, role, scopes, user_id, created_at, expires_at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.TenantID, t.ID, t.Name, t.Prefix, t.Hash, t.Role, pq.Array(t.Scopes), t.UserID, t.CreatedAt, t.ExpiresAt, t.Kind)
	if err != nil {
		return translate(err)
	}
	if t.Kind == roster.TokenPersonal {
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionAPIKeyCreated, "api_key", t.ID,
			map[string]any{"name": t.Name, "permissions": t.Scopes, "prefix": t.Prefix, "user_id": t.UserID, "expires_at": t.ExpiresAt})
	}
	return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTokenCreated, "api_token", t.ID,
		map[string]any{"name": t.Name, "role": t.Role, "scopes": t.Scopes, "prefix": t.Prefix})
}

// tokenGetByHash finds a token by its secret's hash, or the hash of the
// secret a rotation replaced, before its tenant is known, with whether the
// user it acts for is still there and active, and their role now.
const tokenGetByHash = `
	SELECT t.tenant_id, t.id, t.name, t.prefix, t.token_hash, t.role, t.scopes, t.user_id,
	       t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
	       (t.user_id IS NULL OR coalesce(u.active, false)) AS user_active,
	       t.kind, coalesce(u.role, ''), t.previous_hash, t.previous_expires_at
	FROM api_tokens t
	LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
	WHERE t.token_hash = $1 OR t.previous_hash = $1`

// FindTokenByHash returns the token with this hash. ENOTFOUND.
func (s *TokenService) FindTokenByHash(ctx context.Context, hash []byte) (*roster.APIToken, error) {
	stmt, err := s.db.prepared(ctx, tokenGetByHash)
	if err != nil {
		return nil, err
	}
	var t roster.APIToken
	err = stmt.QueryRowContext(ctx, hash).Scan(&t.TenantID, &t.ID, &t.Name, &t.Prefix, &t.Hash, &t.Role,
		pq.Array(&t.Scopes), &t.UserID, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt, &t.UserActive,
		&t.Kind, &t.UserRole, &t.PreviousHash, &t.PreviousExpiresAt)
	if err != nil {
		return nil, notFound(translate(err), "token")
	}
	return &t, nil
}

// FindTokens lists the tenant's live tokens that carry scope.
func (s *TokenService) FindTokens(ctx context.Context, tenantID string, scope roster.Permission) ([]*roster.APIToken, error) {
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT tenant_id, id, name, prefix, role, scopes, user_id, created_at, expires_at, last_used_at
		FROM api_tokens
		WHERE tenant_id = $1 AND revoked_at IS NULL AND $2 = ANY(scopes) AND kind = 'tenant'
		ORDER BY created_at, id`, tenantID, string(scope))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	tokens := []*roster.APIToken{}
	for rows.Next() {
		var t roster.APIToken
		if err := rows.Scan(&t.TenantID, &t.ID, &t.Name, &t.Prefix, &t.Role, pq.Array(&t.Scopes), &t.UserID,
			&t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt); err != nil {
			return nil, translate(err)
		}
		tokens = append(tokens, &t)
	}
	return tokens, translate(rows.Err())
}

// RevokeToken marks a token that carries scope revoked, with its audit event. ENOTFOUND.
func (s *TokenService) RevokeToken(ctx context.Context, tenantID string, by roster.Actor, id string, scope roster.Permission) error {
	if !isUUID(id) {
		return roster.Errorf(roster.ENOTFOUND, "token not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var name string
		err := tx.QueryRowContext(ctx, `
			UPDATE api_tokens SET revoked_at = $3
			WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL AND $4 = ANY(scopes) AND kind = 'tenant'
			RETURNING name`, tenantID, id, now, string(scope)).Scan(&name)
		if err != nil {
			return notFound(translate(err), "token")
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTokenRevoked, "api_token", id, map[string]any{"name": name})
	})
}

// TouchToken adds uses to the token's count and records the latest.
func (s *TokenService) TouchToken(ctx context.Context, tenantID, id string, use roster.TokenUse) error {
	_, err := s.db.db.ExecContext(ctx, `
		UPDATE api_tokens SET use_count = use_count + $4,
		    last_used_address = CASE WHEN last_used_at IS NULL OR last_used_at < $3 THEN nullif($5, '') ELSE last_used_address END,
		    last_used_at = greatest(last_used_at, $3)
		WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, use.At, use.Count, use.Address)
	return translate(err)
}
