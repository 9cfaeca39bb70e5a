package roster

import (
	"slices"
	"time"
)

// Permission names one thing a caller may do. Each endpoint declares the
// permission it needs.
type Permission string

const (
	PermUsersRead     Permission = "users:read"
	PermUsersWrite    Permission = "users:write"
	PermAuditRead     Permission = "audit:read"
	PermTokensWrite   Permission = "tokens:write"
	PermSCIMProvision Permission = "scim:provision"
	PermTenantWrite   Permission = "tenant:write" // the tenant's settings, its security policy among them
	// PermUsersExport is reading every user's data at once: admins only.
	PermUsersExport Permission = "users:export"
	// PermRolesWrite is defining the tenant's custom roles: the permission
	// the tenant must never lose its last holder of.
	PermRolesWrite Permission = "roles:write"
	// PermTeamsWrite is creating, changing and deleting teams and managing
	// the members of any team; a team's admins manage its members without it.
	PermTeamsWrite Permission = "teams:write"

	// PermAPIKeysWrite is making and rotating one's own personal API keys:
	// not for viewers.
	PermAPIKeysWrite Permission = "api_keys:write"
	// PermServiceTokensRead is reading users' service tokens from the
	// vault: for a tenant's own services, granted to admins but only to a
	// credential that carries it as a scope (see scopeOnly).
	PermServiceTokensRead Permission = "service_tokens:read"

	// PermMFAEnroll is enrolling one's own second factors, which every role
	// may do. As a token's only scope it makes an enrolment-only token: what
	// sign-in hands a user without a second factor in a tenant that requires
	// one.
	PermMFAEnroll Permission = "mfa:enroll"

	// PermAppAll stands for every application permission (app:...), which
	// the built-in admin holds, so that an admin can define them.
	PermAppAll Permission = "app:*"
)

// Built-in roles.
const (
	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleViewer    = "viewer"
)

// rolePermissions is the one table of what each built-in role may do: viewers
// and developers read, only admins write.
var rolePermissions = map[string][]Permission{
	RoleAdmin: {PermUsersRead, PermUsersWrite, PermAuditRead, PermTokensWrite, PermSCIMProvision, PermTenantWrite,
		PermMFAEnroll, PermUsersExport, PermRolesWrite, PermAppAll, PermAPIKeysWrite, PermServiceTokensRead, PermTeamsWrite},
	RoleDeveloper: {PermUsersRead, PermMFAEnroll, PermAPIKeysWrite},
	RoleViewer:    {PermUsersRead, PermMFAEnroll},
}

// Permissions lists what the principal may do, sorted by name: what a
// client needs to draw only the controls its user can use.
func (p *Principal) Permissions() []Permission {
	held := []Permission{}
	for _, perm := range p.granted() {
		if p.Can(perm) && !slices.Contains(held, perm) {
			held = append(held, perm)
		}
	}
	slices.Sort(held)
	return held
}

// Delegable is what the principal may hand out to others (in a role, a
// grant or an assignment): what its roles grant, narrowed by the
// credential's scopes when it carries any. Unlike Permissions, it keeps
// the scope-only permissions the roles grant: an admin holds
// scim:provision even though their everyday token cannot provision.
func (p *Principal) Delegable() []Permission {
	var held []Permission
	for _, perm := range p.granted() {
		if len(p.Scopes) == 0 || slices.Contains(p.Scopes, string(perm)) {
			held = append(held, perm)
		}
	}
	slices.Sort(held)
	return slices.Compact(held)
}

// roleOrder lists the built-in roles from the least to the most powerful.
var roleOrder = []string{RoleViewer, RoleDeveloper, RoleAdmin}

// IsBuiltInRole reports whether role is admin, developer or viewer.
func IsBuiltInRole(role string) bool {
	_, ok := rolePermissions[role]
	return ok
}

// BuiltInRoles returns the built-in role names, sorted.
func BuiltInRoles() []string {
	names := make([]string, 0, len(rolePermissions))
	for name := range rolePermissions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// BuiltInPermissions returns what a built-in role grants, nil for any
// other name.
func BuiltInPermissions(role string) []Permission {
	return slices.Clone(rolePermissions[role])
}

// Principal kinds.
const (
	PrincipalUser     = "user"      // a person, signed in with a JWT
	PrincipalAPIToken = "api_token" // a script or SCIM client with an opaque token
)

// Principal is the authenticated caller of a request. Its tenant comes from
// the credential, never from the request.
type Principal struct {
	Kind     string
	TenantID string
	Subject  string   // JWT "sub", or the API token's id
	UserID   string   // the Roster user behind the credential, when there is one
	TokenID  string   // the API token's id, for api_token principals
	Roles    []string // role names; unknown names grant nothing
	Scopes   []string // when non-empty, narrows what the roles grant
	AMR      []string // RFC 8176 authentication methods, for JWTs
	AuthTime time.Time
	Issuer   string // the JWT's issuer; "" for API tokens
	// SessionID is the JWT's "sid": for Roster's own tokens, the refresh
	// token family of the sign-in the token comes from.
	SessionID string
	// Granted is what Roles grant as the tenant defines them, and for a
	// Roster user their live temporary grants too, resolved when the
	// credential is checked. Nil when nothing was resolved: Roles then
	// grant what the built-in table says, and custom roles nothing.
	Granted []Permission
	// AdminTeams are the teams a Roster user is an admin of, resolved
	// with Granted: they administer these and every team below them
	// (UserScope).
	AdminTeams []string
}

// EnrolmentOnly reports whether the credential may do nothing but enrol
// second factors: its one scope is mfa:enroll.
func (p *Principal) EnrolmentOnly() bool {
	return p != nil && len(p.Scopes) == 1 && p.Scopes[0] == string(PermMFAEnroll)
}

// SelfUserID returns the id of the user the credential belongs to: what
// the self-service actions (me, one's own factors and passkeys) act on.
// ENOTFOUND for a credential of no user (a SCIM or script token).
func (p *Principal) SelfUserID() (string, error) {
	if p == nil || p.UserID == "" {
		return "", Errorf(ENOTFOUND, "this credential does not belong to a user")
	}
	return p.UserID, nil
}

// scopeOnly are permissions a role grants only to credentials that carry
// them as an explicit scope: an admin's everyday token cannot provision
// over SCIM, or read users' service tokens, only a token made for it can.
var scopeOnly = []Permission{PermSCIMProvision, PermServiceTokensRead}

// Can reports whether the principal holds perm: one of its roles grants it
// and, when the credential carries scopes (or perm is scope-only), the
// scopes include it.
func (p *Principal) Can(perm Permission) bool {
	if slices.Contains(scopeOnly, perm) && (p == nil || !slices.Contains(p.Scopes, string(perm))) {
		return false
	}
	return p.Holds(perm)
}

// Holds reports whether the principal's roles grant perm, within its
// scopes when it has any, scope-only permissions included: what a
// credential it makes (a personal API key) may carry.
func (p *Principal) Holds(perm Permission) bool {
	if p == nil {
		return false
	}
	if len(p.Scopes) > 0 && !slices.Contains(p.Scopes, string(perm)) {
		return false
	}
	return Holds(p.granted(), perm)
}

// granted is what the principal's roles grant, before scopes narrow it.
func (p *Principal) granted() []Permission {
	if p.Granted != nil {
		return p.Granted
	}
	var perms []Permission
	for _, r := range p.Roles {
		perms = append(perms, rolePermissions[r]...)
	}
	return perms
}

// Holds reports whether the permissions set includes perm, app:* standing
// for every application permission.
func Holds(set []Permission, perm Permission) bool {
	return slices.Contains(set, perm) || IsAppPermission(perm) && slices.Contains(set, PermAppAll)
}

// selfService are permissions over nothing but oneself: enrolling one's
// own factors, making keys no stronger than oneself.
var selfService = []Permission{PermMFAEnroll, PermAPIKeysWrite}

// Grantable are the permissions of perms that reach beyond oneself, the
// ones the escalation guard compares: a key or an account without
// mfa:enroll may still give a role that lets its holder enrol their own
// second factor.
func Grantable(perms []Permission) []Permission {
	out := make([]Permission, 0, len(perms))
	for _, p := range perms {
		if !slices.Contains(selfService, p) {
			out = append(out, p)
		}
	}
	return out
}

// Covers reports whether set holds every one of perms, and if not, the
// first it lacks.
func Covers(set, perms []Permission) (Permission, bool) {
	for _, perm := range perms {
		if !Holds(set, perm) {
			return perm, false
		}
	}
	return "", true
}
