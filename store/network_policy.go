package store

import (
	"context"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/rosterhq/roster"
)

// networkPolicyTTL bounds how long another replica goes on admitting
// clients from a network the tenant has just removed: the same bound as a
// revoked API token's (auth's cacheTTL). The replica that changes the
// policy forgets it at once.
const networkPolicyTTL = 5 * time.Second

// networkPolicyMax bounds the tenants the cache holds.
const networkPolicyMax = 10_000

// networkPolicies caches each tenant's allowed networks, which every
// authenticated request checks: without it, a request costs one more
// statement for a list that is almost always empty.
type networkPolicies struct {
	mu      sync.Mutex
	tenants map[string]cachedNetworks
	// forgotten counts forget calls: a read that began before one may
	// have read the old policy, and is not cached.
	forgotten uint64
}

type cachedNetworks struct {
	networks []string
	until    time.Time
}

// get returns the tenant's cached networks, or the generation to put them
// with once read.
func (c *networkPolicies) get(tenantID string, now time.Time) (networks []string, ok bool, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tenants[tenantID]
	if !ok || !now.Before(e.until) {
		return nil, false, c.forgotten
	}
	return e.networks, true, 0
}

func (c *networkPolicies) put(tenantID string, networks []string, now time.Time, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.forgotten {
		return
	}
	if c.tenants == nil || len(c.tenants) >= networkPolicyMax {
		c.tenants = map[string]cachedNetworks{}
	}
	c.tenants[tenantID] = cachedNetworks{networks: networks, until: now.Add(networkPolicyTTL)}
}

func (c *networkPolicies) forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgotten++
	delete(c.tenants, tenantID)
}

// allowedNetworksSQL reads the allowed_networks of a tenant's security
// policy, as text[] ('{}' when none are set).
const allowedNetworksSQL = `SELECT coalesce(array(SELECT jsonb_array_elements_text(
	CASE jsonb_typeof(settings -> '` + securityPolicyKey + `' -> 'allowed_networks') WHEN 'array'
	THEN settings -> '` + securityPolicyKey + `' -> 'allowed_networks' ELSE '[]' END)), '{}')
	FROM tenants WHERE id = $1`

// AllowedNetworks returns the networks the tenant's security policy admits
// clients from, none meaning any; cached for networkPolicyTTL. ENOTFOUND.
func (s *TenantService) AllowedNetworks(ctx context.Context, tenantID string) ([]string, error) {
	if !isUUID(tenantID) {
		return nil, roster.Errorf(roster.ENOTFOUND, "tenant not found")
	}
	now := time.Now()
	networks, ok, generation := s.db.networks.get(tenantID, now)
	if ok {
		return networks, nil
	}
	if err := s.db.queryRow(ctx, allowedNetworksSQL, tenantID).Scan(pq.Array(&networks)); err != nil {
		return nil, notFound(translate(err), "tenant")
	}
	s.db.networks.put(tenantID, networks, now, generation)
	return networks, nil
}
