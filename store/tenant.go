package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.TenantService = (*TenantService)(nil)

// TenantService is the PostgreSQL implementation of roster.TenantService.
type TenantService struct {
	db *DB
}

// NewTenantService returns a TenantService on db.
func NewTenantService(db *DB) *TenantService {
	return &TenantService{db: db}
}

// CreateTenant stores a tenant with its first admin and tokens in one
// transaction. EINVALID, ECONFLICT.
func (s *TenantService) CreateTenant(ctx context.Context, b *roster.Bootstrap) error {
	t := b.Tenant
	if t.Slug == "" {
		t.Slug = roster.Slugify(t.Name)
	}
	if t.Plan == "" {
		t.Plan = roster.PlanFree
	}
	if len(t.Settings) == 0 {
		t.Settings = []byte("{}")
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t.ID = newID()
	by := b.By
	if by.Type == "" {
		by = roster.Actor{Type: roster.ActorSystem, ID: "cli"}
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		t.CreatedAt, t.UpdatedAt = now, now
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO tenants (id, slug, name, plan, settings, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.ID, t.Slug, t.Name, t.Plan, []byte(t.Settings), now, now); err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, now, t.ID, by, roster.ActionTenantCreated, "tenant", t.ID,
			map[string]any{"name": t.Name, "slug": t.Slug}); err != nil {
			return err
		}
		admin, err := createUser(ctx, s.db, tx, now, t.ID, by, b.Admin)
		if err != nil {
			return err
		}
		b.Admin = admin
		if l := b.SetupLink; l != nil {
			l.TenantID, l.TenantSlug, l.UserID = t.ID, t.Slug, admin.ID
			if err := createSetupLink(ctx, tx, now, by, l); err != nil {
				return err
			}
		}
		if b.Mail != nil {
			mail, err := s.db.sealBody(t.ID, b.Mail(b))
			if err != nil {
				return err
			}
			if _, err := enqueueEmail(ctx, tx, now, t.ID, "", mail); err != nil {
				return err
			}
		}
		// The admin token acts for the admin and stops with them; the SCIM
		// token belongs to the tenant, so provisioning survives the admin.
		if b.AdminToken != nil {
			b.AdminToken.UserID = &admin.ID
		}
		for _, tok := range []*roster.APIToken{b.AdminToken, b.SCIMToken} {
			if tok == nil {
				continue
			}
			if err := createToken(ctx, tx, now, t.ID, by, tok); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindTenantByID returns a tenant. ENOTFOUND.
func (s *TenantService) FindTenantByID(ctx context.Context, id string) (*roster.Tenant, error) {
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	var t roster.Tenant
	err := sqlx.GetContext(ctx, s.db.db, &t, `
		SELECT id, slug, name, plan, settings, created_at, updated_at FROM tenants WHERE id = $1`, id)
	if err != nil {
		return nil, notFound(translate(err), "tenant")
	}
	return &t, nil
}

// HasTenants reports whether any tenant exists.
func (s *TenantService) HasTenants(ctx context.Context) (bool, error) {
	var has bool
	err := sqlx.GetContext(ctx, s.db.db, &has, `SELECT EXISTS (SELECT 1 FROM tenants)`)
	return has, translate(err)
}

// FindTenantID resolves a tenant id or slug. ENOTFOUND.
func (s *TenantService) FindTenantID(ctx context.Context, tenant string) (string, error) {
	return findTenantID(ctx, s.db.db, tenant)
}

// findTenantID resolves a tenant id or slug. ENOTFOUND.
func findTenantID(ctx context.Context, q sqlx.QueryerContext, tenant string) (string, error) {
	var tenantID any // NULL unless tenant is an id, so the uuid comparison cannot fail
	if isUUID(tenant) {
		tenantID = tenant
	}
	var id string
	err := q.QueryRowxContext(ctx, `SELECT id FROM tenants WHERE id = $1 OR lower(slug) = lower($2)`, tenantID, tenant).Scan(&id)
	if err != nil {
		return "", notFound(translate(err), "tenant")
	}
	return id, nil
}
