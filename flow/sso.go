package flow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

var _ roster.SSOFlow = (*SSO)(nil)

// SSO signs users in through their tenant's identity providers (OIDC and
// SAML 2.0) and keeps the connections to them. Nothing it does at a
// provider happens inside a database transaction.
type SSO struct {
	store   roster.SSOService
	users   roster.UserService
	tenants Tenants
	signIn  *SignIn
	box     *auth.SecretBox
	// stateKey derives each sign-in's nonce and PKCE verifier from its
	// state, so that only the state's hash need be stored.
	stateKey  []byte
	publicURL *url.URL
	discovery *discoveryCache
	saml      *samlMetadataCache

	// HTTPClient reaches the providers (discovery, tokens, metadata).
	HTTPClient *http.Client
	Log        *slog.Logger
	// Now is the clock of states, codes, tokens and assertions.
	Now func() time.Time
}

// Lifetimes of what a federated sign-in leaves behind.
const (
	ssoStateTTL = 10 * time.Minute
	ssoCodeTTL  = 2 * time.Minute
	// ssoClockSkew is how far a provider's clock may be from Roster's.
	ssoClockSkew = 2 * time.Minute
)

// Paths of the endpoints providers send browsers to, under the public URL.
const (
	OIDCCallbackPath = "/api/v1/auth/sso/oidc/callback"
	SAMLACSPath      = "/api/v1/auth/sso/saml/acs"
)

// ssoCodePrefix marks the one-time codes of a finished sign-in.
const ssoCodePrefix = "rsc_"

// NewSSO returns the SSO flow over its store, sealing secrets with box and
// issuing tokens through signIn. publicURL is Roster's own origin: the
// base of callback URLs and the only origin return_to may name.
func NewSSO(store roster.SSOService, users roster.UserService, tenants Tenants, signIn *SignIn, box *auth.SecretBox,
	encryptionKey []byte, publicURL string) (*SSO, error) {
	u, err := url.Parse(strings.TrimSuffix(publicURL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("sso: public URL %q is not an absolute URL", publicURL)
	}
	s := &SSO{store: store, users: users, tenants: tenants, signIn: signIn, box: box,
		stateKey: auth.DeriveKey(encryptionKey, "roster sso state"), publicURL: u,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	s.discovery = newDiscoveryCache(time.Hour, func() *http.Client { return s.HTTPClient }, func() time.Time { return s.Now() })
	s.saml = newSAMLMetadataCache(time.Hour, func() *http.Client { return s.HTTPClient }, func() time.Time { return s.Now() })
	return s, nil
}

// derive is a value only the holder of state (and Roster) can compute.
func (s *SSO) derive(purpose, state string) string {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write([]byte(purpose + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// secretAD binds a sealed secret to its tenant and connection.
func secretAD(c *roster.SSOConnection) []byte {
	return []byte("sso secret\x00" + c.TenantID + "\x00" + c.ID)
}

// callbackURL is the public URL of path.
func (s *SSO) callbackURL(path string) string {
	return s.publicURL.String() + path
}

// CreateConnection checks the connection at its provider, seals its secret
// and stores it. EINVALID, ECONFLICT.
func (s *SSO) CreateConnection(ctx context.Context, tenantID string, by roster.Actor, c *roster.SSOConnection) (*roster.SSOConnection, error) {
	c.ID, c.TenantID = uuid.Must(uuid.NewV7()).String(), tenantID
	if err := s.prepare(ctx, c, nil); err != nil {
		return nil, err
	}
	if err := s.store.CreateConnection(ctx, tenantID, by, c); err != nil {
		return nil, err
	}
	return c, nil
}

// prepare normalizes and validates c, checks it at its provider and seals
// its secret; before is the stored connection c changes, nil for a new one.
func (s *SSO) prepare(ctx context.Context, c *roster.SSOConnection, before *roster.SSOConnection) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	switch c.Type {
	case roster.SSOTypeOIDC:
		if before == nil && c.ClientSecret == "" {
			return roster.Invalid(roster.FieldError{Field: "client_secret", Message: "is required"})
		}
		if before == nil || c.Issuer != before.Issuer {
			if _, err := s.discovery.provider(ctx, c.Issuer); err != nil {
				return err
			}
		}
		if c.ClientSecret != "" {
			sealed, err := s.box.Seal([]byte(c.ClientSecret), secretAD(c))
			if err != nil {
				return err
			}
			c.SealedSecret, c.ClientSecret = sealed, ""
		}
	case roster.SSOTypeSAML:
		if err := s.prepareSAML(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// UpdateConnection applies change and checks the result, fetching from
// the provider outside the store's transaction. ENOTFOUND, EINVALID,
// ECONFLICT.
func (s *SSO) UpdateConnection(ctx context.Context, tenantID string, by roster.Actor, id string, change func(*roster.SSOConnection) error) (*roster.SSOConnection, error) {
	before, err := s.store.FindConnection(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	next := *before
	next.Domains = append([]string(nil), before.Domains...)
	if err := change(&next); err != nil {
		return nil, err
	}
	if next.Type != before.Type {
		return nil, roster.Invalid(roster.FieldError{Field: "type", Message: "cannot change"})
	}
	if err := s.prepare(ctx, &next, before); err != nil {
		return nil, err
	}
	return s.store.UpdateConnection(ctx, tenantID, by, id, func(c *roster.SSOConnection) error {
		if !c.UpdatedAt.Equal(before.UpdatedAt) {
			return roster.Errorf(roster.ECONFLICT, "the connection changed meanwhile: try again")
		}
		*c = next
		return nil
	})
}

// FindConnection returns one of the tenant's connections. ENOTFOUND.
func (s *SSO) FindConnection(ctx context.Context, tenantID, id string) (*roster.SSOConnection, error) {
	return s.store.FindConnection(ctx, tenantID, id)
}

// ListConnections returns the tenant's connections.
func (s *SSO) ListConnections(ctx context.Context, tenantID string) ([]*roster.SSOConnection, error) {
	return s.store.ListConnections(ctx, tenantID)
}

// DeleteConnection removes a connection. ENOTFOUND.
func (s *SSO) DeleteConnection(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	return s.store.DeleteConnection(ctx, tenantID, by, id)
}

// PublicConnections lists a tenant's enabled connections. ENOTFOUND.
func (s *SSO) PublicConnections(ctx context.Context, tenant string) ([]*roster.SSOConnection, error) {
	tenantID, err := s.tenants.FindTenantID(ctx, tenant)
	if err != nil {
		return nil, err
	}
	all, err := s.store.ListConnections(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	enabled := []*roster.SSOConnection{}
	for _, c := range all {
		if c.Enabled {
			enabled = append(enabled, c)
		}
	}
	return enabled, nil
}
