package flow_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/notify"
	"github.com/rosterhq/roster/store"
)

// heldMailer holds each message until the test lets it go, then delivers
// or refuses it: a mail server as slow as the test wants.
type heldMailer struct {
	arrived chan notify.Message
	release chan error
}

func newHeldMailer() *heldMailer {
	return &heldMailer{arrived: make(chan notify.Message, 1), release: make(chan error, 1)}
}

func (m *heldMailer) Send(ctx context.Context, msg notify.Message) error {
	m.arrived <- msg
	select {
	case err := <-m.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestEnrolmentCodeIsSentWithNoRowLocked holds the mail server while an
// email code goes out and, meanwhile, changes the same user's second
// factors: a send inside the code's transaction would block that change
// until the mail server answered. A refused send is withdrawn: nothing
// stays enrolling, and the next code may be asked for at once.
func TestEnrolmentCodeIsSentWithNoRowLocked(t *testing.T) {
	t.Parallel()
	mailer := newHeldMailer()
	f := newFlows(t, app.Config{Mailer: mailer})
	ctx, tenant := t.Context(), f.Tenant.Tenant.ID
	u := f.newUser(t, "slow-mail-"+randomHex(t)+"@example.com", testPassword)
	mfaStore := store.NewMFAService(f.DB)

	send := func() <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := f.MFA.SendEnrolmentCode(ctx, tenant, f.by, u.ID, roster.MFAEmail, "")
			done <- err
		}()
		return done
	}

	done := send()
	<-mailer.arrived
	// The code is out at the mail server, which has not answered: the
	// user's rows must be free.
	locked, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := mfaStore.SetPendingTOTP(locked, tenant, f.by, u.ID, []byte("sealed")); err != nil {
		t.Fatalf("a change to the user's factors waited on the mail server: %v", err)
	}
	mailer.release <- errors.New("451 try again later")
	wantCode(t, <-done, roster.EUNAVAILABLE)
	st, err := mfaStore.FindMFAStatus(ctx, tenant, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Enrolled {
		if m.Type == roster.MFAEmail {
			t.Fatalf("an email code that was never sent left the method behind: %+v", m)
		}
	}

	// The next code may be asked for at once, and this one goes out.
	done = send()
	msg := <-mailer.arrived
	mailer.release <- nil
	if err := <-done; err != nil {
		t.Fatalf("the code after a failed one: %v", err)
	}
	if msg.To != u.Email {
		t.Fatalf("the code went to %q, want %q", msg.To, u.Email)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
	if err := f.MFA.ConfirmCode(ctx, tenant, f.by, u.ID, roster.MFAEmail, code); err != nil {
		t.Fatalf("confirm the code %q of %q: %v", code, msg.Text, err)
	}
	if st, err := mfaStore.FindMFAStatus(ctx, tenant, u.ID); err != nil || !slices.Contains(st.Methods, roster.MFAEmail) {
		t.Fatalf("email is not enabled: %+v %v", st, err)
	}
}
