package roster

import (
	"regexp"
	"strings"
)

// Permission categories, the seed's groups of the permission matrix.
const (
	CategoryUsers        = "User Management"
	CategoryAPI          = "API Access"
	CategoryAnalytics    = "Analytics and Reporting"
	CategoryOrganisation = "Organisation Settings"
	CategorySecurity     = "Security"
	CategoryApplication  = "Application" // what a tenant's own services check
)

// PermissionInfo describes one permission in the catalogue.
type PermissionInfo struct {
	Name        Permission
	Category    string
	Description string
}

// catalogue is every permission Roster itself checks, in the order the
// catalogue shows them. Adding a permission to an endpoint means adding it
// here (TestCatalogueNamesEveryCheckedPermission).
var catalogue = []PermissionInfo{
	{PermUsersRead, CategoryUsers, "List and read users, their security information, invitations, roles, grants, permissions and statistics"},
	{PermUsersWrite, CategoryUsers, "Create, change, deactivate and delete users, set their roles, invite, and grant roles for a time"},
	{PermUsersExport, CategoryUsers, "Export every user's data at once"},
	{PermTeamsWrite, CategoryUsers, "Create, change, move and delete teams, and manage the members of every team"},
	{PermTokensWrite, CategoryAPI, "Create and revoke SCIM tokens; see and revoke every personal API key"},
	{PermSCIMProvision, CategoryAPI, "Provision users and groups over SCIM (only as a token's explicit scope)"},
	{PermAPIKeysWrite, CategoryAPI, "Create, rotate and revoke one's own personal API keys"},
	{PermServiceTokensRead, CategoryAPI, "Read users' service tokens from the vault (only as a token's or key's explicit scope)"},
	{PermAuditRead, CategoryAnalytics, "Read the audit trail, the events feed and the security policy"},
	{PermTenantWrite, CategoryOrganisation, "Change the tenant's settings, security policy, SSO connections and webhooks"},
	{PermRolesWrite, CategoryOrganisation, "Define, change and delete custom roles"},
	{PermMFAEnroll, CategorySecurity, "Enrol one's own second factors and passkeys"},
	{PermAppAll, CategoryApplication, "Every application permission (app:...) the tenant's services check"},
}

// Catalogue returns every permission Roster checks, grouped by category.
func Catalogue() []PermissionInfo {
	return append([]PermissionInfo(nil), catalogue...)
}

// IsPermission reports whether p is a permission Roster checks.
func IsPermission(p Permission) bool {
	for _, c := range catalogue {
		if c.Name == p && p != PermAppAll {
			return true
		}
	}
	return false
}

// appPermission is an application permission: app: and a name of
// lowercase letters, digits and . _ - : (app:mcp.configure), or app:*.
var appPermission = regexp.MustCompile(`^app:([a-z0-9][a-z0-9._:-]{0,99}|\*)$`)

// IsAppPermission reports whether p is an application permission: one a
// tenant defines by naming it in one of its roles, for its own services
// to check through POST /api/v1/permissions/check.
func IsAppPermission(p Permission) bool {
	return strings.HasPrefix(string(p), "app:") && appPermission.MatchString(string(p))
}
