package flow

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
	dsigtypes "github.com/russellhaering/goxmldsig/types"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// mfaAuthnContexts are SAML AuthnContextClassRefs that name a second
// factor (Entra's, and the OASIS and REFEDS ones Okta and others send).
var mfaAuthnContexts = []string{
	"http://schemas.microsoft.com/claims/multipleauthn",
	"https://refeds.org/profile/mfa",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
}

// SAMLEntityID is Roster's entity ID (the audience of its assertions) for
// a connection: the URL of its SP metadata.
func (s *SSO) SAMLEntityID(c *roster.SSOConnection) string {
	return s.publicURL.String() + "/api/v1/sso/connections/" + c.ID + "/saml/metadata"
}

// Endpoints are Roster's URLs for c's provider.
func (s *SSO) Endpoints(c *roster.SSOConnection) roster.SSOEndpoints {
	if c.Type == roster.SSOTypeSAML {
		return roster.SSOEndpoints{EntityID: s.SAMLEntityID(c), ACSURL: s.callbackURL(SAMLACSPath)}
	}
	return roster.SSOEndpoints{RedirectURI: s.callbackURL(OIDCCallbackPath)}
}

// serviceProvider is the gosaml2 SP of a connection, on Roster's clock.
func (s *SSO) serviceProvider(ctx context.Context, c *roster.SSOConnection) (*saml2.SAMLServiceProvider, error) {
	md, err := s.idp(ctx, c)
	if err != nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "the identity provider's metadata cannot be used: %v", err)
	}
	keyDER, err := s.box.Open(c.SealedSecret, secretAD(c))
	if err != nil {
		return nil, fmt.Errorf("open the SP key of connection %s: %w", c.ID, err)
	}
	key, err := x509.ParsePKCS1PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("SP key of connection %s: %w", c.ID, err)
	}
	block, _ := pem.Decode([]byte(c.SPCertificate))
	if block == nil {
		return nil, fmt.Errorf("SP certificate of connection %s cannot be read", c.ID)
	}
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      md.SSOURL,
		IdentityProviderSSOBinding:  bindingRedirect,
		IdentityProviderIssuer:      md.EntityID,
		AssertionConsumerServiceURL: s.callbackURL(SAMLACSPath),
		ServiceProviderIssuer:       s.SAMLEntityID(c),
		AudienceURI:                 s.SAMLEntityID(c),
		SignAuthnRequests:           true,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: md.Certs},
		NameIdFormat:                "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		AllowMissingAttributes:      true,
		Clock:                       dsig.NewFakeClockAt(s.Now()),
		MaximumDecompressedBodySize: 1 << 20,
	}
	if err := sp.SetSPSigningKeyStore(&saml2.KeyStore{Signer: key, Cert: block.Bytes}); err != nil {
		return nil, fmt.Errorf("SP key store: %w", err)
	}
	return sp, nil
}

// startSAML is the IdP's URL with a signed AuthnRequest (HTTP-Redirect)
// and the state as RelayState, and the request's ID for InResponseTo;
// force sets the request's ForceAuthn.
func (s *SSO) startSAML(ctx context.Context, c *roster.SSOConnection, state string, force bool) (string, string, error) {
	sp, err := s.serviceProvider(ctx, c)
	if err != nil {
		return "", "", err
	}
	sp.ForceAuthn = force
	doc, err := sp.BuildAuthRequestDocument()
	if err != nil {
		return "", "", fmt.Errorf("build the AuthnRequest: %w", err)
	}
	id := doc.Root().SelectAttrValue("ID", "")
	to, err := sp.BuildAuthURLFromDocument(state, doc)
	if err != nil {
		return "", "", fmt.Errorf("build the IdP URL: %w", err)
	}
	return to, id, nil
}

// SAMLMetadata is the SP metadata of one of the tenant's SAML
// connections. ENOTFOUND.
func (s *SSO) SAMLMetadata(ctx context.Context, tenantID, id string) ([]byte, error) {
	c, err := s.store.FindConnection(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if c.Type != roster.SSOTypeSAML {
		return nil, roster.Errorf(roster.ENOTFOUND, "an OIDC connection has no SAML metadata")
	}
	block, _ := pem.Decode([]byte(c.SPCertificate))
	if block == nil {
		return nil, fmt.Errorf("SP certificate of connection %s cannot be read", c.ID)
	}
	// Built here rather than by gosaml2's Metadata, which insists on an
	// encryption key: Roster publishes a signing certificate only, and
	// asks for no encrypted assertions.
	ed := &types.EntityDescriptor{
		ValidUntil: s.Now().UTC().Add(7 * 24 * time.Hour),
		EntityID:   s.SAMLEntityID(c),
		SPSSODescriptor: &types.SPSSODescriptor{
			AuthnRequestsSigned:        true,
			WantAssertionsSigned:       true,
			ProtocolSupportEnumeration: saml2.SAMLProtocolNamespace,
			KeyDescriptors: []types.KeyDescriptor{{Use: "signing", KeyInfo: dsigtypes.KeyInfo{X509Data: dsigtypes.X509Data{
				X509Certificates: []dsigtypes.X509Certificate{{Data: base64.StdEncoding.EncodeToString(block.Bytes)}}}}}},
			AssertionConsumerServices: []types.IndexedEndpoint{{Binding: saml2.BindingHttpPost, Location: s.callbackURL(SAMLACSPath), Index: 1}},
		},
	}
	raw, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode SP metadata: %w", err)
	}
	return append([]byte(xml.Header), raw...), nil
}

// SAMLACS finishes a SAML sign-in. The response is verified (signature by
// the IdP's certificate, issuer, destination, recipient, audience, times
// with ssoClockSkew) before anything else; its assertion ID is then
// recorded against replays; then the state of RelayState is spent and
// the assertion must answer its AuthnRequest. EINVALID, EUNAUTHORIZED,
// EFORBIDDEN, ETOOMANY; with the page of the sign-in once the connection
// is known.
func (s *SSO) SAMLACS(ctx context.Context, ip, samlResponse, relayState string) (string, error) {
	// XML signature checks cost: an address has the sign-in's ceiling.
	if err := s.signIn.throttle.attempt("sso-acs", ip); err != nil {
		return "", err
	}
	c, st, err := s.acsConnection(ctx, relayState)
	if err != nil {
		return "", err
	}
	to, err := s.samlACS(ctx, c, st, samlResponse, relayState)
	if st == nil {
		st = &roster.SSOState{ReturnTo: "/account"}
	}
	return s.orBack(st, to, err)
}

// samlACS checks a response for c; st is the sign-in of its RelayState,
// nil for an unsolicited one.
func (s *SSO) samlACS(ctx context.Context, c *roster.SSOConnection, st *roster.SSOState, samlResponse, relayState string) (string, error) {
	sp, err := s.serviceProvider(ctx, c)
	if err != nil {
		return "", err
	}
	refuse := func(reason string, err error) (string, error) {
		s.Log.WarnContext(ctx, "sso: SAML response refused", "connection", c.ID, "reason", reason, "err", err)
		return "", roster.Errorf(roster.EUNAUTHORIZED, "the SAML response of %s was refused: %s", c.Name, reason)
	}
	// On a clock ssoClockSkew behind, gosaml2's own expiry checks allow
	// that skew; checkAssertion checks both bounds with it.
	sp.Clock = dsig.NewFakeClockAt(s.Now().Add(-ssoClockSkew))
	resp, err := sp.ValidateEncodedResponse(samlResponse)
	var invalid saml2.ErrInvalidValue
	if errors.As(err, &invalid) && invalid.Reason == saml2.ReasonExpired {
		return refuse("the assertion is expired", err)
	} else if err != nil {
		return refuse("it is not validly signed, or names another recipient, issuer or destination", err)
	}
	if resp.Destination != sp.AssertionConsumerServiceURL {
		return refuse("its destination is not Roster's ACS", nil)
	}
	if resp.Status == nil || resp.Status.StatusCode.Value != saml2.StatusCodeSuccess {
		return refuse("the identity provider did not sign the user in", nil)
	}
	if len(resp.Assertions) != 1 {
		return refuse("it must hold exactly one signed assertion", nil)
	}
	a := &resp.Assertions[0]
	if reason := s.checkAssertion(sp, a); reason != "" {
		return refuse(reason, nil)
	}
	notOnOrAfter, _ := time.Parse(time.RFC3339, a.Conditions.NotOnOrAfter)
	if err := s.store.RememberAssertion(ctx, c.TenantID, c.ID, a.ID, notOnOrAfter.Add(ssoClockSkew)); roster.ErrorCode(err) == roster.ECONFLICT {
		return refuse("the assertion was used before (a replay)", err)
	} else if err != nil {
		return "", err
	}
	inResponseTo := a.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo
	if st == nil {
		if inResponseTo != "" {
			return refuse("it answers a request Roster did not make", nil)
		}
		st = &roster.SSOState{TenantID: c.TenantID, ConnectionID: c.ID, ReturnTo: "/account"}
		if c.ForceAuthn {
			// Nobody asked this provider for a new authentication: one
			// within the time a sign-in may take is the most to accept.
			st.AuthnSince = s.Now().Add(-ssoStateTTL)
		}
	} else {
		if st, err = s.spendSAMLState(ctx, relayState); err != nil {
			return "", err
		}
		if inResponseTo != st.RequestID {
			return refuse("it answers another sign-in (InResponseTo)", nil)
		}
	}
	return s.finish(ctx, st, c, samlIdentity(c, a))
}

// checkAssertion says why an assertion gosaml2 verified is refused, or "":
// times within ssoClockSkew, an audience restriction naming Roster, a
// subject and an ID.
func (s *SSO) checkAssertion(sp *saml2.SAMLServiceProvider, a *types.Assertion) string {
	now := s.Now()
	cond := a.Conditions
	if a.ID == "" || a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return "the assertion names no subject"
	}
	if a.Subject.SubjectConfirmation == nil || a.Subject.SubjectConfirmation.SubjectConfirmationData == nil {
		return "the assertion has no subject confirmation"
	}
	if cond == nil {
		return "the assertion has no conditions"
	}
	notBefore, err1 := time.Parse(time.RFC3339, cond.NotBefore)
	notOnOrAfter, err2 := time.Parse(time.RFC3339, cond.NotOnOrAfter)
	if err1 != nil || err2 != nil || now.Add(ssoClockSkew).Before(notBefore) || !now.Add(-ssoClockSkew).Before(notOnOrAfter) {
		return "the assertion is expired or not yet valid"
	}
	if len(cond.AudienceRestrictions) == 0 {
		return "the assertion names no audience"
	}
	for _, r := range cond.AudienceRestrictions {
		if !slices.ContainsFunc(r.Audiences, func(a types.Audience) bool { return a.Value == sp.AudienceURI }) {
			return "the assertion is for another audience"
		}
	}
	return ""
}

// samlIdentity reads who signed in from a verified assertion: NameID as
// subject, attributes by Name or FriendlyName.
func samlIdentity(c *roster.SSOConnection, a *types.Assertion) *roster.FederatedIdentity {
	values := func(name string) ([]string, bool) {
		if a.AttributeStatement == nil {
			return nil, false
		}
		for _, attr := range a.AttributeStatement.Attributes {
			if attr.Name == name || attr.FriendlyName == name {
				var vs []string
				for _, v := range attr.Values {
					vs = append(vs, v.Value)
				}
				return vs, true
			}
		}
		return nil, false
	}
	first := func(name string) string {
		if vs, _ := values(name); len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	m := c.Attributes
	id := &roster.FederatedIdentity{ConnectionID: c.ID, Subject: a.Subject.NameID.Value,
		Email: first(m.Email), GivenName: first(m.GivenName), FamilyName: first(m.FamilyName),
		// SAML has no email_verified: the address is the IdP's assertion,
		// and linking still needs a verified domain of the tenant.
		EmailVerified: true}
	if id.Email == "" && strings.Contains(id.Subject, "@") {
		id.Email = id.Subject
	}
	if groups, ok := values(m.Groups); ok {
		id.Groups = append([]string{}, groups...)
	}
	if a.AuthnStatement != nil && a.AuthnStatement.AuthnInstant != nil {
		id.AuthTime = *a.AuthnStatement.AuthnInstant
	}
	if a.AuthnStatement != nil && a.AuthnStatement.AuthnContext != nil && a.AuthnStatement.AuthnContext.AuthnContextClassRef != nil {
		id.MFA = slices.Contains(mfaAuthnContexts, a.AuthnStatement.AuthnContext.AuthnContextClassRef.Value)
	}
	return id
}

// acsConnection is the connection a SAML response is for: the one of its
// RelayState's sign-in (not spent yet), or, for an unsolicited response,
// the one RelayState names as "tenant:connection" where the connection
// allows IdP-initiated sign-in. EUNAUTHORIZED.
func (s *SSO) acsConnection(ctx context.Context, relayState string) (*roster.SSOConnection, *roster.SSOState, error) {
	unknown := roster.Errorf(roster.EUNAUTHORIZED, "the sign-in is unknown, already used or expired: start again")
	if auth.IsOpaqueToken(relayState, ssoStatePrefix) {
		st, err := s.store.PeekState(ctx, auth.HashAPIToken(relayState), s.Now())
		if err != nil {
			return nil, nil, err
		}
		c, err := s.enabledConnection(ctx, st.TenantID, st.ConnectionID, roster.SSOTypeSAML)
		return c, st, err
	}
	tenant, id, ok := strings.Cut(relayState, ":")
	if !ok {
		return nil, nil, unknown
	}
	tenantID, err := s.tenants.FindTenantID(ctx, tenant)
	if err != nil {
		return nil, nil, unknown
	}
	c, err := s.enabledConnection(ctx, tenantID, id, roster.SSOTypeSAML)
	if err != nil {
		return nil, nil, err
	}
	if !c.AllowIdPInitiated {
		return nil, nil, roster.Errorf(roster.EUNAUTHORIZED, "%s does not accept sign-ins started at the identity provider: start at Roster", c.Name)
	}
	return c, nil, nil
}

// spendSAMLState spends the state of a verified response.
func (s *SSO) spendSAMLState(ctx context.Context, relayState string) (*roster.SSOState, error) {
	st, _, err := s.spendState(ctx, relayState, roster.SSOTypeSAML)
	return st, err
}
