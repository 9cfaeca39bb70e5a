package roster

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// Tenant is an organisation: the boundary of every other resource.
type Tenant struct {
	ID        string          `db:"id"`
	Slug      string          `db:"slug"`
	Name      string          `db:"name"`
	Plan      string          `db:"plan"`
	Settings  json.RawMessage `db:"settings"`
	CreatedAt time.Time       `db:"created_at"`
	UpdatedAt time.Time       `db:"updated_at"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Slugify turns a tenant name into a URL-safe slug.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// Validate checks a tenant's name and slug.
func (t *Tenant) Validate() error {
	var fields []FieldError
	if strings.TrimSpace(t.Name) == "" {
		fields = append(fields, FieldError{Field: "name", Message: "is required"})
	} else if msg := textProblem(t.Name, MaxNameLength); msg != "" {
		fields = append(fields, FieldError{Field: "name", Message: msg})
	}
	if !IsPlan(t.Plan) {
		fields = append(fields, FieldError{Field: "plan", Message: "must be one of " + strings.Join(Plans(), ", ")})
	}
	if !slugPattern.MatchString(t.Slug) {
		fields = append(fields, FieldError{Field: "slug", Message: "must be 1-63 lowercase letters, digits or dashes"})
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// Bootstrap is what a new tenant starts with: its first administrator and,
// from the command line, two API tokens, one for scripts and one for a
// SCIM client (a sign-up makes none).
type Bootstrap struct {
	Tenant     *Tenant
	Admin      *User
	AdminToken *APIToken // nil for none
	SCIMToken  *APIToken // nil for none
	// SetupLink, when set (its token hash and expiry, its purpose a setup
	// unless set), is where the admin sets a password or, after a sign-up,
	// proves their address; the tenant, slug and user are filled in.
	SetupLink *SetupLink
	// Mail, when set, is queued sealed with the tenant, made once the
	// admin and their link are: what they are told of it.
	Mail func(*Bootstrap) Email
	// By is who creates the tenant; zero is the command line.
	By Actor
}

// TenantService creates and reads tenants.
type TenantService interface {
	TenantSettingsService

	// CreateTenant stores the tenant, its first admin, their link, their
	// mail and the tokens in one transaction (the tokens' hashes must be
	// set). EINVALID, ECONFLICT when the slug is taken.
	CreateTenant(ctx context.Context, b *Bootstrap) error

	// FindTenantID returns the id of the tenant with this id or slug.
	// ENOTFOUND.
	FindTenantID(ctx context.Context, tenant string) (string, error)

	// FindTenantByID returns a tenant. ENOTFOUND.
	FindTenantByID(ctx context.Context, id string) (*Tenant, error)

	// GroupRoles returns the tenant's mapping from group display names to
	// roles: an identity provider manages roles by pushing groups.
	GroupRoles(ctx context.Context, tenantID string) (map[string]string, error)

	// SetGroupRoles replaces the mapping and brings every member of a
	// mapped group (before or after) to the role the mapping now gives them,
	// in one transaction. EINVALID for an unknown role, ECONFLICT when that
	// would demote the last active admin.
	SetGroupRoles(ctx context.Context, tenantID string, by Actor, mapping map[string]string) error

	// SecurityPolicy returns the tenant's security policy: the defaults for
	// what it never set. ENOTFOUND.
	SecurityPolicy(ctx context.Context, tenantID string) (*SecurityPolicy, error)

	// AllowedNetworks returns the allowed_networks of the tenant's security
	// policy (none: any network), as every authenticated request checks
	// them: a replica may go on with networks another replica's change
	// removed for a few seconds. ENOTFOUND.
	AllowedNetworks(ctx context.Context, tenantID string) ([]string, error)

	// SetSecurityPolicy validates and stores the tenant's security policy,
	// audited as tenant.updated with the policy before and after. EINVALID,
	// ENOTFOUND.
	SetSecurityPolicy(ctx context.Context, tenantID string, by Actor, p *SecurityPolicy) error
}
