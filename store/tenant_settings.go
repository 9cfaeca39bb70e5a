package store

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// preferencesKey is where a tenant's own preferences (the "settings" of
// /api/v1/tenant) live in its settings column, beside the security policy
// and the group-to-role mapping, which they cannot reach.
const preferencesKey = "preferences"

const tenantSettingsGet = `
	SELECT name, slug, logo_url, contact_email, default_role, plan,
	       coalesce(settings -> '` + preferencesKey + `', '{}')
	FROM tenants WHERE id = $1`

// TenantSettings returns the tenant's settings. ENOTFOUND.
func (s *TenantService) TenantSettings(ctx context.Context, tenantID string) (*roster.TenantSettings, error) {
	return tenantSettings(ctx, s.db.db, tenantID, "")
}

func tenantSettings(ctx context.Context, q sqlx.QueryerContext, tenantID, lock string) (*roster.TenantSettings, error) {
	if !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	var t roster.TenantSettings
	var prefs []byte
	err := q.QueryRowxContext(ctx, tenantSettingsGet+lock, tenantID).
		Scan(&t.Name, &t.Slug, &t.LogoURL, &t.ContactEmail, &t.DefaultRole, &t.Plan, &prefs)
	if err != nil {
		return nil, notFound(translate(err), "tenant")
	}
	t.Preferences = prefs
	return &t, nil
}

// UpdateTenantSettings applies upd to the locked tenant row, audited as
// tenant.updated with each changed field before and after. EINVALID,
// ENOTFOUND, ECONFLICT naming slug.
func (s *TenantService) UpdateTenantSettings(ctx context.Context, tenantID string, by roster.Actor, upd roster.TenantSettingsUpdate) (*roster.TenantSettings, error) {
	var out *roster.TenantSettings
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := tenantSettings(ctx, tx, tenantID, " FOR UPDATE")
		if err != nil {
			return err
		}
		next := *old
		upd.Apply(&next)
		verr := next.Validate()
		if next.DefaultRole != old.DefaultRole {
			if msg, err := defaultRoleProblem(ctx, tx, tenantID, next.DefaultRole); err != nil {
				return err
			} else if msg != "" {
				verr = withField(verr, roster.FieldError{Field: "default_role", Message: msg})
			}
		}
		if verr != nil {
			return verr
		}
		changes := settingsChanges(old, &next)
		if len(changes) == 0 {
			out = old
			return nil
		}
		now := s.db.now()
		if _, err := tx.ExecContext(ctx, `
			UPDATE tenants SET name = $2, slug = $3, logo_url = $4, contact_email = $5, default_role = $6,
			    settings = jsonb_set(settings, '{`+preferencesKey+`}', $7), updated_at = $8
			WHERE id = $1`,
			tenantID, next.Name, next.Slug, next.LogoURL, next.ContactEmail, next.DefaultRole, string(next.Preferences), now); err != nil {
			return translate(err)
		}
		out = &next
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionTenantUpdated, "tenant", tenantID,
			map[string]any{"changes": changes})
	})
	return out, err
}

// settingsChanges is each field that differs between a and b, with its
// value before and after.
func settingsChanges(a, b *roster.TenantSettings) map[string]any {
	changes := map[string]any{}
	diff := func(name string, from, to any) {
		f, _ := json.Marshal(from)
		t, _ := json.Marshal(to)
		if string(f) != string(t) {
			changes[name] = map[string]any{"from": from, "to": to}
		}
	}
	diff("name", a.Name, b.Name)
	diff("slug", a.Slug, b.Slug)
	diff("logo_url", a.LogoURL, b.LogoURL)
	diff("contact_email", a.ContactEmail, b.ContactEmail)
	diff("default_role", a.DefaultRole, b.DefaultRole)
	diff("settings", a.Preferences, b.Preferences)
	return changes
}

// withField adds a field error to err, an EINVALID error or nil.
func withField(err error, f roster.FieldError) error {
	var fields []roster.FieldError
	if e, ok := err.(*roster.Error); ok {
		fields = e.Fields
	}
	return roster.Invalid(append(fields, f)...)
}

// tenantRole reports whether role is one of the tenant's roles, built-in
// or its own.
func tenantRole(ctx context.Context, q sqlx.QueryerContext, tenantID, role string) (bool, error) {
	_, ok, err := readRole(ctx, q, tenantID, role, "")
	return ok, err
}

// defaultRoleProblem says what is wrong with role as the tenant's default
// role, or "": it must be a role of the tenant, and not admin, since anyone
// who signs up or is provisioned gets it.
func defaultRoleProblem(ctx context.Context, q sqlx.QueryerContext, tenantID, role string) (string, error) {
	ok, err := tenantRole(ctx, q, tenantID, role)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "must be a role of the tenant", nil
	case role == roster.RoleAdmin:
		return "must not be admin: everyone provisioned or signed up would be one", nil
	}
	return "", nil
}

// newUserRole is the role of a user being created: role when one is given,
// else the tenant's default role. Every path that creates users without
// choosing a role (SCIM, single sign-on, sign-up, REST without "role")
// comes through here.
func newUserRole(ctx context.Context, q sqlx.QueryerContext, tenantID, role string) (string, error) {
	if role != "" {
		return role, nil
	}
	err := q.QueryRowxContext(ctx, `SELECT default_role FROM tenants WHERE id = $1`, tenantID).Scan(&role)
	return role, notFound(translate(err), "tenant")
}
