package roster

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// ServiceToken is a user's token for another service (GitHub, a cloud
// provider...) kept in Roster's vault: sealed at rest with
// ROSTER_ENCRYPTION_KEY, read back by the tenant's own services with the
// service_tokens:read permission, each read audited and counted. Token is
// the plaintext, set only where it is stored or read.
type ServiceToken struct {
	TenantID   string
	UserID     string
	Service    string
	Token      string
	Hint       string // e.g. "ghp_…a1b2": enough to tell tokens apart
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	UseCount   int64
}

// Limits of the vault.
const (
	MaxServiceTokenLength   = 8 << 10
	MaxServiceTokensPerUser = 50
)

var serviceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateServiceName checks a service's name: 1-63 lowercase letters,
// digits, dots, dashes or underscores, the first a letter or digit.
// EINVALID naming service.
func ValidateServiceName(name string) error {
	if !serviceNamePattern.MatchString(name) {
		return Invalid(FieldError{Field: "service", Message: "must be 1-63 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit"})
	}
	return nil
}

// Validate checks a token about to be stored at now.
func (t *ServiceToken) Validate(now time.Time) error {
	var fields []FieldError
	fields = append(fields, ErrorFields(ValidateServiceName(t.Service))...)
	switch {
	case t.Token == "":
		fields = append(fields, FieldError{Field: "token", Message: "is required"})
	case len(t.Token) > MaxServiceTokenLength:
		fields = append(fields, FieldError{Field: "token", Message: "must be at most 8 KiB"})
	case strings.TrimSpace(t.Token) != t.Token || strings.ContainsFunc(t.Token, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		fields = append(fields, FieldError{Field: "token", Message: "must not hold spaces at its ends or control characters"})
	}
	if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
		fields = append(fields, FieldError{Field: "expires_at", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// ServiceTokenHint shows a token without giving it away: its first and
// last four characters for a long token (a GitHub token's "ghp_" prefix
// and a tail), its last four for a shorter one, nothing for a short one.
func ServiceTokenHint(token string) string {
	r := []rune(token)
	switch n := len(r); {
	case n >= 24:
		return string(r[:4]) + "…" + string(r[n-4:])
	case n >= 12:
		return "…" + string(r[n-4:])
	}
	return "…"
}

// ServiceTokenService is the vault.
type ServiceTokenService interface {
	// PutServiceToken stores the user's token for a service, replacing
	// theirs, audited as service_token.stored; created says whether it is
	// new. EINVALID, ENOTFOUND for a user not in the tenant, ECONFLICT
	// past MaxServiceTokensPerUser.
	PutServiceToken(ctx context.Context, tenantID string, by Actor, t *ServiceToken) (stored *ServiceToken, created bool, err error)

	// FindServiceTokens lists a user's tokens by service, without them.
	FindServiceTokens(ctx context.Context, tenantID, userID string) ([]*ServiceToken, error)

	// DeleteServiceToken removes one, audited as service_token.deleted.
	// ENOTFOUND.
	DeleteServiceToken(ctx context.Context, tenantID string, by Actor, userID, service string) error

	// ReadServiceToken returns a user's token, opened, counted and audited
	// as service_token.read in one transaction. ENOTFOUND for none, an
	// expired one, or a deactivated user's.
	ReadServiceToken(ctx context.Context, tenantID string, by Actor, userID, service string) (*ServiceToken, error)
}

// Audit actions of the vault.
const (
	ActionServiceTokenStored  = "service_token.stored"
	ActionServiceTokenDeleted = "service_token.deleted"
	ActionServiceTokenRead    = "service_token.read"
)
