package roster

import (
	"context"
	"strings"
	"time"
)

// APIToken is an opaque bearer credential for scripts and SCIM clients. Only
// a hash of the secret is stored; the secret is shown once, at creation.
type APIToken struct {
	ID         string     `db:"id"`
	TenantID   string     `db:"tenant_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"` // the first characters, to recognise a token in a list
	Hash       []byte     `db:"token_hash"`
	Role       string     `db:"role"`
	Scopes     []string   `db:"-"`
	UserID     *string    `db:"user_id"` // the user it acts for; deactivating them stops it
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`

	// UserActive is false when the token's user is gone or deactivated.
	UserActive bool `db:"user_active"`

	// Kind is TokenTenant or TokenPersonal.
	Kind string `db:"kind"`
	// UserRole is the role the token's user has now: what a personal
	// key's permissions are held against at each use.
	UserRole string `db:"user_role"`
	// PreviousHash is the hash of the secret a rotation replaced, which
	// works until PreviousExpiresAt.
	PreviousHash      []byte     `db:"previous_hash"`
	PreviousExpiresAt *time.Time `db:"previous_expires_at"`
	// UseCount and LastUsedAddress are recorded with LastUsedAt.
	UseCount        int64   `db:"use_count"`
	LastUsedAddress *string `db:"last_used_address"`
}

// API token kinds: a tenant's (scripts, SCIM clients; made by admins or
// the CLI, with a role) and a user's personal API keys, which hold their
// owner's permissions at most.
const (
	TokenTenant   = "tenant"
	TokenPersonal = "personal"
)

// TokenUse is what the authenticator records of a token's use: when, how
// many uses since it last recorded, and from where.
type TokenUse struct {
	At      time.Time
	Count   int64
	Address string
}

// Validate checks a token's name, role and scopes.
func (t *APIToken) Validate() error {
	var fields []FieldError
	if t.Name == "" {
		fields = append(fields, FieldError{Field: "name", Message: "is required"})
	} else if msg := textProblem(t.Name, MaxNameLength); msg != "" {
		fields = append(fields, FieldError{Field: "name", Message: msg})
	}
	if t.Kind != TokenPersonal && !IsBuiltInRole(t.Role) {
		fields = append(fields, FieldError{Field: "role", Message: "must be one of " + strings.Join(BuiltInRoles(), ", ")})
	}
	for _, s := range t.Scopes {
		if !IsPermission(Permission(s)) {
			fields = append(fields, FieldError{Field: "scopes", Message: "unknown scope " + s})
			break
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// TokenService stores API tokens.
type TokenService interface {
	// CreateToken stores t, whose Hash the caller has set. EINVALID.
	CreateToken(ctx context.Context, tenantID string, by Actor, t *APIToken) error

	// FindTokenByHash returns the token with this hash, in whatever tenant.
	// ENOTFOUND.
	FindTokenByHash(ctx context.Context, hash []byte) (*APIToken, error)

	// FindTokens lists the tenant's tokens that are not revoked and carry
	// scope, oldest first.
	FindTokens(ctx context.Context, tenantID string, scope Permission) ([]*APIToken, error)

	// RevokeToken stops a token that carries scope for good. ENOTFOUND.
	RevokeToken(ctx context.Context, tenantID string, by Actor, id string, scope Permission) error

	// TouchToken records uses of the token.
	TouchToken(ctx context.Context, tenantID, id string, use TokenUse) error
}
