package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.RoleService = (*RoleService)(nil)

// RoleService is the PostgreSQL implementation of roster.RoleService.
type RoleService struct {
	db *DB
}

// NewRoleService returns a RoleService on db.
func NewRoleService(db *DB) *RoleService {
	return &RoleService{db: db}
}

const roleColumns = `id, name, description, permissions, created_at, updated_at`

func scanRole(row interface{ Scan(...any) error }) (*roster.Role, error) {
	var r roster.Role
	var perms []string
	var created, updated time.Time
	if err := row.Scan(&r.ID, &r.Name, &r.Description, pq.Array(&perms), &created, &updated); err != nil {
		return nil, translate(err)
	}
	r.Permissions, r.CreatedAt, r.UpdatedAt = toPermissions(perms), &created, &updated
	return &r, nil
}

// FindRoles lists the built-in roles, then the tenant's custom roles by
// name (at most MaxCustomRoles).
func (s *RoleService) FindRoles(ctx context.Context, tenantID string) ([]*roster.Role, error) {
	var roles []*roster.Role
	for _, name := range []string{roster.RoleAdmin, roster.RoleDeveloper, roster.RoleViewer} {
		roles = append(roles, roster.BuiltInRole(name))
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE tenant_id = $1 ORDER BY name LIMIT $2`,
		tenantID, roster.MaxCustomRoles)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, translate(rows.Err())
}

// FindRole returns one role: a built-in by name, a custom one by id.
// ENOTFOUND.
func (s *RoleService) FindRole(ctx context.Context, tenantID, id string) (*roster.Role, error) {
	return findRole(ctx, s.db.db, tenantID, id, false)
}

func findRole(ctx context.Context, q sqlx.QueryerContext, tenantID, id string, forUpdate bool) (*roster.Role, error) {
	if r := roster.BuiltInRole(id); r != nil {
		return r, nil
	}
	if !isUUID(id) {
		return nil, roster.Errorf(roster.ENOTFOUND, "role not found")
	}
	query := `SELECT ` + roleColumns + ` FROM roles WHERE tenant_id = $1 AND id = $2`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	r, err := scanRole(q.QueryRowxContext(ctx, query, tenantID, id))
	return r, notFound(err, "role")
}

// requirePlan refuses a feature of the enterprise plan to a tenant on
// another, locking the tenant row so that changes to its roles queue.
// EPLAN.
func requirePlan(ctx context.Context, tx *sqlx.Tx, tenantID, feature string) error {
	return checkPlan(ctx, tx, tenantID, feature, " FOR UPDATE")
}

// checkPlan is requirePlan with the tenant row's lock clause (lock), ""
// for a feature that queues its changes otherwise. EPLAN.
func checkPlan(ctx context.Context, tx *sqlx.Tx, tenantID, feature, lock string) error {
	var plan string
	if err := tx.QueryRowxContext(ctx, `SELECT plan FROM tenants WHERE id = $1`+lock, tenantID).Scan(&plan); err != nil {
		return notFound(translate(err), "tenant")
	}
	if plan != roster.PlanEnterprise {
		return roster.Errorf(roster.EPLAN, "%s need the %s plan; the tenant is on %s", feature, roster.PlanEnterprise, plan)
	}
	return nil
}

// CreateRole stores a custom role with its audit event. EINVALID,
// ECONFLICT, EFORBIDDEN, EPLAN.
func (s *RoleService) CreateRole(ctx context.Context, tenantID string, by roster.Actor, in *roster.Role) (*roster.Role, error) {
	r := *in
	r.Normalize()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := requirePlan(ctx, tx, tenantID, "custom roles"); err != nil {
			return err
		}
		if err := checkWithin(by, r.Permissions, "create the role "+r.Name); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowxContext(ctx, `SELECT count(*) FROM roles WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
			return translate(err)
		}
		if n >= roster.MaxCustomRoles {
			return roster.Errorf(roster.ECONFLICT, "the tenant has %d custom roles, the most it may have", n)
		}
		now := s.db.now()
		r.ID, r.CreatedAt, r.UpdatedAt = newID(), &now, &now
		if _, err := tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, `+roleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			tenantID, r.ID, r.Name, r.Description, pq.Array(fromPermissions(r.Permissions)), now, now); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionRoleCreated, "role", r.ID,
			map[string]any{"name": r.Name, "permissions": r.Permissions})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRole changes a custom role. A role held by anyone keeps its name:
// Roster's JWTs and the tenant's services know roles by name. ENOTFOUND,
// EINVALID, ECONFLICT, EFORBIDDEN, EPLAN.
func (s *RoleService) UpdateRole(ctx context.Context, tenantID string, by roster.Actor, id string, u roster.RoleUpdate) (*roster.Role, error) {
	var updated *roster.Role
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		before, err := findRole(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if before.BuiltIn {
			return roster.Errorf(roster.EFORBIDDEN, "the built-in role %s is read-only: create a custom role with it as the template", before.Name)
		}
		if err := requirePlan(ctx, tx, tenantID, "custom roles"); err != nil {
			return err
		}
		after := *before
		if u.Name != nil {
			after.Name = *u.Name
		}
		if u.Description != nil {
			after.Description = *u.Description
		}
		if u.Permissions != nil {
			after.Permissions = u.Permissions
		}
		after.Normalize()
		if err := after.Validate(); err != nil {
			return err
		}
		// Neither what the role grants now nor what it will grant may be
		// beyond the actor.
		if err := checkWithin(by, before.Permissions, "change the role "+before.Name); err != nil {
			return err
		}
		if err := checkWithin(by, after.Permissions, "change the role "+before.Name); err != nil {
			return err
		}
		if after.Name != before.Name {
			if held, err := roleReferences(ctx, tx, s.db.now(), tenantID, before.Name); err != nil {
				return err
			} else if held != "" {
				return roster.Errorf(roster.ECONFLICT, "the role %s cannot be renamed while %s: tokens and services know it by name", before.Name, held)
			}
		}
		if slices.Contains(before.Permissions, manageRoles) && !slices.Contains(after.Permissions, manageRoles) {
			if err := guardLastManager(ctx, tx, tenantID, "", before.Name); err != nil {
				return err
			}
		}
		now := s.db.now()
		after.UpdatedAt = &now
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name = $3, description = $4, permissions = $5, updated_at = $6
			WHERE tenant_id = $1 AND id = $2`, tenantID, before.ID, after.Name, after.Description,
			pq.Array(fromPermissions(after.Permissions)), now); err != nil {
			return translate(err)
		}
		updated = &after
		return insertAudit(ctx, tx, now, tenantID, by, roster.ActionRoleUpdated, "role", before.ID, map[string]any{
			"name":        map[string]any{"from": before.Name, "to": after.Name},
			"permissions": map[string]any{"from": before.Permissions, "to": after.Permissions},
		})
	})
	return updated, err
}

// DeleteRole removes a custom role that nothing refers to. ENOTFOUND,
// ECONFLICT naming how many users hold it, EFORBIDDEN.
func (s *RoleService) DeleteRole(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := findRole(ctx, tx, tenantID, id, true)
		if err != nil {
			return err
		}
		if r.BuiltIn {
			return roster.Errorf(roster.EFORBIDDEN, "the built-in role %s is read-only", r.Name)
		}
		if err := checkWithin(by, r.Permissions, "delete the role "+r.Name); err != nil {
			return err
		}
		if held, err := roleReferences(ctx, tx, s.db.now(), tenantID, r.Name); err != nil {
			return err
		} else if held != "" {
			return roster.Errorf(roster.ECONFLICT, "the role %s cannot be deleted while %s", r.Name, held)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE tenant_id = $1 AND id = $2`, tenantID, r.ID); err != nil {
			return translate(err)
		}
		return insertAudit(ctx, tx, s.db.now(), tenantID, by, roster.ActionRoleDeleted, "role", r.ID,
			map[string]any{"name": r.Name, "permissions": r.Permissions})
	})
}

// roleReferences says what still refers to the role by name ("3 users
// hold it"), or "" when nothing does: users, live grants, pending
// invitations, teams, the SCIM group mapping, SSO connections. The count
// of users reads users_role_active_created_idx, that of teams
// teams_roles_idx.
func roleReferences(ctx context.Context, tx *sqlx.Tx, now time.Time, tenantID, name string) (string, error) {
	var users, grants, invitations, teams int64
	var mapped, sso bool
	err := tx.QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM users WHERE tenant_id = $1 AND role = $2),
		(SELECT count(*) FROM role_grants WHERE tenant_id = $1 AND role = $2 AND revoked_at IS NULL AND expires_at > $3),
		(SELECT count(*) FROM invitations WHERE tenant_id = $1 AND role = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3),
		(SELECT count(*) FROM teams WHERE tenant_id = $1 AND roles @> ARRAY[$2::text]),
		EXISTS (SELECT 1 FROM tenants t, jsonb_each_text(coalesce(t.settings -> '`+groupRolesKey+`', '{}')) m WHERE t.id = $1 AND m.value = $2),
		EXISTS (SELECT 1 FROM sso_connections c WHERE c.tenant_id = $1 AND (c.config ->> 'default_role' = $2
			OR EXISTS (SELECT 1 FROM jsonb_each_text(coalesce(c.config -> 'group_roles', '{}')) g WHERE g.value = $2)))`,
		tenantID, name, now).Scan(&users, &grants, &invitations, &teams, &mapped, &sso)
	if err != nil {
		return "", translate(err)
	}
	var held []string
	if users > 0 {
		held = append(held, fmt.Sprintf("%d %s it", users, plural(users, "user holds", "users hold")))
	}
	if grants > 0 {
		held = append(held, fmt.Sprintf("%d live %s it", grants, plural(grants, "grant gives", "grants give")))
	}
	if invitations > 0 {
		held = append(held, fmt.Sprintf("%d pending %s it", invitations, plural(invitations, "invitation offers", "invitations offer")))
	}
	if teams > 0 {
		held = append(held, fmt.Sprintf("%d %s it", teams, plural(teams, "team gives", "teams give")))
	}
	if mapped {
		held = append(held, "the SCIM group mapping names it")
	}
	if sso {
		held = append(held, "an SSO connection gives it")
	}
	return strings.Join(held, ", "), nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// AppPermissions lists the application permissions the tenant's roles
// name: how a tenant declares them.
func (s *RoleService) AppPermissions(ctx context.Context, tenantID string) ([]roster.Permission, error) {
	var names []string
	err := sqlx.SelectContext(ctx, s.db.db, &names, `SELECT DISTINCT p FROM roles, unnest(permissions) p
		WHERE tenant_id = $1 AND p LIKE 'app:%' ORDER BY p`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return toPermissions(names), nil
}
