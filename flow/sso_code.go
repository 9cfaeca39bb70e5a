package flow

import (
	"context"
	"net/url"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// AMRFederated marks a sign-in at an identity provider (RFC 8176 "fed").
const AMRFederated = "fed"

// finish signs the identity in: the user found or made, the sign-in
// recorded, and the URL to send the browser to, with a one-time code in
// its fragment, which browsers never send on (no Referer, no logs).
func (s *SSO) finish(ctx context.Context, st *roster.SSOState, c *roster.SSOConnection, id *roster.FederatedIdentity) (string, error) {
	if id.Subject == "" {
		return "", roster.Errorf(roster.EUNAUTHORIZED, "%s named no user", c.Name)
	}
	if !st.AuthnSince.IsZero() && (id.AuthTime.IsZero() || id.AuthTime.Before(st.AuthnSince.Add(-ssoClockSkew))) {
		return "", roster.Errorf(roster.EUNAUTHORIZED, "%s did not ask you to sign in again, as this sign-in requires: sign out at %[1]s and start again", c.Name)
	}
	if id.Email == "" {
		name := c.Claims.Email
		if c.Type == roster.SSOTypeSAML {
			name = c.Attributes.Email
		}
		return "", roster.Errorf(roster.EFORBIDDEN, "%s sent no email address (%q): ask an administrator to map it", c.Name, name)
	}
	policy, err := s.signIn.tenants.SecurityPolicy(ctx, c.TenantID)
	if err != nil {
		return "", err
	}
	if err := s.signIn.refuseNetwork(ctx, policy, c.TenantID, "", roster.SignInSSO); err != nil {
		return "", err
	}
	u, err := s.store.SignInFederated(ctx, c, id)
	if err != nil {
		return "", err
	}
	amr := []string{AMRFederated}
	if id.MFA && c.TrustIdPMFA {
		amr = append(amr, AMRMFA)
	}
	if err := s.signIn.logins.RecordLogin(ctx, u.TenantID, u.ID, roster.SignInSSO, amr); err != nil {
		return "", err
	}
	code, err := auth.NewOpaqueToken(ssoCodePrefix)
	if err != nil {
		return "", err
	}
	now := s.Now()
	if err := s.store.CreateCode(ctx, &roster.SSOCode{TenantID: u.TenantID, CodeHash: auth.HashAPIToken(code), UserID: u.ID,
		AMR: amr, AuthTime: now, ExpiresAt: now.Add(ssoCodeTTL)}); err != nil {
		return "", err
	}
	return s.publicURL.String() + st.ReturnTo + "#" + url.Values{"sso_code": {code}}.Encode(), nil
}

// Exchange spends a one-time code for the tokens of its sign-in.
// EUNAUTHORIZED, ETOOMANY.
func (s *SSO) Exchange(ctx context.Context, ip, code string) (*roster.Tokens, error) {
	if err := s.signIn.throttle.attempt("sso-exchange", ip); err != nil {
		return nil, err
	}
	if !auth.IsOpaqueToken(code, ssoCodePrefix) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the code is unknown, already used or expired")
	}
	c, err := s.store.UseCode(ctx, auth.HashAPIToken(code), s.Now())
	if err != nil {
		return nil, err
	}
	return s.signIn.issueFor(ctx, c.TenantID, c.UserID, c.AMR, c.AuthTime, "")
}
