package flow

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

var _ roster.SetupLinkFlow = (*SetupLinks)(nil)

// SetupLinkTokenPrefix marks setup link tokens, so that secret scanners and
// people can tell one from an invitation or an API token.
const SetupLinkTokenPrefix = "rsl_"

// SetupLinkTTL is how long a setup link works.
const SetupLinkTTL = 24 * time.Hour

// SetupLinkPath is where a setup link points, under the public URL: the
// console's page that posts the token to /api/v1/admin-setup/accept.
const SetupLinkPath = "/console/setup"

// NewSetupLink makes a setup link's token, shown once, and what is stored
// of it: the hash and the expiry, SetupLinkTTL from now.
func NewSetupLink(now time.Time) (token string, link *roster.SetupLink, err error) {
	return newSetupLinkToken(now, SetupLinkTTL)
}

// newSetupLinkToken makes a link's token and its stored hash and expiry,
// ttl from now.
func newSetupLinkToken(now time.Time, ttl time.Duration) (token string, link *roster.SetupLink, err error) {
	token, err = auth.NewOpaqueToken(SetupLinkTokenPrefix)
	if err != nil {
		return "", nil, err
	}
	expires := now.UTC().Add(ttl).Truncate(time.Microsecond)
	return token, &roster.SetupLink{TokenHash: auth.HashAPIToken(token), ExpiresAt: expires}, nil
}

// SetupLinkURL is the address of a setup link: the token, and the tenant's
// slug for the page to sign the user in with.
func SetupLinkURL(publicURL, token, tenantSlug string) string {
	return strings.TrimSuffix(publicURL, "/") + SetupLinkPath + "?" +
		url.Values{"token": {token}, "tenant": {tenantSlug}}.Encode()
}

// SetupLinks sets a user's password through their setup link.
type SetupLinks struct {
	store     roster.SetupLinkService
	passwords roster.PasswordFlow
	Now       func() time.Time
}

// NewSetupLinks returns SetupLinks on store, checking passwords against
// the tenants' policies.
func NewSetupLinks(store roster.SetupLinkService, passwords roster.PasswordFlow) *SetupLinks {
	return &SetupLinks{store: store, passwords: passwords, Now: time.Now}
}

// Accept sets the password of the link's user, once, when it follows the
// tenant's policy. EGONE for a token that is unknown, used, replaced or
// expired; EINVALID naming "password".
func (s *SetupLinks) Accept(ctx context.Context, requestID, token, password string) (*roster.User, error) {
	if !auth.IsOpaqueToken(token, SetupLinkTokenPrefix) {
		return nil, roster.SetupLinkGone()
	}
	hash := auth.HashAPIToken(token)
	link, u, err := s.store.FindSetupLink(ctx, hash)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.SetupLinkGone()
	} else if err != nil {
		return nil, err
	}
	if !link.Usable(s.Now()) || link.Purpose == roster.LinkVerify {
		return nil, roster.SetupLinkGone()
	}
	if err := s.passwords.SetPassword(ctx, link.TenantID, u, password); err != nil {
		return nil, err
	}
	return s.store.UseSetupLink(ctx, hash, requestID, u.SetPasswordHash)
}
