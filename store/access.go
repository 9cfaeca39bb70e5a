package store

import (
	"context"
	"slices"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

var _ roster.AccessService = (*AccessService)(nil)

// AccessService is the PostgreSQL implementation of roster.AccessService:
// no cache, one indexed query per credential check, so a changed role or
// a revoked or expired grant takes effect at the next request on every
// replica.
type AccessService struct {
	db *DB
}

// NewAccessService returns an AccessService on db.
func NewAccessService(db *DB) *AccessService {
	return &AccessService{db: db}
}

// UserAccessSQL reads a user's status, role, live grants and what their
// custom roles grant, on the users and role_grants primary keys and
// roles_name_key; exported for the benchmark's EXPLAIN.
const UserAccessSQL = `WITH granted AS (
		SELECT g.role FROM role_grants g WHERE g.tenant_id = $1 AND g.user_id = $2 AND ` + liveGrant + `$3)
	SELECT u.active, u.role,
		coalesce((SELECT array_agg(DISTINCT role ORDER BY role) FROM granted), '{}'),
		coalesce((SELECT array_agg(DISTINCT p) FROM roles r, unnest(r.permissions) p
			WHERE r.tenant_id = $1 AND (r.name = u.role OR r.name IN (SELECT role FROM granted))), '{}')
	FROM users u WHERE u.tenant_id = $1 AND u.id = $2`

// UserAccess returns what the user may do at the store's now. ENOTFOUND.
func (s *AccessService) UserAccess(ctx context.Context, tenantID, userID string) (*roster.Access, error) {
	if !isUUID(userID) || !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	a := &roster.Access{UserID: userID}
	var grants, custom []string
	err := s.db.queryRow(ctx, UserAccessSQL, tenantID, userID, s.db.now()).
		Scan(&a.Active, &a.Role, pq.Array(&grants), pq.Array(&custom))
	if err != nil {
		return nil, notFound(translate(err), "user")
	}
	a.Grants = grants
	// Custom roles' permissions come from the query, the built-ins' from
	// the code.
	perms := toPermissions(custom)
	for _, r := range append([]string{a.Role}, grants...) {
		perms = append(perms, roster.BuiltInPermissions(r)...)
	}
	slices.Sort(perms)
	a.Permissions = slices.Compact(perms)
	return a, nil
}

// RolePermissions returns what the named roles grant in the tenant.
func (s *AccessService) RolePermissions(ctx context.Context, tenantID string, roles []string) ([]roster.Permission, error) {
	var perms []roster.Permission
	var custom []string
	for _, r := range roles {
		if roster.IsBuiltInRole(r) {
			perms = append(perms, roster.BuiltInPermissions(r)...)
		} else if roster.RoleNameProblem(r) == "" {
			custom = append(custom, r)
		}
	}
	if len(custom) > 0 && isUUID(tenantID) {
		var names []string
		err := s.db.queryRow(ctx, `SELECT coalesce(array_agg(DISTINCT p), '{}') FROM roles r, unnest(r.permissions) p
			WHERE r.tenant_id = $1 AND r.name = ANY($2)`, tenantID, pq.Array(custom)).Scan(pq.Array(&names))
		if err != nil {
			return nil, translate(err)
		}
		perms = append(perms, toPermissions(names)...)
	}
	slices.Sort(perms)
	return slices.Compact(perms), nil
}
