package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/rosterhq/roster"
)

var _ roster.PasskeyFlow = (*Passkeys)(nil)

// Passkeys runs WebAuthn ceremonies (W3C WebAuthn Level 3, through
// go-webauthn) and keeps users' passkeys. Ceremony state lives in the
// database, so any replica finishes what another began: a finish request
// names its ceremony by the challenge in its client data.
type Passkeys struct {
	store  roster.PasskeyService
	users  roster.UserService
	signIn *SignIn
	mfa    *MFA
	wa     *webauthn.WebAuthn

	// CeremonyTTL is how long a begun ceremony may be finished.
	CeremonyTTL time.Duration
	// Now is the clock ceremonies expire by.
	Now func() time.Time
}

// DefaultCeremonyTTL is how long a WebAuthn ceremony may take.
const DefaultCeremonyTTL = 5 * time.Minute

// NewPasskeys returns Passkeys for the relying party cfg. Sign-in with
// passkeys goes through signIn's limits, lockout and tokens, and mfa's
// challenges and mailer.
func NewPasskeys(cfg PasskeyConfig, store roster.PasskeyService, users roster.UserService, signIn *SignIn, mfa *MFA) (*Passkeys, error) {
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: DefaultCeremonyTTL, TimeoutUVD: DefaultCeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: DefaultCeremonyTTL, TimeoutUVD: DefaultCeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn relying party: %w", err)
	}
	return &Passkeys{store: store, users: users, signIn: signIn, mfa: mfa, wa: wa,
		CeremonyTTL: DefaultCeremonyTTL, Now: time.Now}, nil
}

// webauthnUser is a user and their passkeys as go-webauthn sees them. The
// user handle is the user id's 16 bytes: no personal data.
type webauthnUser struct {
	u        *roster.User
	passkeys []*roster.Passkey
	creds    []webauthn.Credential
}

func newWebAuthnUser(u *roster.User, passkeys []*roster.Passkey) *webauthnUser {
	w := &webauthnUser{u: u, passkeys: passkeys}
	for _, p := range passkeys {
		w.creds = append(w.creds, credentialOf(p))
	}
	return w
}

func (w *webauthnUser) WebAuthnID() []byte {
	id := uuid.MustParse(w.u.ID) // ids come from the database
	return id[:]
}

func (w *webauthnUser) WebAuthnName() string { return w.u.Email }

func (w *webauthnUser) WebAuthnDisplayName() string {
	if name := strings.TrimSpace(w.u.GivenName + " " + w.u.FamilyName); name != "" {
		return name
	}
	return w.u.Email
}

func (w *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// credentialOf is a stored passkey as go-webauthn checks it. The clone
// warning is left out, so that the one the library sets means this
// assertion's counter did not advance.
func credentialOf(p *roster.Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID:              p.CredentialID,
		PublicKey:       p.PublicKey,
		AttestationType: p.AttestationType,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: p.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackedUp},
		Authenticator: webauthn.Authenticator{SignCount: p.SignCount},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	if id, err := uuid.Parse(p.AAGUID); err == nil {
		c.Authenticator.AAGUID = id[:]
	}
	return c
}

// descriptors lists passkeys for excludeCredentials or allowCredentials.
func descriptors(passkeys []*roster.Passkey) []protocol.CredentialDescriptor {
	var d []protocol.CredentialDescriptor
	for _, p := range passkeys {
		c := credentialOf(p)
		d = append(d, c.Descriptor())
	}
	return d
}

// storeCeremony keeps sd for the finish, bound as ws says, and answers
// options as the browser takes them.
func (pk *Passkeys) storeCeremony(ctx context.Context, ws *roster.WebAuthnSession, sd *webauthn.SessionData, options any) (json.RawMessage, error) {
	if err := pk.fillCeremony(ws, sd); err != nil {
		return nil, err
	}
	if err := pk.store.CreateWebAuthnSession(ctx, ws); err != nil {
		return nil, err
	}
	return optionsJSON(options)
}

// optionsJSON encodes the options of a ceremony for the browser.
func optionsJSON(options any) (json.RawMessage, error) {
	raw, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("encode webauthn options: %w", err)
	}
	return raw, nil
}

// fillCeremony sets the challenge, state and expiry of ws from sd.
func (pk *Passkeys) fillCeremony(ws *roster.WebAuthnSession, sd *webauthn.SessionData) error {
	raw, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode webauthn session: %w", err)
	}
	ws.Challenge, ws.Data, ws.ExpiresAt = sd.Challenge, raw, pk.Now().Add(pk.CeremonyTTL)
	return nil
}

// takeCeremony takes the tenant's ceremony of kind that the challenge
// answers, bound to userID ("" for none), and decodes it; one that does
// not exist or has expired is errGone.
func (pk *Passkeys) takeCeremony(ctx context.Context, tenantID, kind, userID, challenge string, errGone error) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	ws, err := pk.store.TakeWebAuthnSession(ctx, tenantID, kind, userID, challenge)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return sd, errGone
	} else if err != nil {
		return sd, err
	}
	return pk.sessionData(ws, errGone)
}

// sessionData decodes a ceremony taken from the store; an expired one is
// errGone.
func (pk *Passkeys) sessionData(ws *roster.WebAuthnSession, errGone error) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if !pk.Now().Before(ws.ExpiresAt) {
		return sd, errGone
	}
	if err := json.Unmarshal(ws.Data, &sd); err != nil {
		return sd, fmt.Errorf("decode webauthn session: %w", err)
	}
	return sd, nil
}

// webauthnUserOf returns the user with their passkeys, as go-webauthn
// sees them. ENOTFOUND.
func (pk *Passkeys) webauthnUserOf(ctx context.Context, tenantID, userID string) (*webauthnUser, error) {
	u, err := pk.users.FindUserByID(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	passkeys, err := pk.store.FindPasskeys(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	return newWebAuthnUser(u, passkeys), nil
}

// PasskeyName trims a passkey's name and checks it: 1 to 64 characters,
// none of them a control character. EINVALID naming "name".
func PasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", roster.Invalid(roster.FieldError{Field: "name", Message: "must not hold control characters"})
	case n < 1 || n > 64:
		return "", roster.Invalid(roster.FieldError{Field: "name", Message: "must be 1 to 64 characters (spaces around it are trimmed)"})
	}
	return name, nil
}

// List returns the user's passkeys, oldest first. ENOTFOUND.
func (pk *Passkeys) List(ctx context.Context, tenantID, userID string) ([]*roster.Passkey, error) {
	return pk.store.FindPasskeys(ctx, tenantID, userID)
}

// ListOfUsers returns the passkeys of each of the users, in one read.
func (pk *Passkeys) ListOfUsers(ctx context.Context, tenantID string, userIDs []string) (map[string][]*roster.Passkey, error) {
	return pk.store.FindPasskeysOfUsers(ctx, tenantID, userIDs)
}

// Rename renames one of the user's passkeys. EINVALID naming "name";
// ENOTFOUND.
func (pk *Passkeys) Rename(ctx context.Context, tenantID string, by roster.Actor, userID, id, name string) (*roster.Passkey, error) {
	name, err := PasskeyName(name)
	if err != nil {
		return nil, err
	}
	return pk.store.RenamePasskey(ctx, tenantID, by, userID, id, name)
}

// Remove deletes one of the user's passkeys. When someone else removes it
// (an admin), a mail telling the user goes into the email outbox in the
// transaction of the removal, for the worker to deliver. ENOTFOUND.
func (pk *Passkeys) Remove(ctx context.Context, tenantID string, by roster.Actor, userID, id string) (*roster.Passkey, error) {
	var notice func(*roster.Passkey) roster.Email
	if by.ID != userID {
		notice = pk.removedNotice
	}
	return pk.store.DeletePasskey(ctx, tenantID, by, userID, id, notice)
}

// removedNotice is the mail telling a user that an administrator removed
// their passkey p.
func (pk *Passkeys) removedNotice(p *roster.Passkey) roster.Email {
	return roster.Email{
		Subject: "A passkey was removed from your " + pk.mfa.TOTPIssuer + " account",
		Body: fmt.Sprintf("An administrator removed the passkey %q from your %s account. "+
			"It can no longer be used to sign in. If you did not expect this, contact your administrator.\n", p.Name, pk.mfa.TOTPIssuer),
	}
}
