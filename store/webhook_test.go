package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

// TestWebhookFanOutMakesEachDeliveryOnce runs the fan-out from several
// workers at once, as replicas do: every event after the webhook's
// creation becomes exactly one delivery, and events of other types none.
func TestWebhookFanOutMakesEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	a := MustTenant(t, db)
	box, err := auth.NewSecretBox([]byte("roster-store-tests-encryption-k!"))
	if err != nil {
		t.Fatal(err)
	}
	users, hooks, outbox := store.NewUserService(db), store.NewWebhookService(db, box), store.NewWebhookOutbox(db, box)
	// The admin's user.created, from before the webhook, is final once the
	// feed lists it: the webhook starts after it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		page, err := store.NewEventService(db).FindEvents(ctx, a.Tenant.ID, roster.EventFilter{Types: []string{"user.created"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 1 || time.Now().After(deadline) {
			break
		}
	}
	hook, err := hooks.CreateWebhook(ctx, a.Tenant.ID, testActor,
		&roster.Webhook{URL: "https://hooks.example.com/x", Events: []string{"user.created"}}, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for range n {
		u := MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: "after-" + randomHex(t) + "@example.com"})
		if err := users.DeleteUser(ctx, a.Tenant.ID, testActor, u.ID, 0); err != nil { // user.deleted: not subscribed
			t.Fatal(err)
		}
	}
	deliveries := func() []*roster.WebhookDelivery {
		page, err := hooks.FindWebhookDeliveries(ctx, a.Tenant.ID, hook.ID, roster.WebhookDeliveryFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	for deadline := time.Now().Add(30 * time.Second); len(deliveries()) < n && time.Now().Before(deadline); {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := outbox.FanOutEvents(ctx, 10); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	got := deliveries()
	seen := map[string]bool{}
	for _, d := range got {
		if d.EventType != "user.created" || seen[d.EventID] || d.Status != roster.DeliveryPending {
			t.Fatalf("delivery %+v: want one pending user.created delivery per event", d)
		}
		seen[d.EventID] = true
	}
	if len(got) != n {
		t.Fatalf("%d deliveries for %d events", len(got), n)
	}
	// Another tenant sees neither the webhook nor its deliveries.
	b := MustTenant(t, db)
	if _, err := hooks.FindWebhookDeliveries(ctx, b.Tenant.ID, hook.ID, roster.WebhookDeliveryFilter{}); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("tenant B reads A's deliveries: %v", err)
	}
}
