package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/notify"
)

// InvitationTokenPrefix marks invitation tokens, so that secret scanners
// and people can tell one from an API token.
const InvitationTokenPrefix = "riv_"

// DefaultInvitationTTL is how long an invitation link works unless
// ROSTER_INVITATION_TTL says otherwise.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// InvitationAcceptPath is where the accept link points, under the public
// URL: the account page that posts the token to /api/v1/invitations/accept.
const InvitationAcceptPath = "/account/accept"

// PasswordPolicies gives a tenant's password rules; *SignIn is one.
type PasswordPolicies interface {
	PasswordPolicy(ctx context.Context, tenantID string) (*PasswordPolicy, error)
}

// Invitations issues invitation tokens, mails the links and turns an
// accepted invitation into a user. Mail goes out after the invitation is
// stored, never inside its transaction, and a failed send loses nothing:
// sent_at stays empty and the invitation can be resent.
type Invitations struct {
	store     roster.InvitationService
	tenants   roster.TenantService
	passwords PasswordPolicies

	// Mailer sends the links; nil stores invitations without mailing them
	// (and resending answers EUNAVAILABLE). The lead may put a retrying
	// queue behind this interface.
	Mailer    notify.Mailer
	PublicURL string        // the base of the accept link
	TTL       time.Duration // how long a link works
	Now       func() time.Time
	Log       *slog.Logger

	background sync.WaitGroup // the mails of bulk requests
}

// NewInvitations returns Invitations on store with the default TTL, no
// mailer and a discarding logger.
func NewInvitations(store roster.InvitationService, tenants roster.TenantService, passwords PasswordPolicies, publicURL string) *Invitations {
	return &Invitations{
		store: store, tenants: tenants, passwords: passwords,
		PublicURL: strings.TrimSuffix(publicURL, "/"),
		TTL:       DefaultInvitationTTL,
		Now:       time.Now,
		Log:       slog.New(slog.DiscardHandler),
	}
}

// Invite invites email to the tenant in role on behalf of p and mails the
// link. A failed mail leaves the invitation stored with SentAt nil.
// EINVALID; EFORBIDDEN for a role above the caller's own; ECONFLICT when
// the address is a user's or has a pending invitation.
func (iv *Invitations) Invite(ctx context.Context, p *roster.Principal, by roster.Actor, email, role string) (*roster.Invitation, error) {
	inv, token, err := iv.newInvitation(p, email, role)
	if err != nil {
		return nil, err
	}
	created, err := iv.store.CreateInvitation(ctx, p.TenantID, by, inv)
	if err != nil {
		return nil, err
	}
	if err := iv.send(ctx, created, nil, token); err != nil {
		iv.Log.WarnContext(ctx, "could not mail an invitation; it can be resent", "invitation_id", created.ID,
			"to", notify.MaskEmail(created.Email), "err", err)
	}
	return created, nil
}

// newInvitation checks an invitation p wants to make and gives it a token.
// EINVALID, EFORBIDDEN.
func (iv *Invitations) newInvitation(p *roster.Principal, email, role string) (*roster.Invitation, string, error) {
	inv := &roster.Invitation{Email: email, Role: role}
	inv.Normalize()
	if err := inv.Validate(); err != nil {
		return nil, "", err
	}
	if roster.RoleRank(inv.Role) > roster.RoleRank(roster.HighestRole(p.Roles)) {
		return nil, "", roster.Errorf(roster.EFORBIDDEN, "you cannot invite someone as %s, a role above your own", inv.Role)
	}
	token, err := newOpaqueToken(InvitationTokenPrefix)
	if err != nil {
		return nil, "", err
	}
	inv.TokenHash = HashAPIToken(token)
	inv.ExpiresAt = iv.expiry()
	return inv, token, nil
}

// Resend gives a pending or expired invitation a new link, valid for the
// full TTL from now (the old link stops working), and mails it.
// ENOTFOUND; ECONFLICT when it was accepted or revoked or the address is
// now a user's; EUNAVAILABLE when the mail could not be sent (the new
// link is then unsent, and resending again is safe).
func (iv *Invitations) Resend(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Invitation, error) {
	token, err := newOpaqueToken(InvitationTokenPrefix)
	if err != nil {
		return nil, err
	}
	inv, err := iv.store.RenewInvitation(ctx, tenantID, by, id, HashAPIToken(token), iv.expiry())
	if err != nil {
		return nil, err
	}
	if err := iv.send(ctx, inv, nil, token); err != nil {
		iv.Log.WarnContext(ctx, "could not mail an invitation", "invitation_id", inv.ID,
			"to", notify.MaskEmail(inv.Email), "err", err)
		return nil, roster.Errorf(roster.EUNAVAILABLE, "the invitation has a new link but the mail could not be sent: try again later")
	}
	return inv, nil
}

// expiry is when a link made now stops working, at the database's
// microsecond precision so that the answer matches later reads.
func (iv *Invitations) expiry() time.Time {
	return iv.Now().UTC().Add(iv.TTL).Truncate(time.Microsecond)
}

// send mails the link with token and records SentAt on inv and in the
// store. tenant is inv's, or nil to read it.
func (iv *Invitations) send(ctx context.Context, inv *roster.Invitation, tenant *roster.Tenant, token string) error {
	if iv.Mailer == nil {
		return fmt.Errorf("no mail sender is configured")
	}
	if tenant == nil {
		var err error
		if tenant, err = iv.tenants.FindTenantByID(ctx, inv.TenantID); err != nil {
			return fmt.Errorf("read tenant: %w", err)
		}
	}
	if err := iv.Mailer.Send(ctx, iv.message(inv, tenant, token)); err != nil {
		return err
	}
	now := iv.Now().UTC().Truncate(time.Microsecond)
	if err := iv.store.MarkInvitationSent(ctx, inv.TenantID, inv.ID, inv.TokenHash, now); err != nil {
		return fmt.Errorf("record the mail as sent: %w", err)
	}
	inv.SentAt = &now
	return nil
}

// sendLater mails the links of a bulk request after the answer, one after
// the other, so that thousands of mails do not hold the request open; a
// mail that fails leaves its invitation unsent, to be resent.
func (iv *Invitations) sendLater(ctx context.Context, tenantID string, mails []pendingMail) {
	if len(mails) == 0 {
		return
	}
	if iv.Mailer == nil {
		iv.Log.WarnContext(ctx, "no mail sender is configured: invitations stored unsent", "count", len(mails))
		return
	}
	ctx = context.WithoutCancel(ctx) // the request ends before the mails do
	iv.background.Add(1)
	go func() {
		defer iv.background.Done()
		tenant, err := iv.tenants.FindTenantByID(ctx, tenantID)
		if err != nil {
			iv.Log.WarnContext(ctx, "could not mail invitations", "count", len(mails), "err", err)
			return
		}
		unsent := 0
		for _, m := range mails {
			if err := iv.send(ctx, m.inv, tenant, m.token); err != nil {
				unsent++
				iv.Log.WarnContext(ctx, "could not mail an invitation; it can be resent", "invitation_id", m.inv.ID,
					"to", notify.MaskEmail(m.inv.Email), "err", err)
			}
		}
		iv.Log.InfoContext(ctx, "invitations mailed", "sent", len(mails)-unsent, "unsent", unsent)
	}()
}

// pendingMail is an invitation stored and the token its mail carries.
type pendingMail struct {
	inv   *roster.Invitation
	token string
}

// Wait returns when the mails of bulk requests in flight have gone out (or
// failed), or when ctx ends.
func (iv *Invitations) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { iv.background.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AcceptLink is the link an invitation mail carries: the token, and the
// tenant's slug for the page to sign the new user in with.
func (iv *Invitations) AcceptLink(token, tenantSlug string) string {
	return iv.PublicURL + InvitationAcceptPath + "?" + url.Values{"token": {token}, "tenant": {tenantSlug}}.Encode()
}

func (iv *Invitations) message(inv *roster.Invitation, tenant *roster.Tenant, token string) notify.Message {
	text := fmt.Sprintf(`You have been invited to join %s on Roster as %s.

Accept the invitation and choose your password here:
%s

The link works once, until %s. Afterwards, sign in to the organisation %q with %s.
If you did not expect this invitation, ignore this message.`,
		tenant.Name, inv.Role, iv.AcceptLink(token, tenant.Slug), inv.ExpiresAt.UTC().Format("2 January 2006 15:04 MST"),
		tenant.Slug, inv.Email)
	return notify.Message{To: inv.Email, Subject: "You are invited to join " + tenant.Name + " on Roster", Text: text}
}

// Acceptance is what an invitee sends to accept: the token from the link,
// a password, and optionally their names. UserName defaults to the
// invited email.
type Acceptance struct {
	Token, Password, UserName, GivenName, FamilyName string
}

// Accept creates the invited user, in the invitation's tenant and role,
// with a password that follows the tenant's policy, and marks the
// invitation accepted: once, whatever the races. EGONE for a token that is
// unknown, replaced, accepted, revoked or expired; EINVALID naming the
// fields at fault; ECONFLICT when the user name or address is taken.
func (iv *Invitations) Accept(ctx context.Context, requestID string, a Acceptance) (*roster.User, error) {
	if !strings.HasPrefix(a.Token, InvitationTokenPrefix) || len(a.Token) != len(InvitationTokenPrefix)+tokenSecretLen {
		return nil, roster.InvitationGone("")
	}
	hash := HashAPIToken(a.Token)
	inv, err := iv.store.FindInvitationByTokenHash(ctx, hash)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.InvitationGone("")
	} else if err != nil {
		return nil, err
	}
	if st := inv.Status(iv.Now()); st != roster.InvitationPending {
		return nil, roster.InvitationGone(st)
	}
	u := &roster.User{Email: inv.Email, Role: inv.Role, Active: true,
		UserName: a.UserName, GivenName: a.GivenName, FamilyName: a.FamilyName}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return nil, err
	}
	rules, err := iv.passwords.PasswordPolicy(ctx, inv.TenantID)
	if err != nil {
		return nil, err
	}
	if err := rules.Check(a.Password, u.Email, u.UserName); err != nil {
		return nil, err
	}
	if u.SetPasswordHash, err = HashPassword(a.Password); err != nil {
		return nil, err
	}
	_, created, err := iv.store.AcceptInvitation(ctx, hash, requestID, u)
	return created, err
}

// InviteRow is one invitation of a bulk request; Row numbers it for the
// answer. A row with a Problem found while reading it fails with it.
type InviteRow struct {
	Row         int
	Email, Role string
	Problem     string
}

// InviteFailure says why one row of a bulk request made no invitation.
type InviteFailure struct {
	Row   int    `json:"row"`
	Email string `json:"email"`
	Error string `json:"error"`
}

// InviteMany invites each row as Invite does, each atomic with its own
// audit event, so one bad row spoils nothing else; the mails go out in the
// background after the invitations are committed (Wait waits for them).
// Rows refused (EINVALID, EFORBIDDEN, ECONFLICT) are reported in failed, by
// row; any other error (the database gone) stops the run and is returned,
// with what was committed before it standing.
func (iv *Invitations) InviteMany(ctx context.Context, p *roster.Principal, by roster.Actor, rows []InviteRow) (created int, failed []InviteFailure, err error) {
	failed = []InviteFailure{}
	fail := func(row InviteRow, msg string) {
		failed = append(failed, InviteFailure{Row: row.Row, Email: row.Email, Error: msg})
	}
	var invs []*roster.Invitation
	var invRows []InviteRow
	tokens := map[string]string{} // token hash -> token
	for _, row := range rows {
		if row.Problem != "" {
			fail(row, row.Problem)
			continue
		}
		inv, token, err := iv.newInvitation(p, row.Email, row.Role)
		switch roster.ErrorCode(err) {
		case "":
			invs, invRows = append(invs, inv), append(invRows, row)
			tokens[string(inv.TokenHash)] = token
		case roster.EINVALID, roster.EFORBIDDEN:
			fail(row, rowError(err))
		default:
			return 0, failed, err
		}
	}
	var mails []pendingMail
	errs, err := iv.store.CreateInvitations(ctx, p.TenantID, by, invs, func(batch []*roster.Invitation) {
		for _, inv := range batch {
			mails = append(mails, pendingMail{inv: inv, token: tokens[string(inv.TokenHash)]})
		}
	})
	iv.sendLater(ctx, p.TenantID, mails)
	for i, rowErr := range errs {
		if rowErr != nil {
			fail(invRows[i], rowError(rowErr))
		}
	}
	slices.SortFunc(failed, func(a, b InviteFailure) int { return a.Row - b.Row })
	return len(mails), failed, err
}

// rowError is err's message, with each field at fault named.
func rowError(err error) string {
	fields := roster.ErrorFields(err)
	if len(fields) == 0 {
		return roster.ErrorMessage(err)
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Field + " " + f.Message
	}
	return strings.Join(parts, "; ")
}

// FindInvitations returns a page of the tenant's invitations. EINVALID.
func (iv *Invitations) FindInvitations(ctx context.Context, tenantID string, f roster.InvitationFilter) (*roster.InvitationPage, error) {
	return iv.store.FindInvitations(ctx, tenantID, f)
}

// Revoke stops a pending or expired invitation. ENOTFOUND, ECONFLICT.
func (iv *Invitations) Revoke(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Invitation, error) {
	return iv.store.RevokeInvitation(ctx, tenantID, by, id)
}
