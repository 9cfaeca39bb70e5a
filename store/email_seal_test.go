package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/store"
)

func mustBox(t *testing.T, key string) *auth.SecretBox {
	t.Helper()
	box, err := auth.NewSecretBox([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// claimOne claims due mail through db until it finds the message with id,
// and returns it, or nil when it was not handed out.
func claimOne(t *testing.T, db *store.DB, id string) *roster.Email {
	t.Helper()
	msgs, err := store.NewEmailOutbox(db).ClaimEmails(context.Background(), 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func TestInvitationMailIsSealedUntilSent(t *testing.T) {
	db := MustOpen(t)
	db.MailSealer = mustBox(t, "an-encryption-key-of-32-bytes!!!")
	a := MustTenant(t, db)
	invitations := store.NewInvitationService(db)
	ctx := context.Background()
	inv, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, newInvitation("sealed@example.com"), linkMail)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("link %x", inv.TokenHash)
	if _, body := outboxRow(t, a.Tenant.ID, *inv.EmailID); !strings.HasPrefix(body, "sealed:v1:") || strings.Contains(body, "link") {
		t.Fatalf("stored body %q", body)
	}
	// Another process with the same key opens it.
	same := MustOpen(t)
	same.MailSealer = mustBox(t, "an-encryption-key-of-32-bytes!!!")
	if m := claimOne(t, same, *inv.EmailID); m == nil || m.Body != want {
		t.Fatalf("claimed %+v, want the body %q", m, want)
	}

	// With another key (or none) it never opens: the message is dead, not
	// sent as ciphertext and not retried.
	for name, sealer := range map[string]roster.Sealer{"other key": mustBox(t, "another-encryption-key-32-bytes!"), "no key": nil} {
		inv, err := invitations.CreateInvitation(ctx, a.Tenant.ID, testActor, newInvitation(strings.ReplaceAll(name, " ", "")+"@example.com"), linkMail)
		if err != nil {
			t.Fatal(err)
		}
		other := MustOpen(t)
		other.MailSealer = sealer
		if m := claimOne(t, other, *inv.EmailID); m != nil {
			t.Fatalf("%s: claimed %+v", name, m)
		}
		var status, body, lastError string
		if err := openSQL(t).QueryRow(`SELECT status, body, last_error FROM email_outbox WHERE id = $1`, *inv.EmailID).
			Scan(&status, &body, &lastError); err != nil || status != "dead" || body != "" || lastError == "" {
			t.Fatalf("%s: %s %q %q (%v)", name, status, body, lastError, err)
		}
	}
}
