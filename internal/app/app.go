// Package app wires Roster's parts into the running service: the stores on
// one database, the credential primitives, the flows, the REST and SCIM
// trees and the background worker. `roster serve` and every test that
// needs the whole service build it here, so the tests run what ships.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/graphql"
	"github.com/rosterhq/roster/internal/ratelimit"
	"github.com/rosterhq/roster/notify"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/worker"
)

// Config is what the service is built from. Zero values take the
// defaults.
type Config struct {
	// PublicURL is the service's base URL: the issuer of its tokens, the
	// base of the links in its mails, and the default WebAuthn origin.
	PublicURL string
	// EncryptionKey (32 bytes) seals secrets at rest and keys the
	// recovery codes' hashes.
	EncryptionKey []byte
	// JWT accepts an identity provider's tokens; nil accepts none.
	JWT *auth.JWTConfig

	// SCIMRate is the SCIM requests a second one token may make; 0 sets
	// no limit.
	SCIMRate float64
	// SignInRate throttles sign-in; zero fields take
	// flow.DefaultSignInRate's.
	SignInRate    flow.SignInRate
	StepUpMaxAge  time.Duration
	InvitationTTL time.Duration
	MaxBodyBytes  int64
	// SignUp opens POST /api/v1/signup (ROSTER_SIGNUP=open).
	SignUp bool
	// GraphQL bounds what one GraphQL request may ask for; zero fields
	// take graphql's defaults.
	GraphQL graphql.Limits

	// The WebAuthn relying party; "" derives it from PublicURL.
	WebAuthnRPID, WebAuthnRPName, WebAuthnOrigins string

	// Mailer and SMS deliver mail and text messages; nil leaves a channel
	// unavailable.
	Mailer notify.Mailer
	SMS    notify.SMSSender

	// Resolver looks up the TXT records that prove a tenant's domains;
	// nil is the system's.
	Resolver flow.Resolver
	// SSOClient reaches identity providers; nil takes a client with a
	// 10-second timeout.
	SSOClient *http.Client
	// Webhooks shapes webhook delivery: which addresses it may reach
	// (ROSTER_WEBHOOK_ALLOW_LOOPBACK), and a resolver and dialer of a
	// test's own.
	Webhooks notify.HookConfig

	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (ROSTER_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix

	Worker worker.Config
	Log    *slog.Logger
	// Now is the clock of every flow; nil is time.Now.
	Now func() time.Time
}

// App is the service, built. Handler serves every route; Worker runs jobs
// and delivers mail once started. The flows are the ones Handler calls,
// exposed so that tests can reach past HTTP (a clock to move, a mailer to
// swap).
type App struct {
	Handler http.Handler
	Worker  *worker.Worker

	SignIn      *flow.SignIn
	Passwords   *flow.Passwords
	MFA         *flow.MFA
	Passkeys    *flow.Passkeys
	Invitations *flow.Invitations
	SetupLinks  *flow.SetupLinks
	Resets      *flow.PasswordResets
	SignUps     *flow.SignUps
	SSO         *flow.SSO
	Domains     *flow.Domains
	Keys        *auth.Keyring
	Auth        *auth.Authenticator
	SCIM        *scim.Server
	API         *api.Server
	GraphQL     *graphql.Server

	jwt *auth.JWTVerifier
}

// recoveryCodesKeyPurpose derives the recovery codes' HMAC key from the
// encryption key. Changing it invalidates every stored recovery code.
const recoveryCodesKeyPurpose = "roster recovery codes"

// New builds the service on db, making a first signing key when there is
// none.
func New(ctx context.Context, db *store.DB, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	box, err := auth.NewSecretBox(cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	codes, err := auth.NewCodeHasher(auth.DeriveKey(cfg.EncryptionKey, recoveryCodesKeyPurpose))
	if err != nil {
		return nil, err
	}
	a := &App{}
	db.MailSealer = box // invitation links wait in the outbox sealed

	a.Keys = auth.NewKeyring(store.NewSigningKeyService(db), box)
	if err := a.Keys.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	issuer := auth.NewIssuer(a.Keys, cfg.PublicURL, 0)
	own, err := issuer.Verifier(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.JWT != nil {
		jwtConfig := *cfg.JWT
		jwtConfig.Logger = cfg.Log
		if a.jwt, err = auth.NewJWTVerifier(ctx, jwtConfig); err != nil {
			return nil, fmt.Errorf("JWT verifier: %w", err)
		}
	}
	users, tenants, logins, tokens := store.NewUserService(db), store.NewTenantService(db), store.NewLoginService(db), store.NewTokenService(db)
	a.Auth = auth.NewAuthenticator(tokens, a.jwt, cfg.Log)
	access := store.NewAccessService(db)
	a.Auth.Now = cfg.Now
	a.Auth.TrustOwnTokens(issuer.URL(), own, access)

	if err := a.buildFlows(db, cfg, issuer, box, codes); err != nil {
		return nil, err
	}

	guard := flow.NewNetworkGuard(a.Auth, tenants)
	a.SCIM = &scim.Server{
		Users:     users,
		Groups:    store.NewGroupService(db),
		Auth:      guard,
		Log:       cfg.Log,
		Passwords: a.Passwords,
	}
	if cfg.SCIMRate > 0 {
		a.SCIM.Limiter = ratelimit.New(cfg.SCIMRate, int(math.Ceil(cfg.SCIMRate)))
	}
	scimHandler, err := a.SCIM.Handler()
	if err != nil {
		return nil, fmt.Errorf("SCIM server: %w", err)
	}
	a.GraphQL = &graphql.Server{
		Users:       users,
		Logins:      logins,
		Sessions:    store.NewSessionService(db),
		Audit:       store.NewAuditService(db),
		Bulk:        store.NewBulkService(db, cfg.PublicURL),
		Stats:       store.NewStatsService(db),
		Groups:      store.NewGroupService(db),
		SignIn:      a.SignIn,
		Passwords:   a.Passwords,
		MFA:         a.MFA,
		Passkeys:    a.Passkeys,
		Invitations: a.Invitations,
		Limits:      cfg.GraphQL,
		Log:         cfg.Log,
		Now:         cfg.Now,
	}
	a.API = &api.Server{
		GraphQL:        a.GraphQL.Handler(),
		GraphQLSchema:  graphql.Schema(),
		Users:          users,
		Audit:          store.NewAuditService(db),
		Tokens:         tokens,
		APIKeys:        tokens,
		Tenants:        tenants,
		Logins:         logins,
		Sessions:       store.NewSessionService(db),
		SignIns:        store.NewSignInHistoryService(db),
		Bulk:           store.NewBulkService(db, cfg.PublicURL),
		Stats:          store.NewStatsService(db),
		Export:         users,
		SignIn:         a.SignIn,
		Passwords:      a.Passwords,
		MFA:            a.MFA,
		Passkeys:       a.Passkeys,
		Invitations:    a.Invitations,
		SetupLinks:     a.SetupLinks,
		PasswordResets: a.Resets,
		SignUps:        a.SignUps,
		SSO:            a.SSO,
		Domains:        a.Domains,
		Console:        console.Handler(),
		Keys:           a.Keys,
		Issuer:         issuer.URL(),
		Auth:           guard,
		TrustedProxies: cfg.TrustedProxies,
		SCIM:           scimHandler,
		Ready:          db.Ping,
		OpenAPI:        roster.OpenAPI,
		Log:            cfg.Log,
		StepUpMaxAge:   a.SignIn.StepUpMaxAge,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Now:            cfg.Now,
	}
	a.API.Webhooks, a.API.Events = store.NewWebhookService(db, box), store.NewEventService(db)
	a.API.Privacy = store.NewPrivacyService(db)
	a.API.Roles, a.API.Access = store.NewRoleService(db), access
	a.API.Groups = store.NewGroupService(db)
	a.API.Teams = store.NewTeamService(db)
	a.API.ServiceTokens = store.NewServiceTokenService(db, box)
	a.Handler = a.API.Handler()

	a.Worker = worker.New(store.NewJobRunner(db, cfg.PublicURL), store.NewEmailOutbox(db), cfg.Log, cfg.Worker)
	a.Worker.Mailer = cfg.Mailer
	a.Worker.Webhooks = store.NewWebhookOutbox(db, box)
	a.Worker.Hooks = notify.NewHookSender(cfg.Webhooks)
	a.Worker.Reminders = store.NewCredentialReminders(db)
	a.Worker.Grants = store.NewGrantExpiries(db)
	a.Worker.Purger = store.NewPurgeService(db)
	return a, nil
}

// buildFlows makes the sign-in, password, MFA, passkey, invitation and
// setup link flows over db's stores.
func (a *App) buildFlows(db *store.DB, cfg Config, issuer *auth.Issuer, box *auth.SecretBox, codes *auth.CodeHasher) error {
	users, tenants, logins := store.NewUserService(db), store.NewTenantService(db), store.NewLoginService(db)
	passkeyStore := store.NewPasskeyService(db)

	a.Passwords = flow.NewPasswords(logins, tenants)
	a.Passwords.Now = cfg.Now

	a.MFA = flow.NewMFA(store.NewMFAService(db), passkeyStore, users, tenants, box, codes)
	a.MFA.Mailer, a.MFA.SMS, a.MFA.Log, a.MFA.Now = cfg.Mailer, cfg.SMS, cfg.Log, cfg.Now

	a.SignIn = flow.NewSignIn(users, logins, store.NewSessionService(db), tenants, issuer, a.MFA,
		store.NewSignInFailureService(db), cfg.SignInRate)
	a.SignIn.Now = cfg.Now
	if cfg.StepUpMaxAge > 0 {
		a.SignIn.StepUpMaxAge = cfg.StepUpMaxAge
	}

	rp, err := flow.NewPasskeyConfig(cfg.PublicURL, cfg.WebAuthnRPID, cfg.WebAuthnRPName, cfg.WebAuthnOrigins)
	if err != nil {
		return err
	}
	if a.Passkeys, err = flow.NewPasskeys(rp, passkeyStore, users, a.SignIn, a.MFA); err != nil {
		return err
	}
	a.Passkeys.Now = cfg.Now

	a.Invitations = flow.NewInvitations(store.NewInvitationService(db), tenants, a.Passwords, cfg.PublicURL)
	a.Invitations.Now = cfg.Now
	if cfg.InvitationTTL > 0 {
		a.Invitations.TTL = cfg.InvitationTTL
	}

	a.SetupLinks = flow.NewSetupLinks(store.NewSetupLinkService(db), a.Passwords)
	a.SetupLinks.Now = cfg.Now
	a.Resets = flow.NewPasswordResets(store.NewSetupLinkService(db), users, tenants, cfg.PublicURL)
	a.Resets.Now = cfg.Now
	a.SignUps = flow.NewSignUps(cfg.SignUp, tenants, store.NewSignUpService(db), a.Passwords, cfg.PublicURL)
	a.SignUps.Now = cfg.Now
	return a.buildSSO(db, cfg, box)
}

// buildSSO makes the single sign-on and domain flows.
func (a *App) buildSSO(db *store.DB, cfg Config, box *auth.SecretBox) error {
	var err error
	a.SSO, err = flow.NewSSO(store.NewSSOService(db), store.NewUserService(db), store.NewTenantService(db), a.SignIn, box,
		cfg.EncryptionKey, cfg.PublicURL)
	if err != nil {
		return err
	}
	a.SSO.Log, a.SSO.Now = cfg.Log, cfg.Now
	a.SignIn.SSO = store.NewSSOService(db)
	if cfg.SSOClient != nil {
		a.SSO.HTTPClient = cfg.SSOClient
	}
	a.Domains = flow.NewDomains(store.NewDomainService(db), cfg.Resolver)
	return nil
}

// Close stops the worker and releases the identity provider's key set.
func (a *App) Close() error {
	a.Worker.Stop()
	if a.jwt != nil {
		return a.jwt.Close()
	}
	return nil
}
