package roster

import (
	"context"
	"strings"
	"time"
)

// Domain is an email domain a tenant claims, and proves it holds by
// publishing TXTValue at TXTName in DNS. Only a verified domain links
// existing accounts by email at a federated sign-in.
type Domain struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"-"`
	Domain     string     `json:"domain"`
	TXTValue   string     `json:"txt_value"`
	VerifiedAt *time.Time `json:"verified_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// DomainTXTLabel is the label under which a domain's TXT record is
// published.
const DomainTXTLabel = "_roster-challenge"

// TXTName is where the TXT record must be published.
func (d *Domain) TXTName() string {
	return DomainTXTLabel + "." + d.Domain
}

// NormalizeDomain lower-cases a domain name and drops a trailing dot; ok
// is false for anything but a domain name.
func NormalizeDomain(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	return s, validDomain(s)
}

// DomainService keeps the tenants' domains. Every method is scoped to its
// tenant; another tenant's domain is ENOTFOUND.
type DomainService interface {
	// CreateDomain stores a claimed domain. ECONFLICT when the tenant
	// claimed it already.
	CreateDomain(ctx context.Context, tenantID string, by Actor, d *Domain) error
	// ListDomains returns the tenant's domains, oldest first.
	ListDomains(ctx context.Context, tenantID string) ([]*Domain, error)
	// FindDomain returns one domain. ENOTFOUND.
	FindDomain(ctx context.Context, tenantID, id string) (*Domain, error)
	// MarkDomainVerified records the proof, audited. ENOTFOUND; ECONFLICT
	// when another tenant verified the domain first.
	MarkDomainVerified(ctx context.Context, tenantID string, by Actor, id string) (*Domain, error)
	// DeleteDomain drops a claim. ENOTFOUND.
	DeleteDomain(ctx context.Context, tenantID string, by Actor, id string) error
}

// DomainFlow claims and verifies domains.
type DomainFlow interface {
	// Claim starts a claim and returns the TXT value to publish.
	// EINVALID naming "domain"; ECONFLICT.
	Claim(ctx context.Context, tenantID string, by Actor, domain string) (*Domain, error)
	// Verify looks the TXT record up and marks the domain verified when
	// it holds the value. ENOTFOUND; ECONFLICT when the record is not
	// there (yet) or another tenant verified the domain.
	Verify(ctx context.Context, tenantID string, by Actor, id string) (*Domain, error)
	List(ctx context.Context, tenantID string) ([]*Domain, error)
	Delete(ctx context.Context, tenantID string, by Actor, id string) error
}
