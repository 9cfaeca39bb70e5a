package roster

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// GrantExpiries records the natural end of temporary grants (grant.expired)
// soon after it, for the audit trail and its webhook; the grant itself
// stops at its second without it.
type GrantExpiries interface {
	// RecordEndedGrants records up to n ended grants not recorded yet and
	// reports how many it recorded.
	RecordEndedGrants(ctx context.Context, n int) (int, error)
}

// Plans a tenant can be on. Custom roles and temporary grants need
// enterprise.
const (
	PlanFree         = "free"
	PlanProfessional = "professional"
	PlanEnterprise   = "enterprise"
)

// Plans lists the plans, from the smallest.
func Plans() []string { return []string{PlanFree, PlanProfessional, PlanEnterprise} }

// IsPlan reports whether plan is one of Plans.
func IsPlan(plan string) bool { return slices.Contains(Plans(), plan) }

// Limits of a tenant's roles.
const (
	MaxCustomRoles      = 100
	MaxRolePermissions  = 100
	MaxDescriptionChars = 1000
	// MaxGrantDuration is the longest a temporary grant may last.
	MaxGrantDuration = 30 * 24 * time.Hour
)

// Role is one of a tenant's roles: a built-in (admin, developer, viewer,
// read-only, whose id is its name) or a custom role made of permissions.
type Role struct {
	ID          string
	Name        string
	Description string
	Permissions []Permission
	BuiltIn     bool
	CreatedAt   *time.Time // nil for built-ins
	UpdatedAt   *time.Time
}

// BuiltInRole returns the built-in role called name, or nil.
func BuiltInRole(name string) *Role {
	perms, ok := rolePermissions[name]
	if !ok {
		return nil
	}
	return &Role{ID: name, Name: name, Description: builtInDescriptions[name], Permissions: slices.Clone(perms), BuiltIn: true}
}

var builtInDescriptions = map[string]string{
	RoleAdmin:     "Everything, including every application permission",
	RoleDeveloper: "Reads users",
	RoleViewer:    "Reads users",
}

// roleName is what a role may be called.
var roleName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// RoleNameProblem says what is wrong with a role name someone sets on a
// user, invitation or mapping, or "". Whether the tenant has the role is
// the store's check.
func RoleNameProblem(name string) string {
	if !roleName.MatchString(name) {
		return "must be a role of the tenant (" + strings.Join(BuiltInRoles(), ", ") + " or a custom role)"
	}
	return ""
}

// Normalize trims the name and description and drops repeated permissions.
func (r *Role) Normalize() {
	r.Name = strings.TrimSpace(r.Name)
	r.Description = strings.TrimSpace(r.Description)
	if r.Permissions == nil {
		return
	}
	perms := []Permission{}
	for _, p := range r.Permissions {
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	slices.Sort(perms)
	r.Permissions = perms
}

// Validate checks a custom role: a free name, a short description, and
// permissions Roster checks or application permissions.
func (r *Role) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }
	switch {
	case !roleName.MatchString(r.Name):
		add("name", "must be 1-63 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit")
	case IsBuiltInRole(r.Name):
		add("name", "is a built-in role's")
	}
	if msg := textProblem(r.Description, MaxDescriptionChars); msg != "" {
		add("description", msg)
	}
	if r.Permissions == nil {
		add("permissions", "is required")
	} else if len(r.Permissions) > MaxRolePermissions {
		add("permissions", "are too many")
	}
	for _, p := range r.Permissions {
		if !IsPermission(p) && !IsAppPermission(p) {
			add("permissions", string(p)+" is neither a permission of GET /api/v1/permissions nor app:<name>")
			break
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// RoleUpdate is a change to a custom role; nil fields stay as they are.
type RoleUpdate struct {
	Name        *string
	Description *string
	Permissions []Permission // nil: unchanged
}

// Grant gives a user a role until ExpiresAt: temporary elevation. It
// stops at ExpiresAt to the second, read at every check.
type Grant struct {
	ID        string
	UserID    string
	Role      string
	Reason    string
	GrantedBy string // the actor, "type:id"
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	// State is Status at the store's clock when it was read.
	State string
}

// Grant statuses.
const (
	GrantActive  = "active"
	GrantExpired = "expired"
	GrantRevoked = "revoked"
)

// Status is the grant's state at now.
func (g *Grant) Status(now time.Time) string {
	switch {
	case g.RevokedAt != nil:
		return GrantRevoked
	case !now.Before(g.ExpiresAt):
		return GrantExpired
	}
	return GrantActive
}

// Validate checks a new grant at now: a reason, and an end in the future
// at most MaxGrantDuration away.
func (g *Grant) Validate(now time.Time) error {
	var fields []FieldError
	if msg := RoleNameProblem(g.Role); msg != "" {
		fields = append(fields, FieldError{Field: "role", Message: msg})
	}
	if strings.TrimSpace(g.Reason) == "" {
		fields = append(fields, FieldError{Field: "reason", Message: "is required"})
	} else if msg := textProblem(g.Reason, MaxDescriptionChars); msg != "" {
		fields = append(fields, FieldError{Field: "reason", Message: msg})
	}
	switch {
	case !g.ExpiresAt.After(now):
		fields = append(fields, FieldError{Field: "expires_at", Message: "must be in the future"})
	case g.ExpiresAt.Sub(now) > MaxGrantDuration:
		fields = append(fields, FieldError{Field: "expires_at", Message: "must be at most 30 days away"})
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// Access is what a user may do now: their role, the roles of their live
// grants and of their teams, and the permissions all of them give.
type Access struct {
	UserID string
	Active bool
	Role   string
	Grants []string // roles of live grants
	// TeamRoles are the roles of every team on the paths of the user's
	// teams: a team's roles reach its members and its subteams' members.
	TeamRoles   []string
	Permissions []Permission
	// AdminTeams are the teams the user is an admin of (not those below
	// them, which they administer too).
	AdminTeams []string
}

// RoleService reads and changes a tenant's roles. Custom roles need the
// enterprise plan (EPLAN). Changes by a bounded actor (a request's
// caller) may not reach beyond the actor's own permissions (EFORBIDDEN).
type RoleService interface {
	// FindRoles lists the built-in roles, then the custom ones by name.
	FindRoles(ctx context.Context, tenantID string) ([]*Role, error)
	// FindRole returns one role by id (a built-in's id is its name).
	// ENOTFOUND.
	FindRole(ctx context.Context, tenantID, id string) (*Role, error)
	// CreateRole stores a custom role. EINVALID, ECONFLICT for a taken
	// name or too many roles, EFORBIDDEN, EPLAN.
	CreateRole(ctx context.Context, tenantID string, by Actor, r *Role) (*Role, error)
	// UpdateRole changes a custom role. ENOTFOUND, EINVALID, ECONFLICT
	// (a taken name, a rename of a role in use, the last holder of
	// roles:write), EFORBIDDEN (a built-in, or beyond the actor), EPLAN.
	UpdateRole(ctx context.Context, tenantID string, by Actor, id string, u RoleUpdate) (*Role, error)
	// DeleteRole removes a custom role no one holds. ENOTFOUND,
	// ECONFLICT naming how many users hold it, EFORBIDDEN.
	DeleteRole(ctx context.Context, tenantID string, by Actor, id string) error
	// AppPermissions lists the application permissions the tenant's roles
	// name, sorted.
	AppPermissions(ctx context.Context, tenantID string) ([]Permission, error)

	// CreateGrant gives a user a role for a time. ENOTFOUND for the user,
	// EINVALID, EFORBIDDEN, EPLAN.
	CreateGrant(ctx context.Context, tenantID string, by Actor, g *Grant) (*Grant, error)
	// FindGrants lists a user's grants, newest first, the ended ones of the
	// last 30 days included. ENOTFOUND for the user.
	FindGrants(ctx context.Context, tenantID, userID string) ([]*Grant, error)
	// RevokeGrant ends a live grant now. ENOTFOUND, ECONFLICT when it has
	// ended already.
	RevokeGrant(ctx context.Context, tenantID string, by Actor, userID, id string) error
}

// AccessService resolves what credentials may do from the tenant's role
// definitions and live grants, in one indexed query, at every request.
type AccessService interface {
	// UserAccess returns what the user may do now. ENOTFOUND.
	UserAccess(ctx context.Context, tenantID, userID string) (*Access, error)
	// UserInScope checks that the user is one the scope reaches.
	// ENOTFOUND for a user outside it, as for one that does not exist.
	UserInScope(ctx context.Context, tenantID string, scope UserScope, userID string) error
	// RolePermissions returns what the named roles grant in the tenant;
	// unknown names grant nothing.
	RolePermissions(ctx context.Context, tenantID string, roles []string) ([]Permission, error)
}

// HighestRole returns the one of roles that grants the most, by what each
// grants (grants), ties going to the built-in order admin, developer,
// viewer, then to the name; viewer when roles is empty.
func HighestRole(roles []string, grants map[string][]Permission) string {
	highest := RoleViewer
	for _, r := range roles {
		if roleAbove(r, highest, grants) {
			highest = r
		}
	}
	return highest
}

func roleAbove(a, b string, grants map[string][]Permission) bool {
	if na, nb := len(grants[a]), len(grants[b]); na != nb {
		return na > nb
	}
	if ra, rb := slices.Index(roleOrder, a), slices.Index(roleOrder, b); ra != rb {
		return ra > rb
	}
	return a < b
}
