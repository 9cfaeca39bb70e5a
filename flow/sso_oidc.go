package flow

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// mfaACRs are acr values that name a second factor: the OpenID PAPE
// multi-factor policy, and Okta's and Entra's names for it.
var mfaACRs = []string{
	"http://schemas.openid.net/pape/policies/2007/06/multi-factor",
	"urn:okta:loa:2fa:any", "phrh", "phr",
	"http://schemas.microsoft.com/claims/multipleauthn",
}

// OIDCCallback finishes an OIDC sign-in: the state is spent, the code
// exchanged with the PKCE verifier, the ID token verified (issuer,
// audience, expiry with the provider's clock skew, nonce), the user found
// or made, and a one-time code left for the browser. EUNAUTHORIZED,
// EFORBIDDEN; with the page of the sign-in when its state was good.
func (s *SSO) OIDCCallback(ctx context.Context, state, code, providerError string) (string, error) {
	st, to, err := s.oidcCallback(ctx, state, code, providerError)
	return s.orBack(st, to, err)
}

func (s *SSO) oidcCallback(ctx context.Context, state, code, providerError string) (*roster.SSOState, string, error) {
	st, c, err := s.spendState(ctx, state, roster.SSOTypeOIDC)
	if err != nil {
		return nil, "", err
	}
	if providerError != "" {
		return st, "", roster.Errorf(roster.EUNAUTHORIZED, "%s did not sign you in (%s)", c.Name, providerError)
	}
	if code == "" {
		return st, "", roster.Errorf(roster.EUNAUTHORIZED, "%s sent no authorization code", c.Name)
	}
	id, err := s.oidcIdentity(ctx, c, state, code)
	if err != nil {
		return st, "", err
	}
	to, err := s.finish(ctx, st, c, id)
	return st, to, err
}

// orBack adds to a refused sign-in whose state was good the page it
// started from, where a browser is told why.
func (s *SSO) orBack(st *roster.SSOState, to string, err error) (string, error) {
	if err != nil && st != nil && roster.ErrorCode(err) != roster.EINTERNAL && roster.ErrorCode(err) != "" {
		return s.publicURL.String() + st.ReturnTo, err
	}
	return to, err
}

// spendState spends a sign-in's state and returns it with its connection,
// which must still be enabled and of kind. EUNAUTHORIZED.
func (s *SSO) spendState(ctx context.Context, state, kind string) (*roster.SSOState, *roster.SSOConnection, error) {
	if !auth.IsOpaqueToken(state, ssoStatePrefix) {
		return nil, nil, roster.Errorf(roster.EUNAUTHORIZED, "the sign-in is unknown, already used or expired: start again")
	}
	st, err := s.store.UseState(ctx, auth.HashAPIToken(state), s.Now())
	if err != nil {
		return nil, nil, err
	}
	c, err := s.enabledConnection(ctx, st.TenantID, st.ConnectionID, kind)
	if err != nil {
		return nil, nil, err
	}
	return st, c, nil
}

// enabledConnection is a connection a sign-in may use: enabled, of kind.
// EUNAUTHORIZED.
func (s *SSO) enabledConnection(ctx context.Context, tenantID, id, kind string) (*roster.SSOConnection, error) {
	c, err := s.store.FindConnection(ctx, tenantID, id)
	if roster.ErrorCode(err) == roster.ENOTFOUND || (err == nil && (!c.Enabled || c.Type != kind)) {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the connection of this sign-in is gone or disabled")
	}
	return c, err
}

// oidcIdentity exchanges the code and reads who signed in from the
// verified ID token, and from the userinfo endpoint for claims the token
// lacks (providers keep ID tokens thin).
func (s *SSO) oidcIdentity(ctx context.Context, c *roster.SSOConnection, state, code string) (*roster.FederatedIdentity, error) {
	ctx = oidc.ClientContext(ctx, s.HTTPClient)
	p, err := s.discovery.provider(ctx, c.Issuer)
	if err != nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "the identity provider cannot be reached")
	}
	secret, err := s.box.Open(c.SealedSecret, secretAD(c))
	if err != nil {
		return nil, fmt.Errorf("open the client secret of connection %s: %w", c.ID, err)
	}
	conf := s.oauth2Config(c, p, string(secret))
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(s.derive("pkce", state)))
	if err != nil {
		s.Log.WarnContext(ctx, "sso: code exchange refused", "connection", c.ID, "err", err)
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "%s did not accept the sign-in: start again", c.Name)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "%s sent no ID token", c.Name)
	}
	verifier := p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: s.Now})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		s.Log.WarnContext(ctx, "sso: ID token refused", "connection", c.ID, "err", err)
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the ID token of %s is not valid", c.Name)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(s.derive("nonce", state))) != 1 {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the ID token answers another sign-in")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the ID token's claims cannot be read")
	}
	if _, ok := claims[c.Claims.Email]; !ok && p.UserInfoEndpoint() != "" {
		if err := s.mergeUserInfo(ctx, p, conf.TokenSource(ctx, tok), idt.Subject, claims); err != nil {
			return nil, err
		}
	}
	id := mapClaims(c.Claims, claims)
	id.ConnectionID, id.Subject = c.ID, idt.Subject
	amr, _ := claims["amr"].([]any)
	acr, _ := claims["acr"].(string)
	id.MFA = slices.Contains(amr, any("mfa")) || slices.Contains(mfaACRs, acr)
	if at, ok := claims["auth_time"].(float64); ok && at > 0 {
		id.AuthTime = time.Unix(int64(at), 0)
	}
	return id, nil
}

// mergeUserInfo adds the userinfo endpoint's claims the ID token lacks.
// Its subject must be the token's (OIDC Core §5.3.2).
func (s *SSO) mergeUserInfo(ctx context.Context, p *oidc.Provider, ts oauth2.TokenSource, subject string, claims map[string]any) error {
	info, err := p.UserInfo(ctx, ts)
	if err != nil {
		return roster.Errorf(roster.EUNAUTHORIZED, "the provider's userinfo could not be read")
	}
	if info.Subject != subject {
		return roster.Errorf(roster.EUNAUTHORIZED, "the provider's userinfo names another user")
	}
	extra := map[string]any{}
	if err := info.Claims(&extra); err != nil {
		return roster.Errorf(roster.EUNAUTHORIZED, "the provider's userinfo cannot be read")
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// mapClaims reads a profile from claims by the connection's names.
func mapClaims(m roster.SSOMapping, claims map[string]any) *roster.FederatedIdentity {
	str := func(name string) string {
		v, _ := claims[name].(string)
		return v
	}
	id := &roster.FederatedIdentity{Email: str(m.Email), GivenName: str(m.GivenName), FamilyName: str(m.FamilyName)}
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string:
		id.EmailVerified = v == "true" // some providers send it as a string
	}
	switch g := claims[m.Groups].(type) {
	case []any:
		id.Groups = []string{}
		for _, v := range g {
			if s, ok := v.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	case string:
		id.Groups = []string{g}
	}
	return id
}
