package flow

import (
	"context"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// ssoStatePrefix marks the state values of sign-ins at a provider.
const ssoStatePrefix = "rss_"

// Start begins a federated sign-in: the connection named, or the one
// routing the email's domain, and the URL of the provider to send the
// browser to. EINVALID naming the field; ENOTFOUND; ETOOMANY. A refusal
// once return_to is known comes with that page, to tell a person why
// there.
func (s *SSO) Start(ctx context.Context, in roster.SSOStart) (string, error) {
	// Each start writes a row: an address has the sign-in's ceiling.
	if err := s.signIn.throttle.attempt("sso-start", in.IP); err != nil {
		return "", err
	}
	if in.Tenant == "" {
		return "", roster.Invalid(roster.FieldError{Field: "tenant", Message: "is required"})
	}
	returnTo, err := s.returnTo(in.ReturnTo)
	if err != nil {
		return "", err
	}
	st := &roster.SSOState{ReturnTo: returnTo}
	to, err := s.start(ctx, in, st)
	return s.orBack(st, to, err)
}

// start finds the connection, makes the provider's URL and stores st.
func (s *SSO) start(ctx context.Context, in roster.SSOStart, st *roster.SSOState) (string, error) {
	tenantID, err := s.tenants.FindTenantID(ctx, in.Tenant)
	if err != nil {
		return "", err
	}
	c, err := s.startConnection(ctx, tenantID, in)
	if err != nil {
		return "", err
	}
	state, err := auth.NewOpaqueToken(ssoStatePrefix)
	if err != nil {
		return "", err
	}
	now := s.Now()
	st.TenantID, st.StateHash, st.ConnectionID, st.ExpiresAt = tenantID, auth.HashAPIToken(state), c.ID, now.Add(ssoStateTTL)
	force := in.ForceAuthn || c.ForceAuthn
	if force {
		st.AuthnSince = now
	}
	var to string
	switch c.Type {
	case roster.SSOTypeOIDC:
		to, err = s.startOIDC(ctx, c, state, in.Email, force)
	case roster.SSOTypeSAML:
		to, st.RequestID, err = s.startSAML(ctx, c, state, force)
	}
	if err != nil {
		return "", err
	}
	if err := s.store.CreateState(ctx, st); err != nil {
		return "", err
	}
	return to, nil
}

// startConnection is the enabled connection a start names.
func (s *SSO) startConnection(ctx context.Context, tenantID string, in roster.SSOStart) (*roster.SSOConnection, error) {
	var (
		c   *roster.SSOConnection
		err error
	)
	switch {
	case in.ConnectionID != "":
		c, err = s.store.FindConnection(ctx, tenantID, in.ConnectionID)
	case in.Email != "":
		domain := roster.EmailDomain(in.Email)
		if domain == "" {
			return nil, roster.Invalid(roster.FieldError{Field: "email", Message: "must be an email address"})
		}
		c, err = s.store.FindConnectionByDomain(ctx, tenantID, domain)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			return nil, roster.Errorf(roster.ENOTFOUND, "no single sign-on is set up for %s: sign in with your password", domain)
		}
	default:
		return nil, roster.Invalid(roster.FieldError{Field: "connection", Message: "or email is required"})
	}
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, roster.Errorf(roster.ENOTFOUND, "connection not found")
	}
	return c, nil
}

// returnTo checks where the browser goes after signing in: a path of
// Roster's own origin, /account by default. Anything else would make the
// sign-in an open redirect that carries a one-time code away.
func (s *SSO) returnTo(raw string) (string, error) {
	if raw == "" {
		return "/account", nil
	}
	bad := roster.Invalid(roster.FieldError{Field: "return_to", Message: "must be a path of " + s.publicURL.Scheme + "://" + s.publicURL.Host})
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return "", bad
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil {
		if u.Scheme != s.publicURL.Scheme || u.Host != s.publicURL.Host || u.User != nil {
			return "", bad
		}
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "", bad
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = "", "", "", ""
	return u.String(), nil
}

// startOIDC is the provider's authorization URL with state, nonce and a
// PKCE S256 challenge; force asks for a new authentication (prompt=login,
// and max_age=0, which also makes the provider send auth_time).
func (s *SSO) startOIDC(ctx context.Context, c *roster.SSOConnection, state, email string, force bool) (string, error) {
	p, err := s.discovery.provider(ctx, c.Issuer)
	if err != nil {
		return "", roster.Errorf(roster.EUNAVAILABLE, "the identity provider cannot be reached: %v", err)
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(s.derive("nonce", state)), oauth2.S256ChallengeOption(s.derive("pkce", state))}
	if email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", email))
	}
	if force {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
	}
	return s.oauth2Config(c, p, "").AuthCodeURL(state, opts...), nil
}

// oauth2Config is the connection's OAuth 2.0 client.
func (s *SSO) oauth2Config(c *roster.SSOConnection, p *oidc.Provider, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(),
		RedirectURL: s.callbackURL(OIDCCallbackPath), Scopes: c.Scopes}
}
