package flow

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

var _ roster.InvitationFlow = (*Invitations)(nil)

// InvitationTokenPrefix marks invitation tokens, so that secret scanners
// and people can tell one from an API token.
const InvitationTokenPrefix = "riv_"

// DefaultInvitationTTL is how long an invitation link works unless
// ROSTER_INVITATION_TTL says otherwise.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// InvitationAcceptPath is where the accept link points, under the public
// URL: the account page that posts the token to /api/v1/invitations/accept.
const InvitationAcceptPath = "/account/accept"

// Invitations issues invitation tokens, queues the mails with the links
// and turns an accepted invitation into a user. A mail is written to the
// email outbox in the transaction that stores its invitation, and the
// outbox worker delivers it with retries: no request waits on a mail
// server, and no invitation is stored without its mail.
type Invitations struct {
	store     roster.InvitationService
	tenants   roster.TenantService
	passwords roster.PasswordFlow

	PublicURL string        // the base of the accept link
	TTL       time.Duration // how long a link works
	Now       func() time.Time
}

// NewInvitations returns Invitations on store with the default TTL.
func NewInvitations(store roster.InvitationService, tenants roster.TenantService, passwords roster.PasswordFlow, publicURL string) *Invitations {
	return &Invitations{
		store: store, tenants: tenants, passwords: passwords,
		PublicURL: strings.TrimSuffix(publicURL, "/"),
		TTL:       DefaultInvitationTTL,
		Now:       time.Now,
	}
}

// Invite invites email to the tenant in role on behalf of p and queues the
// mail with the link. EINVALID; EFORBIDDEN for a role above the caller's
// own; ECONFLICT when the address is a user's or has a pending invitation.
func (iv *Invitations) Invite(ctx context.Context, p *roster.Principal, by roster.Actor, email, role string) (*roster.Invitation, error) {
	inv, token, err := iv.newInvitation(p, email, role)
	if err != nil {
		return nil, err
	}
	tenant, err := iv.tenants.FindTenantByID(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	return iv.store.CreateInvitation(ctx, p.TenantID, by, inv, iv.mail(tenant, func([]byte) string { return token }))
}

// newInvitation checks an invitation p wants to make and gives it a token.
// EINVALID, EFORBIDDEN.
func (iv *Invitations) newInvitation(p *roster.Principal, email, role string) (*roster.Invitation, string, error) {
	inv := &roster.Invitation{Email: email, Role: role}
	inv.Normalize()
	if err := inv.Validate(); err != nil {
		return nil, "", err
	}
	token, err := auth.NewOpaqueToken(InvitationTokenPrefix)
	if err != nil {
		return nil, "", err
	}
	inv.TokenHash = auth.HashAPIToken(token)
	inv.ExpiresAt = iv.expiry()
	return inv, token, nil
}

// Resend gives a pending or expired invitation a new link, valid for the
// full TTL from now (the old link stops working, and its mail is cancelled
// if it has not gone out), and queues the mail with it. ENOTFOUND;
// ECONFLICT when it was accepted or revoked or the address is now a user's.
func (iv *Invitations) Resend(ctx context.Context, tenantID string, by roster.Actor, id string) (*roster.Invitation, error) {
	token, err := auth.NewOpaqueToken(InvitationTokenPrefix)
	if err != nil {
		return nil, err
	}
	tenant, err := iv.tenants.FindTenantByID(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return iv.store.RenewInvitation(ctx, tenantID, by, id, auth.HashAPIToken(token), iv.expiry(),
		iv.mail(tenant, func([]byte) string { return token }))
}

// expiry is when a link made now stops working, at the database's
// microsecond precision so that the answer matches later reads.
func (iv *Invitations) expiry() time.Time {
	return iv.Now().UTC().Add(iv.TTL).Truncate(time.Microsecond)
}

// mail composes the invitation mails of tenant; token gives the token
// whose hash an invitation carries.
func (iv *Invitations) mail(tenant *roster.Tenant, token func(hash []byte) string) roster.InvitationMail {
	return func(inv *roster.Invitation) roster.Email {
		return iv.message(inv, tenant, token(inv.TokenHash))
	}
}

// AcceptLink is the link an invitation mail carries: the token, and the
// tenant's slug for the page to sign the new user in with.
func (iv *Invitations) AcceptLink(token, tenantSlug string) string {
	return iv.PublicURL + InvitationAcceptPath + "?" + url.Values{"token": {token}, "tenant": {tenantSlug}}.Encode()
}

func (iv *Invitations) message(inv *roster.Invitation, tenant *roster.Tenant, token string) roster.Email {
	text := fmt.Sprintf(`You have been invited to join %s on Roster as %s.

Accept the invitation and choose your password here:
%s

The link works once, until %s. Afterwards, sign in to the organisation %q with %s.
If you did not expect this invitation, ignore this message.`,
		tenant.Name, inv.Role, iv.AcceptLink(token, tenant.Slug), inv.ExpiresAt.UTC().Format("2 January 2006 15:04 MST"),
		tenant.Slug, inv.Email)
	return roster.Email{To: inv.Email, Subject: "You are invited to join " + tenant.Name + " on Roster", Body: text}
}

// Accept creates the invited user, in the invitation's tenant and role,
// with a password that follows the tenant's policy, and marks the
// invitation accepted: once, whatever the races. EGONE for a token that is
// unknown, replaced, accepted, revoked or expired; EINVALID naming the
// fields at fault; ECONFLICT when the user name or address is taken.
func (iv *Invitations) Accept(ctx context.Context, requestID string, a roster.InvitationAcceptance) (*roster.User, error) {
	if !auth.IsOpaqueToken(a.Token, InvitationTokenPrefix) {
		return nil, roster.InvitationGone("")
	}
	hash := auth.HashAPIToken(a.Token)
	inv, err := iv.store.FindInvitationByTokenHash(ctx, hash)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.InvitationGone("")
	} else if err != nil {
		return nil, err
	}
	if st := inv.Status(iv.Now()); st != roster.InvitationPending {
		return nil, roster.InvitationGone(st)
	}
	u := &roster.User{Email: inv.Email, Role: inv.Role,
		UserName: a.UserName, GivenName: a.GivenName, FamilyName: a.FamilyName}
	policy, err := iv.tenants.SecurityPolicy(ctx, inv.TenantID)
	if err != nil {
		return nil, err
	}
	policy.NewUserStatus(u)
	u.Normalize()
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := iv.passwords.SetPassword(ctx, inv.TenantID, u, a.Password); err != nil {
		return nil, err
	}
	_, created, err := iv.store.AcceptInvitation(ctx, hash, requestID, u)
	return created, err
}

// InviteMany invites each row as Invite does, each atomic with its own
// audit event and its queued mail, so one bad row spoils nothing else.
// Rows refused (EINVALID, EFORBIDDEN, ECONFLICT) are reported in failed,
// by row; any other error (the database gone) stops the run and is
// returned, with what was committed before it standing.
func (iv *Invitations) InviteMany(ctx context.Context, p *roster.Principal, by roster.Actor, rows []roster.InviteRow) (created int, failed []roster.InviteFailure, err error) {
	failed = []roster.InviteFailure{}
	fail := func(row roster.InviteRow, msg string) {
		failed = append(failed, roster.InviteFailure{Row: row.Row, Email: row.Email, Error: msg})
	}
	var invs []*roster.Invitation
	var invRows []roster.InviteRow
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
	tenant, err := iv.tenants.FindTenantByID(ctx, p.TenantID)
	if err != nil {
		return 0, failed, err
	}
	errs, err := iv.store.CreateInvitations(ctx, p.TenantID, by, invs,
		iv.mail(tenant, func(hash []byte) string { return tokens[string(hash)] }))
	if err != nil {
		return 0, failed, err
	}
	for i, rowErr := range errs {
		if rowErr != nil {
			fail(invRows[i], rowError(rowErr))
		} else {
			created++
		}
	}
	slices.SortFunc(failed, func(a, b roster.InviteFailure) int { return a.Row - b.Row })
	return created, failed, nil
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
