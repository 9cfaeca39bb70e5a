package roster

import (
	"context"
	"time"
)

// SetupLink is a one-time link where a user sets their password: the
// first admin of a tenant, who has none, an admin locked out, or anyone who
// forgot theirs (a password reset). A user has at most one; a new link
// replaces the old. Only the SHA-256 of its token is stored.
type SetupLink struct {
	TenantID   string
	TenantSlug string // for the link, which signs the user in to it
	UserID     string
	Purpose    string // LinkSetup or LinkReset
	TokenHash  []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// Setup link purposes.
const (
	LinkSetup = "setup" // a first password, or an operator's reset-link
	LinkReset = "reset" // a password reset the user or an admin asked for
)

// Usable reports whether the link still works at now.
func (l *SetupLink) Usable(now time.Time) bool {
	return l.UsedAt == nil && now.Before(l.ExpiresAt)
}

// SetupLinkGone is the EGONE answer to a setup link that no longer works.
func SetupLinkGone() error {
	return Errorf(EGONE, "the link is not valid (any more): it was used, replaced or has expired; ask for a new one")
}

// ActionUserSetupLinkCreated is audited when a user is given a setup link.
const ActionUserSetupLinkCreated = "user.setup_link_created"

// SetupLinkService keeps setup links.
type SetupLinkService interface {
	// GiveSetupLink stores l (its tenant, user, purpose, hash and expiry
	// set) for an active user, replacing an earlier link, audited as by,
	// and puts mail in the outbox in the same transaction, its body sealed
	// (the link in it is a credential). ENOTFOUND for an unknown user;
	// ECONFLICT for a deactivated one.
	GiveSetupLink(ctx context.Context, by Actor, l *SetupLink, mail Email) error

	// CreateSetupLink gives the user with email, in the tenant named by id
	// or slug, a new link with this token hash, replacing any earlier one,
	// audited. ENOTFOUND for an unknown tenant or address.
	CreateSetupLink(ctx context.Context, tenant, email string, tokenHash []byte, expiresAt time.Time) (*SetupLink, error)

	// FindSetupLink returns the link with this token hash and its user.
	// ENOTFOUND.
	FindSetupLink(ctx context.Context, tokenHash []byte) (*SetupLink, *User, error)

	// UseSetupLink stores passwordHash as the link's user's password, clears
	// a lockout, ends the user's sessions and marks the link used, in one
	// transaction, once; after a reset, it tells the user by mail. EGONE
	// when the link is unknown, used or expired.
	UseSetupLink(ctx context.Context, tokenHash []byte, requestID, passwordHash string) (*User, error)
}

// SetupLinkFlow sets a user's password through their setup link.
type SetupLinkFlow interface {
	// Accept sets the password of the link's user, once, when it follows
	// the tenant's policy. EGONE for a token that is unknown, used,
	// replaced or expired; EINVALID naming "password".
	Accept(ctx context.Context, requestID, token, password string) (*User, error)
}

// PasswordResetFlow sends password reset links. The link's page sets the
// new password through SetupLinkFlow.Accept.
type PasswordResetFlow interface {
	// RequestReset mails a reset link to the active users of the tenant
	// (id or slug) with this address. It answers the same, in the same
	// time, whether or not there are any, so that it says nothing about
	// who has an account. ETOOMANY over the rate of the address ip or of
	// the account; EINVALID naming "tenant" or "email" when missing.
	RequestReset(ctx context.Context, ip, tenant, email string) error

	// SendReset mails the user a reset link, as an admin asks. ENOTFOUND;
	// ECONFLICT for a deactivated user.
	SendReset(ctx context.Context, by Actor, tenantID, userID string) error
}

// PasswordResetEmail is the mail with a reset link that works until
// expires.
func PasswordResetEmail(u *User, link string, expires time.Time) Email {
	return Email{
		To:      u.Email,
		Subject: "Reset your password",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"Someone (hopefully you) asked to reset the password of your account (" + u.UserName + ").\n" +
			"Choose a new one here:\n\n" + link + "\n\n" +
			"The link works once, until " + expires.UTC().Format("2006-01-02 15:04 MST") + ". " +
			"If you did not ask for it, ignore this message: your password stays as it is.\n",
	}
}

// PasswordChangedEmail tells a user their password was reset, so that a
// reset they did not make does not go unnoticed.
func PasswordChangedEmail(u *User) Email {
	return Email{
		To:      u.Email,
		Subject: "Your password was changed",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"The password of your account (" + u.UserName + ") was just reset, and every session of it was signed out.\n\n" +
			"If this was not you, contact your administrator at once.\n",
	}
}

// greetingName is how a mail addresses the user.
func greetingName(u *User) string {
	if u.GivenName != "" {
		return u.GivenName
	}
	return u.UserName
}
