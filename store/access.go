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

// UserAccessSQL reads a user's status, role, live grants, the roles of
// every team on the paths of their teams, the teams they are an admin of,
// and what the custom roles among all of these grant: on the users and
// role_grants primary keys, team_members_user_idx, the teams primary key
// (a team, then its path's teams) and roles_name_key, so its cost grows
// with the user's own grants and teams, never with the tenant. Exported
// for the benchmark's EXPLAIN.
const UserAccessSQL = `WITH granted AS (
		SELECT g.role FROM role_grants g WHERE g.tenant_id = $1 AND g.user_id = $2 AND ` + liveGrant + `$3),
	memberships AS (
		SELECT m.team_id, m.role FROM team_members m WHERE m.tenant_id = $1 AND m.user_id = $2),
	team_roles AS (
		SELECT DISTINCT given.name FROM memberships m
		JOIN teams t ON t.tenant_id = $1 AND t.id = m.team_id
		JOIN teams a ON a.tenant_id = $1 AND a.id = ANY (t.path)
		CROSS JOIN unnest(a.roles) AS given (name))
	SELECT u.active, u.role,
		coalesce((SELECT array_agg(DISTINCT role ORDER BY role) FROM granted), '{}'),
		coalesce((SELECT array_agg(name ORDER BY name) FROM team_roles), '{}'),
		coalesce((SELECT array_agg(team_id ORDER BY team_id) FROM memberships WHERE role = 'admin'), '{}'),
		coalesce((SELECT array_agg(DISTINCT p) FROM roles r, unnest(r.permissions) p
			WHERE r.tenant_id = $1 AND (r.name = u.role OR r.name IN (SELECT role FROM granted)
				OR r.name IN (SELECT name FROM team_roles))), '{}')
	FROM users u WHERE u.tenant_id = $1 AND u.id = $2`

// UserAccess returns what the user may do at the store's now. ENOTFOUND.
func (s *AccessService) UserAccess(ctx context.Context, tenantID, userID string) (*roster.Access, error) {
	if !isUUID(userID) || !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	a := &roster.Access{UserID: userID}
	var grants, teamRoles, adminTeams, custom []string
	err := s.db.queryRow(ctx, UserAccessSQL, tenantID, userID, s.db.now()).
		Scan(&a.Active, &a.Role, pq.Array(&grants), pq.Array(&teamRoles), pq.Array(&adminTeams), pq.Array(&custom))
	if err != nil {
		return nil, notFound(translate(err), "user")
	}
	a.Grants, a.TeamRoles, a.AdminTeams = grants, teamRoles, adminTeams
	// Custom roles' permissions come from the query, the built-ins' from
	// the code.
	perms := toPermissions(custom)
	for _, r := range slices.Concat([]string{a.Role}, grants, teamRoles) {
		perms = append(perms, roster.BuiltInPermissions(r)...)
	}
	slices.Sort(perms)
	a.Permissions = slices.Compact(perms)
	return a, nil
}

// UserInScope checks that the user is one the scope reaches. ENOTFOUND.
func (s *AccessService) UserInScope(ctx context.Context, tenantID string, scope roster.UserScope, userID string) error {
	if !isUUID(userID) || !isUUID(tenantID) {
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	if scope.All() {
		return nil
	}
	var in bool
	err := s.db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM team_members m
		JOIN teams t ON t.tenant_id = m.tenant_id AND t.id = m.team_id
		WHERE m.tenant_id = $1 AND m.user_id = $2 AND t.path && $3::uuid[])`,
		tenantID, userID, pq.Array(validUUIDs(scope.Teams))).Scan(&in)
	switch {
	case err != nil:
		return translate(err)
	case !in:
		return roster.Errorf(roster.ENOTFOUND, "user not found")
	}
	return nil
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
