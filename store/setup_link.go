package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.SetupLinkService = (*SetupLinkService)(nil)

// SetupLinkService is the PostgreSQL implementation of
// roster.SetupLinkService.
type SetupLinkService struct {
	db *DB
}

// NewSetupLinkService returns a SetupLinkService on db.
func NewSetupLinkService(db *DB) *SetupLinkService {
	return &SetupLinkService{db: db}
}

// setupLinkSelect reads links (aliased l) with their tenant's slug.
const setupLinkSelect = `SELECT l.tenant_id, t.slug, l.user_id, l.purpose, l.token_hash, l.created_at, l.expires_at, l.used_at
	FROM setup_links l JOIN tenants t ON t.id = l.tenant_id`

func setupLinkFields(l *roster.SetupLink) []any {
	return []any{&l.TenantID, &l.TenantSlug, &l.UserID, &l.Purpose, &l.TokenHash, &l.CreatedAt, &l.ExpiresAt, &l.UsedAt}
}

// setupLinkUpsert gives a user a new link: the old token stops working.
const setupLinkUpsert = `INSERT INTO setup_links (tenant_id, user_id, purpose, token_hash, created_at, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (tenant_id, user_id) DO UPDATE
	SET purpose = excluded.purpose, token_hash = excluded.token_hash, created_at = excluded.created_at,
		expires_at = excluded.expires_at, used_at = NULL`

// createSetupLink stores l (its tenant, user, hash and expiry set; its
// purpose a setup unless set) on tx, audited as by.
func createSetupLink(ctx context.Context, tx *sqlx.Tx, now time.Time, by roster.Actor, l *roster.SetupLink) error {
	l.CreatedAt, l.UsedAt = now, nil
	if l.Purpose == "" {
		l.Purpose = roster.LinkSetup
	}
	if _, err := tx.ExecContext(ctx, setupLinkUpsert, l.TenantID, l.UserID, l.Purpose, l.TokenHash, now, l.ExpiresAt); err != nil {
		return translate(err)
	}
	return insertAudit(ctx, tx, now, l.TenantID, by, roster.ActionUserSetupLinkCreated, "user", l.UserID,
		map[string]any{"expires_at": l.ExpiresAt, "purpose": l.Purpose})
}

// GiveSetupLink stores l for its active user, audited as by, with mail in
// the outbox, sealed. ENOTFOUND; ECONFLICT for a deactivated user.
func (s *SetupLinkService) GiveSetupLink(ctx context.Context, by roster.Actor, l *roster.SetupLink, mail roster.Email) error {
	if !isUUID(l.TenantID) || !isUUID(l.UserID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	mail, err := s.db.sealBody(l.TenantID, mail)
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT t.slug, u.active FROM users u JOIN tenants t ON t.id = u.tenant_id
			WHERE u.tenant_id = $1 AND u.id = $2 FOR SHARE OF u`, l.TenantID, l.UserID).Scan(&l.TenantSlug, &active)
		if err != nil {
			return notFound(translate(err), "user")
		}
		if !active {
			return roster.Errorf(roster.ECONFLICT, "the user is deactivated: activate them first")
		}
		now := s.db.now()
		if err := createSetupLink(ctx, tx, now, by, l); err != nil {
			return err
		}
		_, err = enqueueEmail(ctx, tx, now, l.TenantID, "", mail)
		return err
	})
}

// CreateSetupLink gives the user with email, in the tenant named by id or
// slug, a new link. ENOTFOUND.
func (s *SetupLinkService) CreateSetupLink(ctx context.Context, tenant, email string, tokenHash []byte, expiresAt time.Time) (*roster.SetupLink, error) {
	var tenantID any // NULL unless tenant is an id, so the uuid comparison cannot fail
	if isUUID(tenant) {
		tenantID = tenant
	}
	l := &roster.SetupLink{TokenHash: tokenHash, ExpiresAt: expiresAt}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT t.id, t.slug, u.id FROM tenants t JOIN users u ON u.tenant_id = t.id
			WHERE (t.id = $1 OR lower(t.slug) = lower($2)) AND lower(u.email) = lower($3)`,
			tenantID, tenant, email).Scan(&l.TenantID, &l.TenantSlug, &l.UserID)
		if err != nil {
			return notFound(translate(err), "user")
		}
		return createSetupLink(ctx, tx, s.db.now(), roster.Actor{Type: roster.ActorSystem, ID: "cli"}, l)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// FindSetupLink returns the link with this token hash and its user.
// ENOTFOUND.
func (s *SetupLinkService) FindSetupLink(ctx context.Context, tokenHash []byte) (*roster.SetupLink, *roster.User, error) {
	var l roster.SetupLink
	if err := s.db.db.QueryRowContext(ctx, setupLinkSelect+` WHERE l.token_hash = $1`, tokenHash).Scan(setupLinkFields(&l)...); err != nil {
		return nil, nil, notFound(translate(err), "setup link")
	}
	var u roster.User
	if err := s.db.db.QueryRowContext(ctx, UserGetByIDSQL, l.TenantID, l.UserID).Scan(userFields(&u)...); err != nil {
		return nil, nil, notFound(translate(err), "user")
	}
	return &l, &u, nil
}

// UseSetupLink sets the password of the link's user, once: the row lock
// makes a second use of the same token wait and then find it used. EGONE.
func (s *SetupLinkService) UseSetupLink(ctx context.Context, tokenHash []byte, requestID, passwordHash string) (*roster.User, error) {
	var u roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var l roster.SetupLink
		if err := lockSetupLink(ctx, tx, now, tokenHash, []string{roster.LinkSetup, roster.LinkReset}, &l); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `UPDATE users SET password_hash = $3, failed_logins = 0, locked_until = NULL,
				updated_at = $4, version = version + 1
			WHERE tenant_id = $1 AND id = $2 RETURNING `+userColumns, l.TenantID, l.UserID, passwordHash, now).Scan(userFields(&u)...)
		if err != nil {
			return notFound(translate(err), "user")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE setup_links SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2`,
			l.TenantID, l.UserID, now); err != nil {
			return translate(err)
		}
		// Whoever held the old password holds no session any more.
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = $3
			WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL`, l.TenantID, l.UserID, now); err != nil {
			return translate(err)
		}
		if err := deleteMFAState(ctx, tx, l.TenantID, l.UserID, "mfa_challenges"); err != nil {
			return err
		}
		by := roster.Actor{Type: roster.ActorSystem, ID: "setup-link", RequestID: requestID}
		via := map[string]string{roster.LinkSetup: "setup_link", roster.LinkReset: "password_reset"}[l.Purpose]
		if err := insertAudit(ctx, tx, now, l.TenantID, by, roster.ActionUserPasswordSet, "user", l.UserID,
			map[string]any{"via": via}); err != nil {
			return err
		}
		if l.Purpose != roster.LinkReset {
			return nil
		}
		_, err = enqueueEmail(ctx, tx, now, l.TenantID, "", roster.PasswordChangedEmail(&u))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// lockSetupLink reads the usable link with this token hash and one of
// purposes into l, its row locked: a second use of the same token waits
// and then finds it used. EGONE.
func lockSetupLink(ctx context.Context, tx *sqlx.Tx, now time.Time, tokenHash []byte, purposes []string, l *roster.SetupLink) error {
	err := tx.QueryRowContext(ctx, setupLinkSelect+` WHERE l.token_hash = $1 AND l.purpose = ANY ($2) FOR UPDATE OF l`,
		tokenHash, pq.Array(purposes)).Scan(setupLinkFields(l)...)
	if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
		return roster.SetupLinkGone()
	} else if err != nil {
		return translate(err)
	}
	if !l.Usable(now) {
		return roster.SetupLinkGone()
	}
	return nil
}
