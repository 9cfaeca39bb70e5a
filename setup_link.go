package roster

import (
	"context"
	"time"
)

// SetupLink is a one-time link where a user sets their password: the
// first admin of a tenant, who has none, or an admin locked out. A user
// has at most one; a new link replaces the old. Only the SHA-256 of its
// token is stored.
type SetupLink struct {
	TenantID   string
	TenantSlug string // for the link, which signs the user in to it
	UserID     string
	TokenHash  []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// Usable reports whether the link still works at now.
func (l *SetupLink) Usable(now time.Time) bool {
	return l.UsedAt == nil && now.Before(l.ExpiresAt)
}

// SetupLinkGone is the EGONE answer to a setup link that no longer works.
func SetupLinkGone() error {
	return Errorf(EGONE, "the setup link is not valid (any more): it was used, replaced or has expired; ask an operator for a new one (roster user reset-link)")
}

// ActionUserSetupLinkCreated is audited when a user is given a setup link.
const ActionUserSetupLinkCreated = "user.setup_link_created"

// SetupLinkService keeps setup links.
type SetupLinkService interface {
	// CreateSetupLink gives the user with email, in the tenant named by id
	// or slug, a new link with this token hash, replacing any earlier one,
	// audited. ENOTFOUND for an unknown tenant or address.
	CreateSetupLink(ctx context.Context, tenant, email string, tokenHash []byte, expiresAt time.Time) (*SetupLink, error)

	// FindSetupLink returns the link with this token hash and its user.
	// ENOTFOUND.
	FindSetupLink(ctx context.Context, tokenHash []byte) (*SetupLink, *User, error)

	// UseSetupLink stores passwordHash as the link's user's password, clears
	// a lockout, ends the user's sessions and marks the link used, in one
	// transaction, once. EGONE when the link is unknown, used or expired.
	UseSetupLink(ctx context.Context, tokenHash []byte, requestID, passwordHash string) (*User, error)
}

// SetupLinkFlow sets a user's password through their setup link.
type SetupLinkFlow interface {
	// Accept sets the password of the link's user, once, when it follows
	// the tenant's policy. EGONE for a token that is unknown, used,
	// replaced or expired; EINVALID naming "password".
	Accept(ctx context.Context, requestID, token, password string) (*User, error)
}
