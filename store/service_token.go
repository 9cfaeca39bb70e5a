package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.ServiceTokenService = (*ServiceTokenService)(nil)

// ServiceTokenService is the PostgreSQL vault of users' service tokens,
// each sealed with sealer and bound to its tenant, user and service.
type ServiceTokenService struct {
	db     *DB
	sealer roster.Sealer
}

// NewServiceTokenService returns a ServiceTokenService on db.
func NewServiceTokenService(db *DB, sealer roster.Sealer) *ServiceTokenService {
	return &ServiceTokenService{db: db, sealer: sealer}
}

// serviceTokenAD binds a sealed token to its row: moved to another user or
// service, it does not open.
func serviceTokenAD(tenantID, userID, service string) []byte {
	return []byte("service token:" + tenantID + ":" + userID + ":" + service)
}

const serviceTokenColumns = `tenant_id, user_id, service, hint, created_at, updated_at, expires_at, last_used_at, use_count`

func scanServiceToken(row interface{ Scan(...any) error }, extra ...any) (*roster.ServiceToken, error) {
	var t roster.ServiceToken
	err := row.Scan(append([]any{&t.TenantID, &t.UserID, &t.Service, &t.Hint, &t.CreatedAt, &t.UpdatedAt, &t.ExpiresAt,
		&t.LastUsedAt, &t.UseCount}, extra...)...)
	return &t, err
}

// PutServiceToken seals and stores a user's token for a service, replacing
// theirs, with its audit event; the user's row is locked so that two at
// once cannot pass the cap together. EINVALID, ENOTFOUND, ECONFLICT.
func (s *ServiceTokenService) PutServiceToken(ctx context.Context, tenantID string, by roster.Actor, in *roster.ServiceToken) (*roster.ServiceToken, bool, error) {
	if !isUUID(in.UserID) {
		return nil, false, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	var out *roster.ServiceToken
	var created bool
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		if err := in.Validate(now); err != nil {
			return err
		}
		var found bool
		if err := tx.QueryRowContext(ctx, `SELECT true FROM users WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
			tenantID, in.UserID).Scan(&found); err != nil {
			return notFound(translate(err), "user")
		}
		var others int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM user_tokens WHERE tenant_id = $1 AND user_id = $2 AND service <> $3`,
			tenantID, in.UserID, in.Service).Scan(&others); err != nil {
			return translate(err)
		}
		if others >= roster.MaxServiceTokensPerUser {
			return roster.Errorf(roster.ECONFLICT, "you keep %d service tokens, the most a user may: delete one first", others)
		}
		sealed, err := s.sealer.Seal([]byte(in.Token), serviceTokenAD(tenantID, in.UserID, in.Service))
		if err != nil {
			return fmt.Errorf("seal a service token: %w", err)
		}
		hint := roster.ServiceTokenHint(in.Token)
		out, err = scanServiceToken(tx.QueryRowContext(ctx, `
			INSERT INTO user_tokens (tenant_id, user_id, service, sealed, hint, created_at, updated_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
			ON CONFLICT (tenant_id, user_id, service) DO UPDATE
			SET sealed = excluded.sealed, hint = excluded.hint, updated_at = excluded.updated_at,
			    expires_at = excluded.expires_at, reminded_expires_at = NULL
			RETURNING `+serviceTokenColumns+`, xmax = 0`,
			tenantID, in.UserID, in.Service, sealed, hint, now, in.ExpiresAt), &created)
		if err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionServiceTokenStored, "user", in.UserID,
			map[string]any{"service": in.Service, "hint": hint, "expires_at": in.ExpiresAt, "replaced": !created})
	})
	return out, created, err
}

// FindServiceTokens lists a user's tokens by service, without them.
func (s *ServiceTokenService) FindServiceTokens(ctx context.Context, tenantID, userID string) ([]*roster.ServiceToken, error) {
	out := []*roster.ServiceToken{}
	if !isUUID(userID) {
		return out, nil
	}
	rows, err := s.db.query(ctx, `SELECT `+serviceTokenColumns+` FROM user_tokens
		WHERE tenant_id = $1 AND user_id = $2 ORDER BY service`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanServiceToken(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// DeleteServiceToken removes a user's token for a service, with its audit
// event. ENOTFOUND.
func (s *ServiceTokenService) DeleteServiceToken(ctx context.Context, tenantID string, by roster.Actor, userID, service string) error {
	if !isUUID(userID) {
		return roster.Errorf(roster.ENOTFOUND, "service token not found")
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var hint string
		err := tx.QueryRowContext(ctx, `DELETE FROM user_tokens WHERE tenant_id = $1 AND user_id = $2 AND service = $3 RETURNING hint`,
			tenantID, userID, service).Scan(&hint)
		if err != nil {
			return notFound(translate(err), "service token")
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionServiceTokenDeleted, "user", userID,
			map[string]any{"service": service, "hint": hint})
	})
}

// ReadServiceToken opens a live token of an active user, counts the read
// and audits it, in one transaction. ENOTFOUND.
func (s *ServiceTokenService) ReadServiceToken(ctx context.Context, tenantID string, by roster.Actor, userID, service string) (*roster.ServiceToken, error) {
	if !isUUID(userID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "service token not found")
	}
	var out *roster.ServiceToken
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var sealed []byte
		var err error
		out, err = scanServiceToken(tx.QueryRowContext(ctx, `
			UPDATE user_tokens t SET use_count = t.use_count + 1, last_used_at = $4
			FROM users u
			WHERE t.tenant_id = $1 AND t.user_id = $2 AND t.service = $3
			  AND u.tenant_id = t.tenant_id AND u.id = t.user_id AND u.active
			  AND (t.expires_at IS NULL OR t.expires_at > $4)
			RETURNING t.tenant_id, t.user_id, t.service, t.hint, t.created_at, t.updated_at, t.expires_at, t.last_used_at,
			    t.use_count, t.sealed`, tenantID, userID, service, now), &sealed)
		if err = translate(err); roster.ErrorCode(err) == roster.ENOTFOUND {
			return roster.Errorf(roster.ENOTFOUND, "the user has no live %s token (none, expired, or the user is deactivated)", service)
		} else if err != nil {
			return err
		}
		plain, err := s.sealer.Open(sealed, serviceTokenAD(tenantID, userID, service))
		if err != nil {
			return fmt.Errorf("open the %s token of user %s (the encryption key changed?): %w", service, userID, err)
		}
		out.Token = string(plain)
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionServiceTokenRead, "user", userID,
			map[string]any{"service": service, "hint": out.Hint, "use_count": out.UseCount})
	})
	return out, err
}

// serviceTokenReminder is a token whose owner is to be reminded of its
// expiry.
type serviceTokenReminder struct {
	TenantID  string    `db:"tenant_id"`
	UserID    string    `db:"user_id"`
	Service   string    `db:"service"`
	Hint      string    `db:"hint"`
	ExpiresAt time.Time `db:"expires_at"`
	Email     string    `db:"email"`
	Active    bool      `db:"active"`
}
