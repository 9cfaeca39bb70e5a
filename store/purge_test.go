package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestPurge: the purge deletes audit events and sign-ins older than each
// tenant's retention, and finished mail no invitation names; a dry run
// counts the same and deletes nothing; one purge runs at a time. On a
// database of its own: it purges every tenant's expired rows.
func TestPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, raw := mustOwnDatabase(t)
	short, long := MustTenant(t, db), MustTenant(t, db)
	tenants := store.NewTenantService(db)
	policy := roster.DefaultSecurityPolicy()
	policy.AuditRetentionDays, policy.SignInRetentionDays = 30, 30
	if err := tenants.SetSecurityPolicy(ctx, short.Tenant.ID, testActor, policy); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{short.Tenant.ID, long.Tenant.ID} {
		id := func() string { return uuid.Must(uuid.NewV7()).String() }
		mail, invited := id(), id()
		for _, q := range []struct {
			query string
			args  []any
		}{
			{`INSERT INTO sign_ins (tenant_id, id, user_id, at, method, result) VALUES ($1, $2, NULL, now(), 'password', 'failure')`, []any{tenant, id()}},
			{`INSERT INTO email_outbox (tenant_id, id, recipient, subject, body, status, next_attempt_at, created_at)
				VALUES ($1, $2, 'a@example.com', 's', '', 'sent', now(), now()), ($1, $3, 'b@example.com', 's', '', 'sent', now(), now())`, []any{tenant, mail, invited}},
			{`INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at, email_id)
				VALUES ($1, $2, 'b@example.com', 'viewer', $3, 'test', now(), now(), $4)`, []any{tenant, id(), []byte(id()), invited}},
		} {
			if _, err := raw.ExecContext(ctx, q.query, q.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(table, tenant string) int {
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	events := count("audit_events", short.Tenant.ID)
	if events == 0 {
		t.Fatal("no audit events to purge")
	}

	purger := store.NewPurgeService(db)
	db.Now = func() time.Time { return time.Now().AddDate(0, 0, 31) }
	want := roster.PurgeReport{AuditEvents: int64(events), SignIns: 1, Mail: 2}
	dry, ok, err := purger.Purge(ctx, true)
	if err != nil || !ok || *dry != want {
		t.Fatalf("dry run: %+v %v %v, want %+v", dry, ok, err, want)
	}
	if n := count("audit_events", short.Tenant.ID); n != events {
		t.Fatalf("a dry run deleted events: %d of %d left", n, events)
	}

	// Another process purging: this one waits its turn.
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(0x526f737465725075)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := purger.Purge(ctx, false); ok || err != nil {
		t.Fatalf("a purge beside another: ok %v, %v", ok, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, int64(0x526f737465725075)); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	done, ok, err := purger.Purge(ctx, false)
	if err != nil || !ok || *done != want {
		t.Fatalf("purge: %+v %v %v, want %+v", done, ok, err, want)
	}
	for table, left := range map[string]int{"audit_events": 0, "sign_ins": 0, "email_outbox": 1} {
		if n := count(table, short.Tenant.ID); n != left {
			t.Errorf("%s: %d left, want %d", table, n, left)
		}
	}
	if count("audit_events", long.Tenant.ID) == 0 || count("sign_ins", long.Tenant.ID) != 1 || count("email_outbox", long.Tenant.ID) != 1 {
		t.Error("the purge went past the retention of a tenant that keeps 400 days")
	}
}
