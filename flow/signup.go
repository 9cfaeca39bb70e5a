package flow

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/internal/ratelimit"
)

var _ roster.SignUpFlow = (*SignUps)(nil)

// VerifyEmailTTL is how long a sign-up's verification link works.
const VerifyEmailTTL = 24 * time.Hour

// VerifyEmailPath is where a verification link points, under the public
// URL: the account page's screen that posts the token to
// /api/v1/auth/verify-email.
const VerifyEmailPath = "/account/verify"

// signUpAnswerTime is how long every sign-up and resend takes at least, so
// that the answer's timing says nothing of the address either.
const signUpAnswerTime = 500 * time.Millisecond

// Sign-up rates, per process: an address (a person or a script) may make a
// few organisations an hour, an email gets a few sign-ups and a few new
// links an hour (the mails are what they guard).
const (
	signUpsPerAddressHour = 10
	signUpsPerEmailHour   = 3
	resendsPerAddressMin  = 10
	resendsPerAccountHour = 5
)

// SignUps creates organisations for people who sign up, through the one
// place tenants are made (TenantService.CreateTenant, as `roster tenant
// create`), and verifies their address with a setup link of purpose
// verify.
type SignUps struct {
	open      bool
	tenants   roster.TenantService
	store     roster.SignUpService
	passwords *Passwords
	publicURL string

	byAddress, byEmail             *ratelimit.Limiter
	resendByAddress, resendByEmail *ratelimit.Limiter

	Now func() time.Time
	// AnswerTime is signUpAnswerTime unless a test shortens it.
	AnswerTime time.Duration
}

// NewSignUps returns SignUps, open or closed, whose links point at
// publicURL.
func NewSignUps(open bool, tenants roster.TenantService, store roster.SignUpService, passwords *Passwords, publicURL string) *SignUps {
	return &SignUps{
		open: open, tenants: tenants, store: store, passwords: passwords, publicURL: strings.TrimSuffix(publicURL, "/"),
		byAddress:       ratelimit.New(signUpsPerAddressHour/3600.0, signUpsPerAddressHour),
		byEmail:         ratelimit.New(signUpsPerEmailHour/3600.0, signUpsPerEmailHour),
		resendByAddress: ratelimit.New(resendsPerAddressMin/60.0, resendsPerAddressMin),
		resendByEmail:   ratelimit.New(resendsPerAccountHour/3600.0, resendsPerAccountHour),
		Now:             time.Now,
		AnswerTime:      signUpAnswerTime,
	}
}

// Open reports whether sign-up is allowed.
func (f *SignUps) Open() bool { return f.open }

func signUpClosed() error {
	return roster.Errorf(roster.EFORBIDDEN, "sign-up is closed on this server: ask its operator for an organisation")
}

// SignUp creates the organisation and its inactive first admin and mails
// the verification link, answering no sooner than AnswerTime.
func (f *SignUps) SignUp(ctx context.Context, ip string, in roster.SignUp) error {
	if !f.open {
		return signUpClosed()
	}
	admin := &roster.User{Email: in.Email, GivenName: in.GivenName, FamilyName: in.FamilyName, Role: roster.RoleAdmin}
	admin.Normalize()
	t := &roster.Tenant{Name: strings.TrimSpace(in.OrganisationName), Slug: strings.TrimSpace(in.OrganisationSlug), Plan: roster.PlanFree}
	if t.Slug == "" {
		t.Slug = roster.Slugify(t.Name)
	}
	var fields []roster.FieldError
	if in.Password == "" {
		fields = append(fields, roster.FieldError{Field: "password", Message: "is required"})
	}
	fields = append(fields, roster.ErrorFields(admin.Validate())...)
	for _, fe := range roster.ErrorFields(t.Validate()) {
		fe.Field = "organisation." + fe.Field
		fields = append(fields, fe)
	}
	if len(fields) > 0 {
		return roster.Invalid(fields...)
	}
	if ok, wait := f.byAddress.Allow(ip); !ok {
		return tooManySignUps(wait)
	}
	if ok, wait := f.byEmail.Allow(strings.ToLower(admin.Email)); !ok {
		return tooManySignUps(wait)
	}
	return noSooner(ctx, f.AnswerTime, func() error { return f.create(ctx, t, admin, in.Password) })
}

// create makes the tenant, its admin and their link, and queues the mail,
// in one transaction.
func (f *SignUps) create(ctx context.Context, t *roster.Tenant, admin *roster.User, password string) error {
	if err := f.passwords.SetPasswordUnder(roster.DefaultSecurityPolicy(), admin, password); err != nil {
		return err
	}
	token, link, err := newSetupLinkToken(f.Now(), VerifyEmailTTL)
	if err != nil {
		return err
	}
	link.Purpose = roster.LinkVerify
	b := &roster.Bootstrap{
		Tenant: t, Admin: admin, SetupLink: link,
		By: roster.Actor{Type: roster.ActorSystem, ID: "sign-up", RequestID: roster.RequestIDFromContext(ctx)},
		Mail: func(b *roster.Bootstrap) roster.Email {
			return roster.VerifyEmailMail(b.Admin, b.Tenant.Name, f.verifyURL(b.Tenant.Slug, token), link.ExpiresAt)
		},
	}
	err = f.tenants.CreateTenant(ctx, b)
	if roster.ErrorCode(err) == roster.ECONFLICT {
		// The slug is the organisation's public name at sign-in, not the
		// person's: saying it is taken, as GitHub and Slack do, tells
		// nothing about anyone's address.
		return &roster.Error{Code: roster.ECONFLICT, Message: "organisation.slug: is taken: choose another",
			Fields: []roster.FieldError{{Field: "organisation.slug", Message: "is taken: choose another"}}}
	}
	return err
}

// verifyURL is the address of a verification link.
func (f *SignUps) verifyURL(tenantSlug, token string) string {
	return f.publicURL + VerifyEmailPath + "?" + url.Values{"tenant": {tenantSlug}, "token": {token}}.Encode()
}

// VerifyEmail activates the link's account, once, and queues the welcome
// mail. EGONE.
func (f *SignUps) VerifyEmail(ctx context.Context, requestID, token string) (*roster.User, error) {
	if !auth.IsOpaqueToken(token, SetupLinkTokenPrefix) {
		return nil, roster.SetupLinkGone()
	}
	return f.store.UseVerifyLink(ctx, auth.HashAPIToken(token), requestID, func(u *roster.User, l *roster.SetupLink) roster.Email {
		return roster.WelcomeMail(u, l.TenantSlug, f.publicURL+"/account?"+url.Values{"tenant": {l.TenantSlug}}.Encode())
	})
}

// ResendVerification mails a new link to an unverified signed-up admin,
// answering alike, no sooner than AnswerTime, whether there is one.
func (f *SignUps) ResendVerification(ctx context.Context, ip, tenant, email string) error {
	if !f.open {
		return signUpClosed()
	}
	if err := requireFields(namedValue{"tenant", tenant}, namedValue{"email", email}); err != nil {
		return err
	}
	tenant, email = strings.TrimSpace(tenant), strings.ToLower(strings.TrimSpace(email))
	if ok, wait := f.resendByAddress.Allow(ip); !ok {
		return tooManySignUps(wait)
	}
	if ok, wait := f.resendByEmail.Allow(strings.ToLower(tenant) + "\x00" + email); !ok {
		return tooManySignUps(wait)
	}
	return noSooner(ctx, f.AnswerTime, func() error { return f.renew(ctx, tenant, email) })
}

// renew replaces the link; who has none gets nothing, and the caller
// learns nothing of it.
func (f *SignUps) renew(ctx context.Context, tenant, email string) error {
	token, link, err := newSetupLinkToken(f.Now(), VerifyEmailTTL)
	if err != nil {
		return err
	}
	err = f.store.RenewVerifyLink(ctx, tenant, email, link, func(u *roster.User, l *roster.SetupLink) roster.Email {
		return roster.VerifyEmailMail(u, l.TenantSlug, f.verifyURL(l.TenantSlug, token), l.ExpiresAt)
	})
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil
	}
	return err
}

// namedValue is a request's field and its value.
type namedValue struct{ name, value string }

// requireFields names each of fields that is missing or not storable.
func requireFields(fields ...namedValue) error {
	var bad []roster.FieldError
	for _, f := range fields {
		if msg := roster.StoredTextProblem(f.value); msg != "" {
			bad = append(bad, roster.FieldError{Field: f.name, Message: msg})
		} else if strings.TrimSpace(f.value) == "" {
			bad = append(bad, roster.FieldError{Field: f.name, Message: "is required"})
		}
	}
	if len(bad) > 0 {
		return roster.Invalid(bad...)
	}
	return nil
}

func tooManySignUps(wait time.Duration) error {
	return &roster.Error{Code: roster.ETOOMANY, Message: "too many sign-up requests: try again later", RetryAfter: wait}
}
