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
	RoleAdmin: {PermUsersRead, PermUsersWrite, PermAuditRead, PermTokensWrite, PermSCIMProvision, PermTenantWrite, PermMFAEnroll,
		PermUsersExport, PermAPIKeysWrite, PermServiceTokensRead},
	RoleDeveloper: {PermUsersRead, PermMFAEnroll, PermAPIKeysWrite},
	RoleViewer:    {PermUsersRead, PermMFAEnroll},
}

// Permissions lists what the principal may do, in the order of the
// permissions' names: what a client needs to draw only the controls its
// user can use.
func (p *Principal) Permissions() []Permission {
	held := []Permission{}
	for _, perm := range allPermissions() {
		if p.Can(perm) {
			held = append(held, perm)
		}
	}
	return held
}

// allPermissions lists every permission some role grants, sorted.
func allPermissions() []Permission {
	var all []Permission
	for _, perms := range rolePermissions {
		for _, perm := range perms {
			if !slices.Contains(all, perm) {
				all = append(all, perm)
			}
		}
	}
	slices.Sort(all)
	return all
}

// IsPermission reports whether p is a permission some role grants.
func IsPermission(p Permission) bool {
	for _, perms := range rolePermissions {
		if slices.Contains(perms, p) {
			return true
		}
	}
	return false
}

// roleOrder lists the built-in roles from the least to the most powerful.
var roleOrder = []string{RoleViewer, RoleDeveloper, RoleAdmin}

// RoleRank orders the built-in roles by power: admin 3, developer 2,
// viewer 1; unknown roles 0.
func RoleRank(role string) int {
	return slices.Index(roleOrder, role) + 1
}

// HighestRole returns the most powerful of roles, or viewer when there is
// none: the role a user gets from the groups mapped to roles.
func HighestRole(roles []string) string {
	highest := RoleViewer
	for _, r := range roles {
		if RoleRank(r) > RoleRank(highest) {
			highest = r
		}
	}
	return highest
}

// IsRole reports whether role is a known role.
func IsRole(role string) bool {
	_, ok := rolePermissions[role]
	return ok
}

// Roles returns the known role names, sorted.
func Roles() []string {
	names := make([]string, 0, len(rolePermissions))
	for name := range rolePermissions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
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
	for _, r := range p.Roles {
		if slices.Contains(rolePermissions[r], perm) {
			return true
		}
	}
	return false
}
