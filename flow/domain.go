package flow

import (
	"context"
	"crypto/subtle"
	"net"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

var _ roster.DomainFlow = (*Domains)(nil)

// Resolver looks up TXT records; a *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Domains claims domains for tenants and verifies them in DNS.
type Domains struct {
	store roster.DomainService
	// Resolver looks the TXT records up; tests point it at a DNS server
	// of their own.
	Resolver Resolver
}

// NewDomains returns the domain flow over store, looking records up with
// resolver (nil: the system's).
func NewDomains(store roster.DomainService, resolver Resolver) *Domains {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	return &Domains{store: store, Resolver: resolver}
}

// domainValuePrefix starts every TXT value Roster asks for.
const domainValuePrefix = "roster-domain-verification="

// Claim stores a claim with a fresh TXT value. EINVALID, ECONFLICT.
func (d *Domains) Claim(ctx context.Context, tenantID string, by roster.Actor, domain string) (*roster.Domain, error) {
	name, ok := roster.NormalizeDomain(domain)
	if !ok {
		return nil, roster.Invalid(roster.FieldError{Field: "domain", Message: "must be a domain name, such as example.com"})
	}
	token, err := auth.NewOpaqueToken("")
	if err != nil {
		return nil, err
	}
	dom := &roster.Domain{Domain: name, TXTValue: domainValuePrefix + token}
	if err := d.store.CreateDomain(ctx, tenantID, by, dom); err != nil {
		return nil, err
	}
	return dom, nil
}

// Verify looks up the domain's TXT record, outside any transaction, and
// marks it verified when it holds the value. ENOTFOUND, ECONFLICT.
func (d *Domains) Verify(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Domain, error) {
	dom, err := d.store.FindDomain(ctx, tenantID, id)
	if err != nil || dom.VerifiedAt != nil {
		return dom, err
	}
	records, err := d.Resolver.LookupTXT(ctx, dom.TXTName())
	if err != nil {
		records = nil // no record (NXDOMAIN) and a failed lookup answer alike: not yet
	}
	for _, r := range records {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(r)), []byte(dom.TXTValue)) == 1 {
			return d.store.MarkDomainVerified(ctx, tenantID, by, id)
		}
	}
	return nil, &roster.Error{Code: roster.ECONFLICT,
		Message: "no TXT record " + dom.TXTName() + " holds " + dom.TXTValue + " yet: publish it, wait for DNS, and verify again"}
}

// List returns the tenant's domains.
func (d *Domains) List(ctx context.Context, tenantID string) ([]*roster.Domain, error) {
	return d.store.ListDomains(ctx, tenantID)
}

// Delete drops a claim. ENOTFOUND.
func (d *Domains) Delete(ctx context.Context, tenantID string, by roster.Actor, id string) error {
	return d.store.DeleteDomain(ctx, tenantID, by, id)
}
