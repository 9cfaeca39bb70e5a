package store_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestEventFeedWaitsForChangesInFlight holds a change's transaction open
// while a later change commits: the feed must not list the later event
// before the earlier one is final, or a client's cursor would pass the
// earlier event and never see it. A change that rolls back is no event.
func TestEventFeedWaitsForChangesInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := MustOpen(t)
	a := MustTenant(t, db)
	users, events := store.NewUserService(db), store.NewEventService(db)
	raw, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	created := roster.EventFilter{Types: []string{"user.created"}}
	// Start after the admin's user.created: once the feed lists it, it is
	// final.
	var start *roster.EventPage
	for deadline := time.Now().Add(30 * time.Second); start == nil || len(start.Items) == 0; time.Sleep(20 * time.Millisecond) {
		if start, err = events.FindEvents(ctx, a.Tenant.ID, created); err != nil || time.Now().After(deadline) {
			t.Fatalf("the admin's user.created never listed: %v", err)
		}
	}

	// A change in flight: its audit event is written, not yet committed.
	slow, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback() //nolint:errcheck // a no-op after Commit
	slowID := insertUserCreatedEvent(t, slow, a.Tenant.ID)
	// A rolled-back change: never an event.
	doomed, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	doomedID := insertUserCreatedEvent(t, doomed, a.Tenant.ID)
	fast := MustCreateUser(t, users, a.Tenant.ID, roster.User{Email: "fast-" + randomHex(t) + "@example.com"})
	if err := doomed.Rollback(); err != nil {
		t.Fatal(err)
	}

	page, err := events.FindEvents(ctx, a.Tenant.ID, roster.EventFilter{After: start.NextCursor, Types: created.Types})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Fatalf("the feed listed %v while an earlier change was in flight", eventIDs(page.Items))
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	// Other databases' transactions on the same server hold the horizon
	// too, briefly: poll.
	var got []string
	cur := page.NextCursor
	for deadline := time.Now().Add(30 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		p, err := events.FindEvents(ctx, a.Tenant.ID, roster.EventFilter{After: cur, Types: created.Types})
		if err != nil {
			t.Fatal(err)
		}
		got, cur = append(got, eventIDs(p.Items)...), p.NextCursor
		time.Sleep(50 * time.Millisecond)
	}
	// The fast user's event is found by its target.
	fastEvent := eventOf(t, raw, a.Tenant.ID, fast.ID)
	if !slices.Equal(got, []string{slowID, fastEvent}) {
		t.Fatalf("feed after both committed: %v, want [%s %s] in commit-safe order", got, slowID, fastEvent)
	}
	if slices.Contains(got, doomedID) {
		t.Fatal("the feed lists the event of a change that rolled back")
	}
	// Read from the start again: the same events, once each.
	all, err := events.FindEvents(ctx, a.Tenant.ID, roster.EventFilter{After: start.NextCursor, Types: created.Types, Limit: 1})
	if err != nil || len(all.Items) != 1 || all.Items[0].ID != slowID || all.Items[0].Type != "user.created" {
		t.Fatalf("first page of one: %v %v", all, err)
	}
	if _, err := events.FindEvents(ctx, a.Tenant.ID, roster.EventFilter{After: "nonsense"}); roster.ErrorCode(err) != roster.EINVALID {
		t.Fatalf("a bad cursor: %v, want EINVALID", err)
	}
	if _, err := events.FindEvents(ctx, a.Tenant.ID, roster.EventFilter{Types: []string{"user.exploded"}}); roster.ErrorCode(err) != roster.EINVALID {
		t.Fatalf("an unknown type: %v, want EINVALID", err)
	}
}

// insertUserCreatedEvent writes a user.created audit event on tx as a
// change would, and returns its id.
func insertUserCreatedEvent(t *testing.T, tx *sql.Tx, tenantID string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := tx.Exec(`INSERT INTO audit_events (tenant_id, id, occurred_at, actor_type, actor_id, action, target_type, target_id)
		VALUES ($1, $2, now(), 'system', 'test', 'user.created', 'user', $3)`, tenantID, id, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	return id
}

func eventOf(t *testing.T, raw *sql.DB, tenantID, targetID string) string {
	t.Helper()
	var id string
	if err := raw.QueryRow(`SELECT id FROM audit_events WHERE tenant_id = $1 AND target_id = $2 AND action = 'user.created'`,
		tenantID, targetID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func eventIDs(events []*roster.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}
