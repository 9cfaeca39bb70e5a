package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

func newInvitation(email string) *roster.Invitation {
	return &roster.Invitation{Email: email, Role: roster.RoleViewer, TokenHash: []byte(rand.Text()),
		ExpiresAt: time.Now().Add(time.Hour)}
}

func TestCreateInvitationsBatches(t *testing.T) {
	db := MustOpen(t)
	invitations := store.NewInvitationService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()
	if _, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, newInvitation("taken@example.com")); err != nil {
		t.Fatal(err)
	}
	// 120 rows: three batches, with refusals in the first and the last.
	var invs []*roster.Invitation
	for i := range 120 {
		invs = append(invs, newInvitation(fmt.Sprintf("row%d@example.com", i)))
	}
	invs[3].Email = "taken@example.com"
	invs[60].Email = a.Admin.Email
	invs[110].Email = "row0@example.com" // invited earlier in the same request
	invs[111].Role = "owner"
	var committed []int
	errs, err := invitations.CreateInvitations(ctx, a.Tenant.ID, testActor, invs, func(batch []*roster.Invitation) {
		committed = append(committed, len(batch))
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(committed) != "[49 49 18]" {
		t.Fatalf("committed batches %v", committed)
	}
	for i, err := range errs {
		switch i {
		case 3, 60, 110:
			wantCode(t, err, roster.ECONFLICT)
			wantField(t, err, "email")
		case 111:
			wantField(t, err, "role")
		default:
			if err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
	}
	page, err := invitations.FindInvitations(ctx, a.Tenant.ID, roster.InvitationFilter{Status: roster.InvitationPending, Limit: 200})
	if err != nil || len(page.Items) != 117 {
		t.Fatalf("%d pending invitations (%v), want 117", len(page.Items), err)
	}
	var events int
	if err := openSQL(t).QueryRow(`SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'invitation.created'`,
		a.Tenant.ID).Scan(&events); err != nil || events != 117 {
		t.Fatalf("%d invitation.created events (%v), want 117", events, err)
	}
	if page, _ := invitations.FindInvitations(ctx, b.Tenant.ID, roster.InvitationFilter{}); len(page.Items) != 0 {
		t.Fatalf("tenant B sees %d invitations", len(page.Items))
	}
}

func TestInvitationSentOnlyForTheCurrentToken(t *testing.T) {
	db := MustOpen(t)
	invitations := store.NewInvitationService(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()
	first := newInvitation("sent@example.com")
	inv, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, first)
	if err != nil {
		t.Fatal(err)
	}
	second := []byte(rand.Text())
	if _, err := invitations.RenewInvitation(ctx, a.Tenant.ID, testActor, inv.ID, second, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The late mail of the replaced token records nothing; nor does another tenant.
	for _, tc := range []struct {
		tenant string
		hash   []byte
	}{{a.Tenant.ID, first.TokenHash}, {b.Tenant.ID, second}} {
		if err := invitations.MarkInvitationSent(ctx, tc.tenant, inv.ID, tc.hash, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := invitations.FindInvitationByTokenHash(ctx, first.TokenHash); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("the replaced token still finds the invitation: %v", err)
	}
	got, err := invitations.FindInvitationByTokenHash(ctx, second)
	if err != nil || got.SentAt != nil {
		t.Fatalf("sent_at %v (%v), want none", got.SentAt, err)
	}
	if err := invitations.MarkInvitationSent(ctx, a.Tenant.ID, inv.ID, second, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := invitations.FindInvitationByTokenHash(ctx, second); got.SentAt == nil {
		t.Fatal("sent_at not recorded")
	}
	_, err = invitations.RevokeInvitation(ctx, b.Tenant.ID, testActor, inv.ID)
	wantCode(t, err, roster.ENOTFOUND)
}

// TestInvitationQueriesUseIndexes checks the plans of the list and the
// lookups on a tenant with 100,000 invitations, most of them accepted.
func TestInvitationQueriesUseIndexes(t *testing.T) {
	db := MustOpen(t)
	sqlDB := openSQL(t)
	a := MustTenant(t, db)
	if _, err := sqlDB.Exec(`
		INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at)
		SELECT $1, gen_random_uuid(), 'bulk' || i || '@example.com', 'viewer', sha256(('t' || i)::bytea), 'test',
		       now() - i * interval '1 second', now() + interval '1 day',
		       CASE WHEN i % 100 <> 0 THEN now() END
		FROM generate_series(1, 100000) i`, a.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(`ANALYZE invitations`); err != nil {
		t.Fatal(err)
	}
	for name, query := range map[string]string{
		"pending page": `SELECT id FROM invitations WHERE tenant_id = '` + a.Tenant.ID + `' AND accepted_at IS NULL AND revoked_at IS NULL
			AND expires_at > now() ORDER BY created_at DESC, id DESC LIMIT 51`,
		"deep page": `SELECT id FROM invitations WHERE tenant_id = '` + a.Tenant.ID + `'
			AND (created_at, id) < (now() - interval '90000 seconds', 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
			ORDER BY created_at DESC, id DESC LIMIT 51`,
		"open by email": `SELECT id FROM invitations WHERE tenant_id = '` + a.Tenant.ID + `' AND lower(email) = lower('bulk500@example.com')
			AND accepted_at IS NULL AND revoked_at IS NULL FOR UPDATE`,
		"token": `SELECT id FROM invitations WHERE token_hash = sha256('t7'::bytea)`,
	} {
		rows, err := sqlDB.Query(`EXPLAIN (ANALYZE, BUFFERS) ` + query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", name, text)
		if strings.Contains(text, "Seq Scan") || strings.Contains(text, "Sort ") || strings.Contains(text, "Rows Removed by Filter") {
			t.Errorf("%s scans, filters or sorts rows it does not return:\n%s", name, text)
		}
	}
}
