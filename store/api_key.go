package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.APIKeyService = (*TokenService)(nil)

// apiKeyColumns are what a personal key is listed with.
const apiKeyColumns = `tenant_id, id, name, prefix, scopes, user_id, created_at, expires_at,
	last_used_at, use_count, last_used_address, previous_expires_at`

func scanAPIKey(row interface{ Scan(...any) error }) (*roster.APIToken, error) {
	t := roster.APIToken{Kind: roster.TokenPersonal}
	err := row.Scan(&t.TenantID, &t.ID, &t.Name, &t.Prefix, pq.Array(&t.Scopes), &t.UserID, &t.CreatedAt, &t.ExpiresAt,
		&t.LastUsedAt, &t.UseCount, &t.LastUsedAddress, &t.PreviousExpiresAt)
	return &t, err
}

// CreateAPIKey stores a personal key of a user of the tenant with its
// audit event, the owner's row locked so that two at once cannot pass the
// cap together. ENOTFOUND, ECONFLICT, EINVALID.
func (s *TokenService) CreateAPIKey(ctx context.Context, tenantID string, by roster.Actor, t *roster.APIToken) error {
	if t.UserID == nil || !isUUID(*t.UserID) || t.Kind != roster.TokenPersonal {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var found bool
		err := tx.QueryRowContext(ctx, `SELECT true FROM users WHERE tenant_id = $1 AND id = $2 AND active FOR NO KEY UPDATE`,
			tenantID, *t.UserID).Scan(&found)
		if err != nil {
			return notFound(translate(err), "user")
		}
		var live int
		if err := tx.QueryRowContext(ctx, `
			SELECT count(*) FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 AND kind = 'personal'
			    AND revoked_at IS NULL AND expires_at > $3`, tenantID, *t.UserID, now).Scan(&live); err != nil {
			return translate(err)
		}
		if live >= roster.MaxAPIKeysPerUser {
			return roster.Errorf(roster.ECONFLICT, "you have %d live API keys, the most a user may have: revoke one first", live)
		}
		return createToken(ctx, tx, now, tenantID, by, t)
	})
}

// FindAPIKeys lists the tenant's live personal keys, or one user's, in
// the order they were made. EINVALID for a bad cursor.
func (s *TokenService) FindAPIKeys(ctx context.Context, tenantID string, f roster.APIKeyFilter) (*roster.APIKeyPage, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	after := "00000000-0000-0000-0000-000000000000"
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, "api_keys", 1)
		if err != nil {
			return nil, err
		}
		if !isUUID(c.Keys[0]) {
			return nil, roster.Invalid(roster.FieldError{Field: "cursor", Message: "is not a cursor of this list and sort"})
		}
		after = c.Keys[0]
	}
	page := &roster.APIKeyPage{Items: []*roster.APIToken{}}
	if f.UserID != "" && !isUUID(f.UserID) {
		return page, nil
	}
	var rows *sql.Rows
	const live = `tenant_id = $1 AND kind = 'personal' AND revoked_at IS NULL AND id > $2`
	if f.UserID == "" {
		rows, err = s.db.query(ctx, `SELECT `+apiKeyColumns+` FROM api_tokens
			WHERE `+live+` ORDER BY id LIMIT $3`, tenantID, after, limit+1)
	} else {
		rows, err = s.db.query(ctx, `SELECT `+apiKeyColumns+` FROM api_tokens
			WHERE `+live+` AND user_id = $4 ORDER BY id LIMIT $3`, tenantID, after, limit+1, f.UserID)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanAPIKey(rows)
		if err != nil {
			return nil, translate(err)
		}
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = cursor{Sort: "api_keys", Keys: []string{page.Items[limit-1].ID}}.encode()
	}
	return page, nil
}

// RotateAPIKey gives a live key of userID a new secret; the replaced one
// works for roster.APIKeyRotationGrace more, the one replaced before it
// stops. ENOTFOUND, EINVALID.
func (s *TokenService) RotateAPIKey(ctx context.Context, tenantID string, by roster.Actor, userID, id string, r roster.KeyRotation) (*roster.APIToken, error) {
	if !isUUID(id) || !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "API key not found")
	}
	var out *roster.APIToken
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if r.ExpiresAt != nil {
			if err := roster.ValidateKeyExpiry(now, r.ExpiresAt); err != nil {
				return err
			}
		}
		var err error
		out, err = scanAPIKey(tx.QueryRowContext(ctx, `
			UPDATE api_tokens SET previous_hash = token_hash, previous_expires_at = $5,
			    token_hash = $6, prefix = $7, expires_at = coalesce($8, expires_at),
			    reminded_expires_at = CASE WHEN $8::timestamptz IS NULL THEN reminded_expires_at END
			WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND kind = 'personal'
			  AND revoked_at IS NULL AND expires_at > $4
			RETURNING `+apiKeyColumns,
			tenantID, id, userID, now, now.Add(roster.APIKeyRotationGrace), r.Hash, r.Prefix, r.ExpiresAt))
		if err != nil {
			return notFound(translate(err), "API key")
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionAPIKeyRotated, "api_key", id,
			map[string]any{"name": out.Name, "prefix": out.Prefix, "user_id": userID, "expires_at": out.ExpiresAt,
				"previous_expires_at": out.PreviousExpiresAt})
	})
	return out, err
}

// RevokeAPIKey stops a live personal key of userID, or of anyone when
// userID is "", with its audit event. ENOTFOUND.
func (s *TokenService) RevokeAPIKey(ctx context.Context, tenantID string, by roster.Actor, userID, id string) error {
	if !isUUID(id) || (userID != "" && !isUUID(userID)) {
		return roster.Errorf(roster.ENOTFOUND, "API key not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var name, owner string
		err := tx.QueryRowContext(ctx, `
			UPDATE api_tokens SET revoked_at = $3
			WHERE tenant_id = $1 AND id = $2 AND kind = 'personal' AND revoked_at IS NULL
			  AND ($4 = '' OR user_id = nullif($4, '')::uuid)
			RETURNING name, user_id`, tenantID, id, now, userID).Scan(&name, &owner)
		if err != nil {
			return notFound(translate(err), "API key")
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionAPIKeyRevoked, "api_key", id,
			map[string]any{"name": name, "user_id": owner})
	})
}

// apiKeyReminder is a key whose owner is to be reminded of its expiry.
type apiKeyReminder struct {
	TenantID  string    `db:"tenant_id"`
	ID        string    `db:"id"`
	Name      string    `db:"name"`
	Prefix    string    `db:"prefix"`
	ExpiresAt time.Time `db:"expires_at"`
	Email     string    `db:"email"`
	Active    bool      `db:"active"`
}
