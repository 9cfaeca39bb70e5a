package roster

import (
	"context"
	"time"
)

// Audit actions of single sign-on and domains.
const (
	ActionSSOConnectionCreated = "sso_connection.created"
	ActionSSOConnectionUpdated = "sso_connection.updated"
	ActionSSOConnectionDeleted = "sso_connection.deleted"
	ActionDomainClaimed        = "domain.claimed"
	ActionDomainVerified       = "domain.verified"
	ActionDomainDeleted        = "domain.deleted"
)

// FederatedIdentity is who a provider says signed in, as the flow read it
// from a verified ID token or assertion.
type FederatedIdentity struct {
	ConnectionID  string
	Subject       string // OIDC sub or SAML NameID
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
	// Groups is nil when the provider sent no groups at all, which leaves
	// the role alone; an empty list maps to the default role.
	Groups []string
	// MFA says the provider asserted a second factor.
	MFA bool
	// AuthTime is when the provider says it authenticated the user (OIDC
	// auth_time, SAML AuthnInstant); zero when it does not say.
	AuthTime time.Time
}

// SSOState is a sign-in started at a provider, awaiting its answer. Only
// the hash of the state value is stored.
type SSOState struct {
	TenantID     string
	StateHash    []byte
	ConnectionID string
	ReturnTo     string
	RequestID    string // the SAML AuthnRequest's ID, for InResponseTo
	// AuthnSince is set when the sign-in asked the provider to
	// authenticate the user anew: the provider's authentication must not
	// be older (less its clock skew). Zero when it did not ask.
	AuthnSince time.Time
	ExpiresAt  time.Time
}

// SSOCode is the one-time code a finished federated sign-in leaves for
// the browser to exchange for tokens. Only its hash is stored.
type SSOCode struct {
	TenantID  string
	CodeHash  []byte
	UserID    string
	AMR       []string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// SSOService is what the store keeps for single sign-on: connections,
// the identities linked to users, pending sign-ins and one-time codes.
// Every method is scoped to its tenant; another tenant's row is ENOTFOUND.
type SSOService interface {
	// CreateConnection stores a validated connection, audited. ECONFLICT
	// when another of the tenant's connections routes one of its domains.
	CreateConnection(ctx context.Context, tenantID string, by Actor, c *SSOConnection) error
	// FindConnection returns one connection. ENOTFOUND.
	FindConnection(ctx context.Context, tenantID, id string) (*SSOConnection, error)
	// ListConnections returns the tenant's connections, oldest first.
	ListConnections(ctx context.Context, tenantID string) ([]*SSOConnection, error)
	// FindConnectionByDomain returns the enabled connection routing the
	// domain. ENOTFOUND.
	FindConnectionByDomain(ctx context.Context, tenantID, domain string) (*SSOConnection, error)
	// UpdateConnection applies change to the locked row and writes it,
	// audited, in one transaction. ENOTFOUND, EINVALID, ECONFLICT.
	UpdateConnection(ctx context.Context, tenantID string, by Actor, id string, change func(*SSOConnection) error) (*SSOConnection, error)
	// DeleteConnection removes a connection and its linked identities.
	// ENOTFOUND.
	DeleteConnection(ctx context.Context, tenantID string, by Actor, id string) error

	// CreateState stores a sign-in started at a provider.
	CreateState(ctx context.Context, s *SSOState) error
	// UseState spends a state, once: EUNAUTHORIZED when it is unknown,
	// spent or expired at now.
	UseState(ctx context.Context, stateHash []byte, now time.Time) (*SSOState, error)
	// PeekState reads a state without spending it, to know which
	// connection verifies the answer that will spend it. EUNAUTHORIZED.
	PeekState(ctx context.Context, stateHash []byte, now time.Time) (*SSOState, error)

	// SignInFederated finds or makes the user id names, in one
	// transaction: the linked identity; else a SCIM user whose externalId
	// is the subject; else, when the provider verified the email and its
	// domain is one of the connection's and a verified domain of the
	// tenant, the user with that email; else a new user when the
	// connection provisions just in time. Profile and mapped role are
	// brought up to date through the guards of every change; a demotion
	// of the last admin is skipped. EFORBIDDEN for a deactivated user or
	// an unknown one without JIT.
	SignInFederated(ctx context.Context, c *SSOConnection, id *FederatedIdentity) (*User, error)

	// RememberAssertion records a SAML assertion's ID until expires;
	// ECONFLICT when it was seen before: a replay.
	RememberAssertion(ctx context.Context, tenantID, connectionID, assertionID string, expires time.Time) error

	// CreateCode stores a one-time code; UseCode spends one, once.
	// EUNAUTHORIZED when it is unknown, spent or expired at now.
	CreateCode(ctx context.Context, c *SSOCode) error
	UseCode(ctx context.Context, codeHash []byte, now time.Time) (*SSOCode, error)
}

// SSOEndpoints are Roster's URLs a provider is configured with.
type SSOEndpoints struct {
	RedirectURI string // OIDC
	EntityID    string // SAML: the audience, and where the SP metadata is
	ACSURL      string // SAML
}

// SSOStart is where a federated sign-in begins.
type SSOStart struct {
	IP           string // the client's address, for the rate of attempts
	Tenant       string // id or slug
	ConnectionID string
	Email        string // discovery by the email's domain, without ConnectionID
	ReturnTo     string
	// ForceAuthn asks the provider to authenticate the user anew rather
	// than reuse its own session, and refuses an answer that did not.
	ForceAuthn bool
}

// SSOFlow runs federated sign-in and manages connections. The transports
// call it; it holds the rules.
type SSOFlow interface {
	// CreateConnection validates a connection (fetching the issuer's
	// discovery document or the SAML metadata), seals its secrets and
	// stores it. EINVALID naming the field; ECONFLICT.
	CreateConnection(ctx context.Context, tenantID string, by Actor, c *SSOConnection) (*SSOConnection, error)
	// UpdateConnection changes a connection as change says, then checks
	// it as CreateConnection does. ENOTFOUND, EINVALID, ECONFLICT.
	UpdateConnection(ctx context.Context, tenantID string, by Actor, id string, change func(*SSOConnection) error) (*SSOConnection, error)
	FindConnection(ctx context.Context, tenantID, id string) (*SSOConnection, error)
	ListConnections(ctx context.Context, tenantID string) ([]*SSOConnection, error)
	DeleteConnection(ctx context.Context, tenantID string, by Actor, id string) error
	// PublicConnections lists the enabled connections of a tenant (id or
	// slug) for a sign-in page: id, name and type only. ENOTFOUND.
	PublicConnections(ctx context.Context, tenant string) ([]*SSOConnection, error)

	// Start begins a sign-in and returns the provider's URL to send the
	// browser to. EINVALID naming tenant, connection, email or return_to;
	// ENOTFOUND when no enabled connection matches; ETOOMANY when the
	// address is over its rate of attempts.
	Start(ctx context.Context, s SSOStart) (string, error)
	// OIDCCallback finishes an OIDC sign-in and returns where to send the
	// browser, a one-time code in its fragment. EUNAUTHORIZED for a bad
	// state, code or token; EFORBIDDEN for a user refused. A refusal once
	// the state is known comes with the page the sign-in started from, to
	// tell a person why there.
	OIDCCallback(ctx context.Context, state, code, providerError string) (string, error)
	// SAMLACS finishes a SAML sign-in (HTTP-POST binding) as OIDCCallback
	// does.
	// ETOOMANY when the address ip is over its rate of attempts.
	SAMLACS(ctx context.Context, ip, samlResponse, relayState string) (string, error)
	// SAMLMetadata is the SP metadata of a SAML connection. ENOTFOUND.
	SAMLMetadata(ctx context.Context, tenantID, id string) ([]byte, error)
	// Endpoints are the URLs of Roster to give the provider of c: the
	// OIDC redirect URI, or the SAML entity ID (its SP metadata's URL)
	// and ACS URL.
	Endpoints(c *SSOConnection) SSOEndpoints

	// Exchange spends a one-time code for tokens. EUNAUTHORIZED;
	// ETOOMANY.
	Exchange(ctx context.Context, ip, code string) (*Tokens, error)
}
