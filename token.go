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
}

// Validate checks a token's name, role and scopes.
func (t *APIToken) Validate() error {
	var fields []FieldError
	if t.Name == "" {
		fields = append(fields, FieldError{Field: "name", Message: "is required"})
	} else if msg := textProblem(t.Name, MaxNameLength); msg != "" {
		fields = append(fields, FieldError{Field: "name", Message: msg})
	}
	if !IsBuiltInRole(t.Role) {
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

	// TouchToken records that the token was used at t.
	TouchToken(ctx context.Context, tenantID, id string, t time.Time) error
}
