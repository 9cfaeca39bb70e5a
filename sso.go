package roster

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SSO connection types.
const (
	SSOTypeOIDC = "oidc"
	SSOTypeSAML = "saml"
)

// SSOMapping names the provider's claims (OIDC) or attributes (SAML) that
// carry a user's profile and groups; empty fields take the defaults.
type SSOMapping struct {
	Email      string `json:"email"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Groups     string `json:"groups"`
}

// DefaultOIDCClaims are the standard OIDC claim names, and "groups", which
// Okta, Entra and Keycloak send when asked to.
func DefaultOIDCClaims() SSOMapping {
	return SSOMapping{Email: "email", GivenName: "given_name", FamilyName: "family_name", Groups: "groups"}
}

// DefaultSAMLAttributes are the attribute names Okta and Entra send by
// default (Entra's claim URIs; Okta's templates use the short names).
func DefaultSAMLAttributes() SSOMapping {
	return SSOMapping{Email: "email", GivenName: "firstName", FamilyName: "lastName", Groups: "groups"}
}

// withDefaults fills the empty names from d.
func (m SSOMapping) withDefaults(d SSOMapping) SSOMapping {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&m.Email, d.Email}, {&m.GivenName, d.GivenName}, {&m.FamilyName, d.FamilyName}, {&m.Groups, d.Groups},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	return m
}

// SSOConnection is a tenant's identity provider: OIDC or SAML 2.0. Its
// secrets (the OIDC client secret, the SAML SP's private key) are sealed
// by the flow before the store sees them and are never shown.
type SSOConnection struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"-"`
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Domains     []string          `json:"domains"`
	JIT         bool              `json:"jit"`
	DefaultRole string            `json:"default_role"`
	GroupRoles  map[string]string `json:"group_roles"`
	Enabled     bool              `json:"enabled"`
	// TrustIdPMFA lets a second factor the provider asserts (OIDC amr
	// "mfa" or an acr naming one) count as Roster's "mfa", as Entra's
	// federatedIdpMfaBehavior and Okta's "trust IdP MFA" do.
	TrustIdPMFA bool `json:"trust_idp_mfa"`
	// ForceAuthn makes every sign-in through the connection a forced
	// re-authentication at the provider (Okta's and Keycloak's "force
	// authentication"), as a start's force_authn does for one sign-in.
	ForceAuthn bool `json:"force_authn"`

	// OIDC.
	Issuer       string     `json:"issuer,omitempty"`
	ClientID     string     `json:"client_id,omitempty"`
	Scopes       []string   `json:"scopes,omitempty"`
	Claims       SSOMapping `json:"claims,omitzero"`
	ClientSecret string     `json:"-"` // write-only: sealed into SealedSecret

	// SAML.
	IdPMetadataXML    string     `json:"idp_metadata_xml,omitempty"`
	IdPMetadataURL    string     `json:"idp_metadata_url,omitempty"`
	Attributes        SSOMapping `json:"attributes,omitzero"`
	AllowIdPInitiated bool       `json:"allow_idp_initiated"`
	SPCertificate     string     `json:"-"` // PEM, public

	SealedSecret []byte    `json:"-"` // the client secret or the SP's private key
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Limits on connections.
const (
	MaxSSODomains     = 50
	MaxSSOGroupRoles  = 200
	MaxSSOMetadataLen = 256 << 10
)

// Normalize trims names, lower-cases domains and fills default mappings
// and scopes.
func (c *SSOConnection) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.Issuer = strings.TrimSpace(c.Issuer)
	c.ClientID = strings.TrimSpace(c.ClientID)
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
	}
	if c.Domains == nil {
		c.Domains = []string{}
	}
	if c.GroupRoles == nil {
		c.GroupRoles = map[string]string{}
	}
	switch c.Type {
	case SSOTypeOIDC:
		c.Claims = c.Claims.withDefaults(DefaultOIDCClaims())
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"openid", "email", "profile"}
		} else if !slices.Contains(c.Scopes, "openid") {
			c.Scopes = append([]string{"openid"}, c.Scopes...)
		}
	case SSOTypeSAML:
		c.Attributes = c.Attributes.withDefaults(DefaultSAMLAttributes())
	}
}

// Validate checks what can be checked without the network, naming each
// field at fault. The flow checks the issuer's discovery and the SAML
// metadata after.
func (c *SSOConnection) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }
	switch c.Type {
	case SSOTypeOIDC:
		if msg := issuerProblem(c.Issuer); msg != "" {
			add("issuer", msg)
		}
		if c.ClientID == "" {
			add("client_id", "is required")
		} else if msg := textProblem(c.ClientID, MaxNameLength); msg != "" {
			add("client_id", msg)
		}
		if msg := textProblem(c.ClientSecret, 1024); msg != "" {
			add("client_secret", msg)
		}
		for _, s := range c.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") || textProblem(s, 100) != "" {
				add("scopes", fmt.Sprintf("%q is not a scope", s))
			}
		}
	case SSOTypeSAML:
		switch {
		case c.IdPMetadataXML == "" && c.IdPMetadataURL == "":
			add("idp_metadata_xml", "or idp_metadata_url is required")
		case c.IdPMetadataXML != "" && c.IdPMetadataURL != "":
			add("idp_metadata_url", "give idp_metadata_xml or idp_metadata_url, not both")
		case len(c.IdPMetadataXML) > MaxSSOMetadataLen:
			add("idp_metadata_xml", "is too large")
		case c.IdPMetadataURL != "":
			if u, err := url.Parse(c.IdPMetadataURL); err != nil || u.Host == "" || !providerScheme(u) {
				add("idp_metadata_url", "must be an https URL (http only on localhost)")
			}
		}
	default:
		add("type", "must be oidc or saml")
	}
	if c.Name == "" {
		add("name", "is required")
	} else if msg := textProblem(c.Name, MaxNameLength); msg != "" {
		add("name", msg)
	}
	if len(c.Domains) > MaxSSODomains {
		add("domains", "are too many")
	}
	for _, d := range c.Domains {
		if !validDomain(d) {
			add("domains", fmt.Sprintf("%q is not a domain name", d))
		}
	}
	if msg := RoleNameProblem(c.DefaultRole); c.DefaultRole != "" && msg != "" {
		add("default_role", msg)
	}
	if len(c.GroupRoles) > MaxSSOGroupRoles {
		add("group_roles", "are too many")
	}
	for g, r := range c.GroupRoles {
		if g == "" || textProblem(g, MaxNameLength) != "" {
			add("group_roles", fmt.Sprintf("%q is not a group name", g))
		}
		if RoleNameProblem(r) != "" {
			add("group_roles", fmt.Sprintf("%q maps to %q, which is no role name", g, r))
		}
	}
	for _, m := range []struct {
		field string
		v     SSOMapping
	}{{"claims", c.Claims}, {"attributes", c.Attributes}} {
		for _, v := range []string{m.v.Email, m.v.GivenName, m.v.FamilyName, m.v.Groups} {
			if msg := textProblem(v, MaxNameLength); msg != "" {
				add(m.field, msg)
			}
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// issuerProblem says what is wrong with an OIDC issuer, or "". Entra's
// multi-tenant issuers are templates, not issuers: tokens from them name
// each customer's own tenant, so any Entra customer could sign in.
func issuerProblem(issuer string) string {
	if issuer == "" {
		return "is required"
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !providerScheme(u) {
		return "must be an https URL without a query or fragment (http only on localhost)"
	}
	if strings.HasSuffix(strings.ToLower(u.Hostname()), "login.microsoftonline.com") {
		first, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		switch strings.ToLower(first) {
		case "common", "organizations", "consumers", "{tenantid}":
			return "Entra's /" + first + " issuer is shared by every Entra tenant: use your tenant-specific issuer, https://login.microsoftonline.com/<tenant id>/v2.0"
		}
	}
	return ""
}

// providerScheme reports whether Roster may fetch from u: https, as
// OpenID Connect Discovery requires of issuers, or http to the loopback
// interface, where a development provider runs. Plain http elsewhere
// would let a network attacker answer for the provider.
func providerScheme(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// RolesFor are the roles the groups a provider sent map to; the user gets
// the highest of them (HighestRole), or keeps theirs when there is none.
func (c *SSOConnection) RolesFor(groups []string) []string {
	var roles []string
	for _, g := range groups {
		if r, found := c.GroupRoles[g]; found {
			roles = append(roles, r)
		}
	}
	return roles
}

// HasDomain reports whether the connection routes email's domain.
func (c *SSOConnection) HasDomain(email string) bool {
	return slices.Contains(c.Domains, EmailDomain(email))
}

// EmailDomain is the lower-cased domain of an address, "" for none.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}
