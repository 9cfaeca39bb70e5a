package flow

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/ratelimit"
)

var _ roster.PasswordResetFlow = (*PasswordResets)(nil)

// PasswordResetTTL is how long a password reset link works.
const PasswordResetTTL = time.Hour

// PasswordResetPath is where a reset link points, under the public URL:
// the account page's form that posts the token and the new password to
// /api/v1/auth/password-reset/confirm.
const PasswordResetPath = "/account/reset"

// resetAnswerTime is how long every reset request takes at least, so that
// one for an address with an account (a link made and a mail queued) takes
// as long as one for an address without.
const resetAnswerTime = 250 * time.Millisecond

// Reset request rates, per process: an address may ask a few times a
// minute, an account a few times an hour (the mails are what they guard).
const (
	resetsPerAddressMinute = 10
	resetsPerAccountHour   = 5
)

// PasswordResets mails password reset links. Each is a setup link of
// purpose reset: the page of the link sets the password through
// SetupLinks.Accept, which applies the tenant's policy, ends every session
// and tells the user.
type PasswordResets struct {
	links     roster.SetupLinkService
	users     roster.UserService
	tenants   roster.TenantService
	publicURL string
	byAddress *ratelimit.Limiter
	byAccount *ratelimit.Limiter
	Now       func() time.Time
	// AnswerTime is resetAnswerTime unless a test shortens it.
	AnswerTime time.Duration
}

// NewPasswordResets returns PasswordResets whose links point at publicURL.
func NewPasswordResets(links roster.SetupLinkService, users roster.UserService, tenants roster.TenantService, publicURL string) *PasswordResets {
	return &PasswordResets{
		links: links, users: users, tenants: tenants, publicURL: publicURL,
		byAddress:  ratelimit.New(resetsPerAddressMinute/60.0, resetsPerAddressMinute),
		byAccount:  ratelimit.New(resetsPerAccountHour/3600.0, resetsPerAccountHour),
		Now:        time.Now,
		AnswerTime: resetAnswerTime,
	}
}

// RequestReset mails a reset link to each active user of the tenant with
// this address, and answers the same, no sooner than AnswerTime, whether
// there was one or not.
func (p *PasswordResets) RequestReset(ctx context.Context, ip, tenant, email string) error {
	if err := requireFields(namedValue{"tenant", tenant}, namedValue{"email", email}); err != nil {
		return err
	}
	if ok, wait := p.byAddress.Allow(ip); !ok {
		return tooManyResets(wait)
	}
	tenant, email = strings.TrimSpace(tenant), strings.ToLower(strings.TrimSpace(email))
	if ok, wait := p.byAccount.Allow(strings.ToLower(tenant) + "\x00" + email); !ok {
		return tooManyResets(wait)
	}
	return noSooner(ctx, p.AnswerTime, func() error { return p.mailResets(ctx, tenant, email) })
}

// noSooner runs fn and returns its error no sooner than d after it began
// (or once ctx ends), so that how long an answer takes says nothing of
// what fn found.
func noSooner(ctx context.Context, d time.Duration, fn func() error) error {
	floor := time.NewTimer(d)
	defer floor.Stop()
	err := fn()
	select {
	case <-floor.C:
	case <-ctx.Done():
	}
	return err
}

// mailResets mails the links; who has no account gets nothing, and the
// caller learns nothing of it.
func (p *PasswordResets) mailResets(ctx context.Context, tenant, email string) error {
	tenantID, err := p.tenants.FindTenantID(ctx, tenant)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	users, err := p.users.FindUsersByEmail(ctx, tenantID, email)
	if err != nil {
		return err
	}
	by := roster.Actor{Type: roster.ActorSystem, ID: "password-reset", RequestID: roster.RequestIDFromContext(ctx)}
	for _, u := range users {
		if !u.Active {
			continue
		}
		if err := p.give(ctx, by, tenant, u); err != nil && roster.ErrorCode(err) != roster.ECONFLICT && roster.ErrorCode(err) != roster.ENOTFOUND {
			return err
		}
	}
	return nil
}

// SendReset mails the user a reset link, as an admin asks.
func (p *PasswordResets) SendReset(ctx context.Context, by roster.Actor, tenantID, userID string) error {
	u, err := p.users.FindUserByID(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	t, err := p.tenants.FindTenantByID(ctx, tenantID)
	if err != nil {
		return err
	}
	return p.give(ctx, by, t.Slug, u)
}

// give makes u a reset link and mails it, in one transaction.
func (p *PasswordResets) give(ctx context.Context, by roster.Actor, tenant string, u *roster.User) error {
	token, link, err := newSetupLinkToken(p.Now(), PasswordResetTTL)
	if err != nil {
		return err
	}
	link.TenantID, link.UserID, link.Purpose = u.TenantID, u.ID, roster.LinkReset
	address := strings.TrimSuffix(p.publicURL, "/") + PasswordResetPath + "?" +
		url.Values{"tenant": {tenant}, "token": {token}}.Encode()
	return p.links.GiveSetupLink(ctx, by, link, roster.PasswordResetEmail(u, address, link.ExpiresAt))
}

func tooManyResets(wait time.Duration) error {
	return &roster.Error{Code: roster.ETOOMANY, Message: "too many password reset requests: try again later", RetryAfter: wait}
}
