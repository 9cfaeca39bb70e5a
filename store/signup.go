package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.SignUpService = (*SignUpService)(nil)

// SignUpService is the PostgreSQL implementation of roster.SignUpService:
// the verification links of signed-up admins, setup links of purpose
// verify.
type SignUpService struct {
	db *DB
}

// NewSignUpService returns a SignUpService on db.
func NewSignUpService(db *DB) *SignUpService {
	return &SignUpService{db: db}
}

// signUpActor is who records what happens to a signed-up admin's account
// before they can sign in.
var signUpActor = roster.Actor{Type: roster.ActorSystem, ID: "sign-up"}

// RenewVerifyLink replaces the verification link of the unverified user
// with email in the tenant (id or slug) and queues its mail. ENOTFOUND.
func (s *SignUpService) RenewVerifyLink(ctx context.Context, tenant, email string, l *roster.SetupLink, mail func(*roster.User, *roster.SetupLink) roster.Email) error {
	var tenantID any // NULL unless tenant is an id, so the uuid comparison cannot fail
	if isUUID(tenant) {
		tenantID = tenant
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var u roster.User
		err := tx.QueryRowContext(ctx, `SELECT t.slug, `+prefixed("u.", userColumns)+`
			FROM tenants t JOIN users u ON u.tenant_id = t.id
			JOIN setup_links l ON l.tenant_id = u.tenant_id AND l.user_id = u.id
			WHERE (t.id = $1 OR lower(t.slug) = lower($2)) AND lower(u.email) = lower($3)
			  AND NOT u.active AND l.purpose = '`+roster.LinkVerify+`' AND l.used_at IS NULL
			FOR UPDATE OF l`, tenantID, tenant, email).Scan(append([]any{&l.TenantSlug}, userFields(&u)...)...)
		if err != nil {
			return notFound(translate(err), "user")
		}
		l.TenantID, l.UserID, l.Purpose = u.TenantID, u.ID, roster.LinkVerify
		now := s.db.now()
		if err := createSetupLink(ctx, tx, now, signUpActor, l); err != nil {
			return err
		}
		m, err := s.db.sealBody(u.TenantID, mail(&u, l))
		if err != nil {
			return err
		}
		_, err = enqueueEmail(ctx, tx, now, u.TenantID, "", m)
		return err
	})
}

// UseVerifyLink activates the link's user, once, audited, with the welcome
// mail queued. EGONE.
func (s *SignUpService) UseVerifyLink(ctx context.Context, tokenHash []byte, requestID string, welcome func(*roster.User, *roster.SetupLink) roster.Email) (*roster.User, error) {
	var u roster.User
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var l roster.SetupLink
		if err := lockSetupLink(ctx, tx, now, tokenHash, []string{roster.LinkVerify}, &l); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `UPDATE users SET active = true, updated_at = $3, version = version + 1
			WHERE tenant_id = $1 AND id = $2 RETURNING `+userColumns, l.TenantID, l.UserID, now).Scan(userFields(&u)...)
		if err != nil {
			return notFound(translate(err), "user")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE setup_links SET used_at = $3 WHERE tenant_id = $1 AND user_id = $2`,
			l.TenantID, l.UserID, now); err != nil {
			return translate(err)
		}
		by := signUpActor
		by.RequestID = requestID
		if err := insertAudit(ctx, tx, now, l.TenantID, by, roster.ActionUserEmailVerified, "user", l.UserID,
			map[string]any{"email": u.Email}); err != nil {
			return err
		}
		_, err = enqueueEmail(ctx, tx, now, l.TenantID, "", welcome(&u, &l))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
