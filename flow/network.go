package flow

import (
	"context"

	"github.com/rosterhq/roster"
)

var _ roster.Authenticator = (*NetworkGuard)(nil)

// NetworkGuard holds every credential to its tenant's allowed_networks:
// API tokens (SCIM tokens among them), Roster's access tokens and an
// identity provider's JWTs alike, as an IP allowlist of Okta's or Entra's
// does. The policy is about where the tenant is reached from, whatever
// the credential; one kind left out would be the way around it.
type NetworkGuard struct {
	roster.Authenticator
	networks AllowedNetworks
}

// AllowedNetworks reads the networks a tenant admits clients from; a
// roster.TenantService does.
type AllowedNetworks interface {
	AllowedNetworks(ctx context.Context, tenantID string) ([]string, error)
}

// NewNetworkGuard returns a guard of the credentials next authenticates,
// with the tenants' allowed networks of networks.
func NewNetworkGuard(next roster.Authenticator, networks AllowedNetworks) *NetworkGuard {
	return &NetworkGuard{Authenticator: next, networks: networks}
}

// Authenticate authenticates credential, then refuses it (ENETWORK) when
// the request's client is outside its tenant's allowed networks.
func (g *NetworkGuard) Authenticate(ctx context.Context, credential string) (*roster.Principal, error) {
	p, err := g.Authenticator.Authenticate(ctx, credential)
	if err != nil {
		return nil, err
	}
	networks, err := g.networks.AllowedNetworks(ctx, p.TenantID)
	switch {
	case roster.ErrorCode(err) == roster.ENOTFOUND:
		return p, nil // no tenant, no policy: whatever it asks for is not found
	case err != nil:
		return nil, err
	}
	if err := allowNetwork(ctx, networks); err != nil {
		return nil, err
	}
	return p, nil
}

// allowNetwork returns ENETWORK unless networks allow the request's client.
func allowNetwork(ctx context.Context, networks []string) error {
	address := roster.ClientFromContext(ctx).Address
	if roster.AddressAllowed(networks, address) {
		return nil
	}
	return roster.Errorf(roster.ENETWORK, "the organisation allows no access from this network (%s)", address)
}

// refuseNetwork records and refuses a sign-in by method at the tenant
// (of its user, when known) from a network the policy does not allow.
func (s *SignIn) refuseNetwork(ctx context.Context, policy *roster.SecurityPolicy, tenantID, userID, method string) error {
	err := allowNetwork(ctx, policy.AllowedNetworks)
	if err == nil {
		return nil
	}
	return s.refuse(ctx, tenantID, userID, method, roster.ReasonNetworkNotAllowed, err)
}
