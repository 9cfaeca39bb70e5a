package roster

import (
	"context"
	"slices"
	"time"
)

// Personal API keys are API tokens of a user (Kind TokenPersonal): their
// Scopes are the permissions the owner gave them, and at each use they
// hold those of them the owner's role grants then. They stop with the
// owner's deactivation or deletion.
const (
	// APIKeyRotationGrace is how long the secret a rotation replaces keeps
	// working, so that what uses it can be moved to the new one: a day, as
	// Stripe's default for rolling a key.
	APIKeyRotationGrace = 24 * time.Hour
	// MaxAPIKeyLifetime bounds expires_at: a key must expire, within a
	// year and a day.
	MaxAPIKeyLifetime = 366 * 24 * time.Hour
	// MaxAPIKeysPerUser bounds a user's live keys.
	MaxAPIKeysPerUser = 50
	// CredentialExpiryNotice is how long before it expires the owner of a
	// key or a service token is reminded, once.
	CredentialExpiryNotice = 7 * 24 * time.Hour
)

// notForKeys are permissions a personal key cannot carry: enrolling
// factors needs the user's own sign-in, and SCIM provisioning belongs to
// the tenant's SCIM tokens.
var notForKeys = []Permission{PermMFAEnroll, PermSCIMProvision}

// NewPersonalKey checks what a user asks of a new key, made by p at now,
// and returns it for the store (the caller sets its hash and prefix).
// EINVALID for a bad name, permissions or expiry; EFORBIDDEN for a
// permission the caller does not hold.
func NewPersonalKey(p *Principal, now time.Time, name string, perms []string, expiresAt *time.Time) (*APIToken, error) {
	userID, err := p.SelfUserID()
	if err != nil {
		return nil, err
	}
	t := &APIToken{Kind: TokenPersonal, Name: name, Scopes: perms, UserID: &userID, ExpiresAt: expiresAt}
	var fields []FieldError
	for _, f := range ErrorFields(t.Validate()) {
		if f.Field == "scopes" {
			f.Field = "permissions"
		}
		fields = append(fields, f)
	}
	if len(perms) == 0 {
		fields = append(fields, FieldError{Field: "permissions", Message: "must name at least one permission"})
	}
	for _, s := range perms {
		if slices.Contains(notForKeys, Permission(s)) {
			fields = append(fields, FieldError{Field: "permissions", Message: s + " cannot be given to a personal key"})
		}
	}
	fields = append(fields, ErrorFields(ValidateKeyExpiry(now, expiresAt))...)
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	for _, s := range perms {
		if !p.Holds(Permission(s)) {
			return nil, Errorf(EFORBIDDEN, "a key cannot hold %s, which you do not hold", s)
		}
	}
	slices.Sort(t.Scopes)
	t.Scopes = slices.Compact(t.Scopes)
	return t, nil
}

// ValidateKeyExpiry checks a key's expiry, at now. EINVALID naming
// expires_at.
func ValidateKeyExpiry(now time.Time, at *time.Time) error {
	msg := ""
	switch {
	case at == nil:
		msg = "is required: a key expires within a year"
	case !at.After(now):
		msg = "must be in the future"
	case at.Sub(now) > MaxAPIKeyLifetime:
		msg = "must be within 366 days"
	default:
		return nil
	}
	return Invalid(FieldError{Field: "expires_at", Message: msg})
}

// APIKeyFilter selects a page of personal keys, oldest first.
type APIKeyFilter struct {
	UserID string // only this user's; "" for every user's
	Limit  int
	Cursor string
}

// APIKeyPage is one page of keys and the cursor of the next, "" at the end.
type APIKeyPage struct {
	Items      []*APIToken
	NextCursor string
}

// KeyRotation is a rotation's new secret (its hash and prefix), and the
// key's new expiry when it changes.
type KeyRotation struct {
	Hash      []byte
	Prefix    string
	ExpiresAt *time.Time
}

// APIKeyService stores personal API keys.
type APIKeyService interface {
	// CreateAPIKey stores a key made by NewPersonalKey, audited as
	// api_key.created. ENOTFOUND for an owner not in the tenant,
	// ECONFLICT past MaxAPIKeysPerUser.
	CreateAPIKey(ctx context.Context, tenantID string, by Actor, t *APIToken) error

	// FindAPIKeys lists live keys, by owner or all of the tenant's, with
	// keyset pagination. EINVALID for a bad cursor.
	FindAPIKeys(ctx context.Context, tenantID string, f APIKeyFilter) (*APIKeyPage, error)

	// RotateAPIKey gives a live key of userID a new secret; the old one
	// works for APIKeyRotationGrace more (a secret replaced earlier stops
	// at once). Audited as api_key.rotated. ENOTFOUND, EINVALID for an
	// expiry out of bounds.
	RotateAPIKey(ctx context.Context, tenantID string, by Actor, userID, id string, r KeyRotation) (*APIToken, error)

	// RevokeAPIKey stops a live key for good, of userID, or of anyone when
	// userID is "". Audited as api_key.revoked. ENOTFOUND.
	RevokeAPIKey(ctx context.Context, tenantID string, by Actor, userID, id string) error
}

// CredentialReminders mails the owners of keys and service tokens that
// expire within CredentialExpiryNotice, once per expiry.
type CredentialReminders interface {
	// RemindExpiringCredentials queues the reminders of up to n of them
	// and reports how many it queued.
	RemindExpiringCredentials(ctx context.Context, n int) (int, error)
}

// Audit actions of personal API keys.
const (
	ActionAPIKeyCreated = "api_key.created"
	ActionAPIKeyRotated = "api_key.rotated"
	ActionAPIKeyRevoked = "api_key.revoked"
)
