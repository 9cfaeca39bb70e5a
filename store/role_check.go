package store

import (
	"context"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// rolePermissions returns what the tenant's role called name grants, and
// whether the tenant has such a role.
func rolePermissions(ctx context.Context, q sqlx.QueryerContext, tenantID, name string) ([]roster.Permission, bool, error) {
	return readRole(ctx, q, tenantID, name, "")
}

// readRole is rolePermissions with a row lock clause: a role being set
// is read FOR SHARE, so that a concurrent delete or rename (FOR UPDATE)
// waits for the change to commit and then sees it in use.
func readRole(ctx context.Context, q sqlx.QueryerContext, tenantID, name, lock string) ([]roster.Permission, bool, error) {
	if roster.IsBuiltInRole(name) {
		return roster.BuiltInPermissions(name), true, nil
	}
	if roster.RoleNameProblem(name) != "" {
		return nil, false, nil
	}
	var perms []string
	err := q.QueryRowxContext(ctx, `SELECT permissions FROM roles WHERE tenant_id = $1 AND name = $2`+lock, tenantID, name).
		Scan(pq.Array(&perms))
	if roster.ErrorCode(translate(err)) == roster.ENOTFOUND {
		return nil, false, nil
	} else if err != nil {
		return nil, false, translate(err)
	}
	return toPermissions(perms), true, nil
}

// checkRole is the one check of a role someone sets, wherever it is set
// (a user, a bulk set_role, an invitation, a SCIM group or SSO mapping, a
// grant): it must be one of the tenant's roles, and a bounded actor must
// hold everything it grants. EINVALID naming field, EFORBIDDEN.
func checkRole(ctx context.Context, q sqlx.QueryerContext, tenantID string, by roster.Actor, field, role string) error {
	perms, ok, err := readRole(ctx, q, tenantID, role, " FOR SHARE")
	if err != nil {
		return err
	}
	if !ok {
		return roster.Invalid(roster.FieldError{Field: field, Message: role + " is not a role of the tenant (" +
			strings.Join(roster.BuiltInRoles(), ", ") + " or a custom role of GET /api/v1/roles)"})
	}
	return checkWithin(by, perms, "assign the role "+role)
}

// checkWithin refuses a bounded actor what reaches beyond their own
// permissions: nobody hands out more than they hold. EFORBIDDEN.
func checkWithin(by roster.Actor, perms []roster.Permission, what string) error {
	if !by.Bounded {
		return nil
	}
	if missing, ok := roster.Covers(by.Permissions, roster.Grantable(perms)); !ok {
		return roster.Errorf(roster.EFORBIDDEN, "you cannot %s: it grants %s, which you do not hold", what, missing)
	}
	return nil
}

// checkUserWithin refuses a bounded actor a change to a user whose role
// is above their own (editing, demoting, deactivating or deleting them).
// As for checkWithin, what a role lets its holder do only to themselves
// does not put them above anyone. EFORBIDDEN.
func checkUserWithin(ctx context.Context, q sqlx.QueryerContext, tenantID string, by roster.Actor, u *roster.User) error {
	if !by.Bounded {
		return nil
	}
	perms, _, err := rolePermissions(ctx, q, tenantID, u.Role)
	if err != nil {
		return err
	}
	if missing, ok := roster.Covers(by.Permissions, roster.Grantable(perms)); !ok {
		return roster.Errorf(roster.EFORBIDDEN, "%s holds the role %s, above your own (it grants %s)", u.Email, u.Role, missing)
	}
	return nil
}

// roleGrants returns what each of the tenant's roles grants, the
// built-ins and at most MaxCustomRoles custom ones, for picking the
// highest of several mapped roles.
func roleGrants(ctx context.Context, q sqlx.QueryerContext, tenantID string) (map[string][]roster.Permission, error) {
	grants := map[string][]roster.Permission{}
	for _, name := range roster.BuiltInRoles() {
		grants[name] = roster.BuiltInPermissions(name)
	}
	rows, err := q.QueryxContext(ctx, `SELECT name, permissions FROM roles WHERE tenant_id = $1 ORDER BY name LIMIT $2`,
		tenantID, roster.MaxCustomRoles)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var perms []string
		if err := rows.Scan(&name, pq.Array(&perms)); err != nil {
			return nil, translate(err)
		}
		grants[name] = toPermissions(perms)
	}
	return grants, translate(rows.Err())
}

// manageRoles is the permission a tenant must always keep a holder of.
const manageRoles = roster.PermRolesWrite

// managerRoles names the tenant's roles that grant manageRoles.
func managerRoles(ctx context.Context, q sqlx.QueryerContext, tenantID string) ([]string, error) {
	var names []string
	err := sqlx.SelectContext(ctx, q, &names, `SELECT name FROM roles WHERE tenant_id = $1 AND $2 = ANY(permissions)`,
		tenantID, string(manageRoles))
	if err != nil {
		return nil, translate(err)
	}
	for _, b := range roster.BuiltInRoles() {
		if slices.Contains(roster.BuiltInPermissions(b), manageRoles) {
			names = append(names, b)
		}
	}
	return names, nil
}

func toPermissions(names []string) []roster.Permission {
	perms := make([]roster.Permission, len(names))
	for i, n := range names {
		perms[i] = roster.Permission(n)
	}
	return perms
}

func fromPermissions(perms []roster.Permission) []string {
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = string(p)
	}
	return names
}

// knownRole checks a role filter: "" or one of the tenant's roles.
// EINVALID naming "role".
func knownRole(ctx context.Context, q sqlx.QueryerContext, tenantID, role string) error {
	if role == "" || roster.IsBuiltInRole(role) {
		return nil
	}
	if _, ok, err := rolePermissions(ctx, q, tenantID, role); err != nil || ok {
		return err
	}
	return roster.Invalid(roster.FieldError{Field: "role", Message: role + " is not a role of the tenant (" +
		strings.Join(roster.BuiltInRoles(), ", ") + " or a custom role of GET /api/v1/roles)"})
}
