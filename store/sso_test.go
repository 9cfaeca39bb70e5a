package store_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// ssoReplicas are two replicas' stores on one database, and a tenant with
// a SAML connection.
func ssoReplicas(t *testing.T) (a, b *store.SSOService, tenantID, connID string) {
	t.Helper()
	dbA, dbB := MustOpen(t), MustOpen(t)
	tenant := MustTenant(t, dbA)
	a, b = store.NewSSOService(dbA), store.NewSSOService(dbB)
	c := &roster.SSOConnection{Type: roster.SSOTypeSAML, Name: "IdP", IdPMetadataXML: "<x/>", Enabled: true}
	c.Normalize()
	if err := a.CreateConnection(context.Background(), tenant.Tenant.ID, testActor, c); err != nil {
		t.Fatal(err)
	}
	return a, b, tenant.Tenant.ID, c.ID
}

func TestSSOStateIsSpentOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	a, b, tenantID, connID := ssoReplicas(t)
	ctx := context.Background()
	now := time.Now()
	hash := []byte(rand.Text())
	if err := a.CreateState(ctx, &roster.SSOState{TenantID: tenantID, StateHash: hash, ConnectionID: connID,
		ReturnTo: "/account", ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PeekState(ctx, hash, now); err != nil {
		t.Fatalf("peek on the other replica: %v", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for _, s := range []*store.SSOService{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UseState(ctx, hash, now); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if roster.ErrorCode(err) != roster.EUNAUTHORIZED {
				t.Errorf("use: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("the state was spent %d times", wins)
	}

	// An expired state is refused, and spent all the same.
	late := []byte(rand.Text())
	if err := a.CreateState(ctx, &roster.SSOState{TenantID: tenantID, StateHash: late, ConnectionID: connID,
		ReturnTo: "/account", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, err := b.UseState(ctx, late, now.Add(2*time.Minute))
	wantCode(t, err, roster.EUNAUTHORIZED)
}

func TestSAMLAssertionReplayAcrossReplicas(t *testing.T) {
	t.Parallel()
	a, b, tenantID, connID := ssoReplicas(t)
	ctx := context.Background()
	expires := time.Now().Add(5 * time.Minute)
	if err := a.RememberAssertion(ctx, tenantID, connID, "_assertion-1", expires); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.RememberAssertion(ctx, tenantID, connID, "_assertion-1", expires), roster.ECONFLICT)
	if err := b.RememberAssertion(ctx, tenantID, connID, "_assertion-2", expires); err != nil {
		t.Fatal(err)
	}
}

func TestSSOConnectionsAreTenantScoped(t *testing.T) {
	t.Parallel()
	a, _, tenantID, connID := ssoReplicas(t)
	other := MustTenant(t, MustOpen(t))
	ctx := context.Background()
	_, err := a.FindConnection(ctx, other.Tenant.ID, connID)
	wantCode(t, err, roster.ENOTFOUND)
	_, err = a.UpdateConnection(ctx, other.Tenant.ID, testActor, connID, func(c *roster.SSOConnection) error { return nil })
	wantCode(t, err, roster.ENOTFOUND)
	wantCode(t, a.DeleteConnection(ctx, other.Tenant.ID, testActor, connID), roster.ENOTFOUND)
	if list, err := a.ListConnections(ctx, other.Tenant.ID); err != nil || len(list) != 0 {
		t.Fatalf("the other tenant lists %d connections (%v)", len(list), err)
	}
	if _, err := a.FindConnection(ctx, tenantID, connID); err != nil {
		t.Fatal(err)
	}
}
