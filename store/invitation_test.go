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
	if _, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, newInvitation("taken@example.com"), linkMail); err != nil {
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
	errs, err := invitations.CreateInvitations(ctx, a.Tenant.ID, testActor, invs, linkMail)
	if err != nil {
		t.Fatal(err)
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
	// Each stored invitation has its mail queued; a refused row left none.
	var mails int
	if err := openSQL(t).QueryRow(`SELECT count(*) FROM invitations i JOIN email_outbox e ON e.tenant_id = i.tenant_id
		AND e.id = i.email_id AND e.status = 'pending' AND e.body LIKE 'link %' WHERE i.tenant_id = $1`,
		a.Tenant.ID).Scan(&mails); err != nil || mails != 117 {
		t.Fatalf("%d invitations with a queued mail (%v), want 117", mails, err)
	}
	if err := openSQL(t).QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1`, a.Tenant.ID).Scan(&mails); err != nil || mails != 117 {
		t.Fatalf("%d mails queued (%v), want 117", mails, err)
	}
	if page, _ := invitations.FindInvitations(ctx, b.Tenant.ID, roster.InvitationFilter{}); len(page.Items) != 0 {
		t.Fatalf("tenant B sees %d invitations", len(page.Items))
	}
}

// linkMail is an InvitationMail whose body names the token hash, for a
// test to tell the mails of one invitation apart.
func linkMail(inv *roster.Invitation) roster.Email {
	return roster.Email{To: inv.Email, Subject: "Invitation", Body: fmt.Sprintf("link %x", inv.TokenHash)}
}

// outboxRow is an outbox message as a test reads it.
func outboxRow(t *testing.T, tenantID, id string) (status, body string) {
	t.Helper()
	if err := openSQL(t).QueryRow(`SELECT status, body FROM email_outbox WHERE tenant_id = $1 AND id = $2`,
		tenantID, id).Scan(&status, &body); err != nil {
		t.Fatal(err)
	}
	return status, body
}

func TestInvitationMailFollowsTheCurrentToken(t *testing.T) {
	db := MustOpen(t)
	invitations := store.NewInvitationService(db)
	outbox := store.NewEmailOutbox(db)
	a, b := MustTenant(t, db), MustTenant(t, db)
	ctx := context.Background()
	first := newInvitation("sent@example.com")
	inv, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, first, linkMail)
	if err != nil {
		t.Fatal(err)
	}
	// The mail is queued with the invitation, in its transaction.
	if inv.EmailID == nil || inv.MailStatus != roster.EmailPending || inv.SentAt != nil {
		t.Fatalf("created %+v", inv)
	}
	firstMail := *inv.EmailID
	if st, body := outboxRow(t, a.Tenant.ID, firstMail); st != "pending" || body != fmt.Sprintf("link %x", first.TokenHash) {
		t.Fatalf("queued mail %s %q", st, body)
	}

	// A resend cancels the mail with the old link and queues the new one.
	second := []byte(rand.Text())
	renewed, err := invitations.RenewInvitation(ctx, a.Tenant.ID, testActor, inv.ID, second, time.Now().Add(2*time.Hour), linkMail)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.EmailID == nil || *renewed.EmailID == firstMail || renewed.MailStatus != roster.EmailPending {
		t.Fatalf("renewed %+v", renewed)
	}
	if st, body := outboxRow(t, a.Tenant.ID, firstMail); st != "cancelled" || body != "" {
		t.Fatalf("the old link's mail is %s with %q", st, body)
	}
	// A worker that was sending it as it was cancelled does not revive it.
	retry := time.Now()
	if err := outbox.EmailFailed(ctx, &roster.Email{TenantID: a.Tenant.ID, ID: firstMail}, "refused", &retry); err != nil {
		t.Fatal(err)
	}
	if err := outbox.EmailFailed(ctx, &roster.Email{TenantID: a.Tenant.ID, ID: firstMail}, "refused", nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := outboxRow(t, a.Tenant.ID, firstMail); st != "cancelled" {
		t.Fatalf("a failure turned the cancelled mail %s", st)
	}
	if _, err := invitations.FindInvitationByTokenHash(ctx, first.TokenHash); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("the replaced token still finds the invitation: %v", err)
	}

	// Delivered, the invitation reads as sent.
	if err := outbox.EmailSent(ctx, &roster.Email{TenantID: a.Tenant.ID, ID: *renewed.EmailID}); err != nil {
		t.Fatal(err)
	}
	got, err := invitations.FindInvitationByTokenHash(ctx, second)
	if err != nil || got.MailStatus != roster.EmailSent || got.SentAt == nil {
		t.Fatalf("after delivery %+v (%v)", got, err)
	}
	page, err := invitations.FindInvitations(ctx, a.Tenant.ID, roster.InvitationFilter{Status: roster.InvitationPending})
	if err != nil || len(page.Items) != 1 || page.Items[0].MailStatus != roster.EmailSent || page.Items[0].SentAt == nil {
		t.Fatalf("list %+v (%v)", page, err)
	}
	_, err = invitations.RevokeInvitation(ctx, b.Tenant.ID, testActor, inv.ID)
	wantCode(t, err, roster.ENOTFOUND)
	_, err = invitations.RenewInvitation(ctx, b.Tenant.ID, testActor, inv.ID, []byte(rand.Text()), time.Now().Add(time.Hour), linkMail)
	wantCode(t, err, roster.ENOTFOUND)

	// Revoking cancels a mail not yet delivered; a delivered one stays sent.
	if _, err := invitations.RevokeInvitation(ctx, a.Tenant.ID, testActor, inv.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := outboxRow(t, a.Tenant.ID, *renewed.EmailID); st != "sent" {
		t.Fatalf("revoking changed a delivered mail to %s", st)
	}
	queued, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, newInvitation("queued@example.com"), linkMail)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := invitations.RevokeInvitation(ctx, a.Tenant.ID, testActor, queued.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := outboxRow(t, a.Tenant.ID, *queued.EmailID); st != "cancelled" || body != "" || revoked.MailStatus != roster.EmailCancelled {
		t.Fatalf("the revoked invitation's mail is %s with %q", st, body)
	}
}

// TestInvitationQueriesUseIndexes checks the plans of the list and the
// lookups on a tenant with 100,000 invitations, most of them accepted.
func TestInvitationQueriesUseIndexes(t *testing.T) {
	db := MustOpen(t)
	sqlDB := openSQL(t)
	a := MustTenant(t, db)
	// Each with its delivered mail in the outbox, as the service makes them.
	if _, err := sqlDB.Exec(`
		WITH mails AS (
			INSERT INTO email_outbox (tenant_id, id, recipient, subject, body, status, attempts, next_attempt_at, created_at, sent_at)
			SELECT $1, gen_random_uuid(), 'bulk' || i || '@example.com', 'Invitation', '', 'sent', 1, now(), now(), now()
			FROM generate_series(1, 100000) i
			RETURNING id, recipient)
		INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at, email_id)
		SELECT $1, gen_random_uuid(), m.recipient, 'viewer', sha256(('t' || i)::bytea), 'test',
		       now() - i * interval '1 second', now() + interval '1 day',
		       CASE WHEN i % 100 <> 0 THEN now() END, m.id
		FROM mails m, LATERAL (SELECT substring(m.recipient FROM 'bulk(\d+)@')::int AS i) n`, a.Tenant.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(`ANALYZE invitations; ANALYZE email_outbox`); err != nil {
		t.Fatal(err)
	}
	// The queries of store/invitation.go, with the mail of each invitation.
	sel := `SELECT i.id, e.status, e.sent_at FROM invitations i
		LEFT JOIN email_outbox e ON e.tenant_id = i.tenant_id AND e.id = i.email_id WHERE i.tenant_id = '` + a.Tenant.ID + `' `
	for name, query := range map[string]string{
		"pending page": sel + `AND i.accepted_at IS NULL AND i.revoked_at IS NULL
			AND i.expires_at > now() ORDER BY i.created_at DESC, i.id DESC LIMIT 51`,
		"deep page": sel + `
			AND (i.created_at, i.id) < (now() - interval '90000 seconds', 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
			ORDER BY i.created_at DESC, i.id DESC LIMIT 51`,
		"open by email": sel + `AND lower(i.email) = lower('bulk500@example.com')
			AND i.accepted_at IS NULL AND i.revoked_at IS NULL FOR UPDATE OF i`,
		"token": `SELECT i.id, e.status FROM invitations i LEFT JOIN email_outbox e ON e.tenant_id = i.tenant_id AND e.id = i.email_id
			WHERE i.token_hash = sha256('t7'::bytea)`,
	} {
		text := explainAnalyze(t, sqlDB, query)
		t.Logf("%s:\n%s", name, text)
		if strings.Contains(text, "Seq Scan") || strings.Contains(text, "Sort ") || strings.Contains(text, "Rows Removed by Filter") {
			t.Errorf("%s scans, filters or sorts rows it does not return:\n%s", name, text)
		}
	}
}
