// Package api is Roster's REST adapter: a chi router whose handlers decode
// requests, call the root package's services and encode problem+json errors.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// Server holds what the REST handlers need: the root package's services
// and flows, nothing of how they are made. Fill every field, then serve
// Handler().
type Server struct {
	Users    roster.UserService
	Audit    roster.AuditService
	Tokens   roster.TokenService
	Tenants  roster.TenantService
	Logins   roster.LoginService
	Sessions roster.SessionService
	SignIns  roster.SignInHistoryService
	Bulk     roster.BulkService
	Stats    roster.StatsService
	Export   roster.UserExportService
	Webhooks roster.WebhookService
	Events   roster.EventService
	Privacy  roster.PrivacyService
	Roles    roster.RoleService
	Groups   roster.GroupService // SCIM's groups, read-only here
	Access   roster.AccessService
	Teams    roster.TeamService
	APIKeys  roster.APIKeyService
	// ServiceTokens is the vault of users' tokens for other services.
	ServiceTokens roster.ServiceTokenService

	SignIn      roster.SignInFlow
	Passwords   roster.PasswordFlow
	MFA         roster.MFAFlow
	Passkeys    roster.PasskeyFlow
	Invitations roster.InvitationFlow
	SetupLinks  roster.SetupLinkFlow
	SSO         roster.SSOFlow
	Domains     roster.DomainFlow

	PasswordResets roster.PasswordResetFlow
	SignUps        roster.SignUpFlow

	Keys    roster.JWKSource // Roster's own signing keys, published as the JWKS
	Issuer  string           // the issuer of Roster's own tokens: its public URL
	Auth    roster.Authenticator
	Ready   func(ctx context.Context) error // reports whether the database answers
	OpenAPI []byte                          // the contract, served at /openapi.yaml
	SCIM    http.Handler                    // the SCIM 2.0 tree, mounted at /scim/v2 when set
	Log     *slog.Logger

	// Console is the admin console, mounted at /console (and / redirects
	// there) when set.
	Console http.Handler
	// GraphQL is the GraphQL adapter, mounted at /graphql behind the same
	// authentication as the REST API when set; GraphQLSchema is its SDL,
	// served at /graphql/schema.graphql as the contract is at /openapi.yaml.
	GraphQL       http.Handler
	GraphQLSchema []byte

	// StepUpMaxAge is how recent a sign-in must be for the changes that
	// need a step-up; the answers that ask for one say so.
	StepUpMaxAge time.Duration
	// TrustedProxies are the proxies (ROSTER_TRUSTED_PROXIES) whose
	// X-Forwarded-For is believed; none: the peer is the client.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes limits request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Now is the clock invitation statuses are read at.
	Now func() time.Time
}

// DefaultMaxBodyBytes is the request body limit when none is configured.
const DefaultMaxBodyBytes = 1 << 20

// Handler returns the routing tree, as a chi.Router so that tests can walk
// its routes.
func (s *Server) Handler() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.logRequests, s.recoverPanics)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, roster.Errorf(roster.ENOTFOUND, "no such endpoint"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem{Type: "about:blank", Title: "Method Not Allowed", Status: http.StatusMethodNotAllowed,
			Detail: "the endpoint does not support " + r.Method, Instance: r.URL.Path, Code: "method_not_allowed",
			RequestID: roster.RequestIDFromContext(r.Context())})
	})

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/openapi.yaml", s.openapi)
	r.Get("/.well-known/jwks.json", s.jwks)
	r.Get("/.well-known/openid-configuration", s.openIDConfiguration)
	r.Get("/account", s.accountPage)
	r.Get("/account/accept", s.accountPage)
	r.Get("/account/reset", s.accountPage)
	r.Get("/account/verify", s.accountPage)
	r.Get("/account/signup", s.accountPage)
	r.Get("/account/{file}", s.accountAsset)
	if s.SCIM != nil {
		r.Mount("/scim/v2", s.SCIM)
	}
	if s.GraphQL != nil {
		r.Route("/graphql", func(r chi.Router) {
			r.Get("/schema.graphql", s.graphQLSchema)
			r.With(s.authenticate).Handle("/", s.GraphQL)
		})
	}
	if s.Console != nil {
		r.With(pageHeaders).Mount("/console", s.Console)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/console", http.StatusFound)
		})
	}

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.limitBody, s.decodableQuery, s.queryOnlyOnReads)
		r.Post("/auth/login", s.login)
		r.Post("/auth/refresh", s.refresh)
		r.Post("/auth/logout", s.logout)
		r.Post("/auth/mfa/verify", s.verifyMFA)
		r.Post("/auth/mfa/challenge", s.sendMFAChallengeCode)
		r.Post("/invitations/accept", s.acceptInvitation) // the token is the credential
		r.Post("/admin-setup/accept", s.acceptSetupLink)  // so is this one
		r.Post("/auth/password-reset", s.requestPasswordReset)
		r.Post("/auth/password-reset/confirm", s.confirmPasswordReset) // the link's token is the credential
		r.Get("/signup", s.getSignUp)
		r.Post("/signup", s.signUp)
		r.Post("/auth/verify-email", s.verifyEmail) // the link's token is the credential
		r.Post("/auth/verify-email/resend", s.resendVerification)
		r.Post("/auth/passkey/begin", s.beginPasskeyLogin)
		r.Post("/auth/passkey/finish", s.finishPasskeyLogin)
		r.Post("/auth/mfa/passkey/begin", s.beginPasskeyMFA)
		r.Post("/auth/mfa/passkey/finish", s.finishPasskeyMFA)
		s.ssoSignInRoutes(r)
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate)
			s.authenticatedRoutes(r)
		})
	})
	return r
}

// authenticatedRoutes are the routes that need a credential, each with the
// permission it needs (requireScoped where a team admin reaches the
// members of their teams without it), and the step-up where a change
// needs a recent, strong sign-in.
func (s *Server) authenticatedRoutes(r chi.Router) {
	// An enrolment-only token reaches these and nothing else.
	r.With(s.noQuery).Get("/me", s.me)
	r.Post("/auth/step-up", s.stepUp)
	// A user's own second factors: any signed-in user, no permission.
	r.Route("/me/mfa", func(r chi.Router) {
		stepUp := s.selfStepUp()
		r.With(stepUp).Post("/totp", s.enrolTOTP)
		r.With(stepUp).Delete("/totp", s.removeTOTP)
		r.With(stepUp).Post("/totp/verify", s.confirmTOTP)
		r.With(stepUp).Post("/email", s.enrolEmail)
		r.With(stepUp).Delete("/email", s.removeEmail)
		r.With(stepUp).Post("/email/verify", s.confirmEmail)
		r.With(stepUp).Post("/sms", s.enrolSMS)
		r.With(stepUp).Delete("/sms", s.removeSMS)
		r.With(stepUp).Post("/sms/verify", s.confirmSMS)
		r.With(stepUp).Post("/recovery-codes", s.createRecoveryCodes)
		r.Put("/default", s.setMFADefault)
		r.With(stepUp).Delete("/{method}", s.removeMFAMethod)
	})
	s.passkeyRoutes(r)
	r.Group(func(r chi.Router) {
		r.Use(s.refuseEnrolmentOnly)
		s.fullRoutes(r)
	})
}

// passkeyRoutes are a user's own passkeys and the passkey step-up, which
// an enrolment-only token reaches too, as it does /me/mfa.
func (s *Server) passkeyRoutes(r chi.Router) {
	r.Post("/auth/step-up/passkey/begin", s.beginPasskeyStepUp)
	r.Post("/auth/step-up/passkey/finish", s.finishPasskeyStepUp)
	r.Route("/me/passkeys", func(r chi.Router) {
		stepUp := s.selfStepUp()
		r.With(s.noQuery).Get("/", s.listMyPasskeys)
		r.With(stepUp).Post("/register/begin", s.beginPasskeyRegistration)
		r.With(stepUp).Post("/register/finish", s.finishPasskeyRegistration)
		r.Patch("/{id}", s.renameMyPasskey)
		r.With(stepUp).Delete("/{id}", s.removeMyPasskey)
	})
}

// fullRoutes are the authenticated routes an enrolment-only token may not
// reach.
func (s *Server) fullRoutes(r chi.Router) {
	r.With(s.selfStepUp()).Put("/me/password", s.changePassword)
	r.With(s.noQuery).Get("/me/sessions", s.listMySessions)
	r.Delete("/me/sessions", s.endMyOtherSessions)
	r.Delete("/me/sessions/{sid}", s.endMySession)
	r.With(s.noQuery).Get("/me/data-export", s.exportMyData)
	r.Get("/me/sign-ins", s.listMySignIns)
	r.Route("/users", func(r chi.Router) {
		r.With(s.requireScoped(roster.PermUsersRead)).Get("/", s.listUsers)
		r.With(s.requireScoped(roster.PermUsersRead)).Get("/count", s.countUsers)
		r.With(s.require(roster.PermUsersWrite)).Post("/", s.createUser)
		r.With(s.requireOrTeamAdmin(roster.PermUsersWrite)).Post("/bulk", s.bulkUsers)
		r.With(s.require(roster.PermUsersExport)).Get("/export", s.exportUsers)
		r.Route("/{id}", func(r chi.Router) {
			r.With(s.requireScoped(roster.PermUsersRead), s.noQuery).Get("/", s.getUser)
			r.With(s.require(roster.PermUsersWrite)).Patch("/", s.updateUser)
			r.With(s.require(roster.PermUsersWrite)).Delete("/", s.deleteUser)
			r.With(s.require(roster.PermUsersWrite)).Post("/unlock", s.unlockUser)
			r.With(s.require(roster.PermUsersWrite)).Post("/approve", s.approveUser)
			r.With(s.require(roster.PermUsersWrite)).Post("/password-reset", s.sendPasswordReset)
			r.With(s.require(roster.PermUsersWrite), s.noQuery).Get("/sessions", s.listUserSessions)
			r.With(s.require(roster.PermUsersWrite)).Delete("/sessions", s.endUserSessions)
			// The history is the audit trail's sign-in events by another
			// view: whoever may read the trail may read it.
			r.With(s.require(roster.PermAuditRead)).Get("/sign-ins", s.listUserSignIns)
			r.With(s.requireScoped(roster.PermUsersRead), s.noQuery).Get("/mfa", s.getUserMFA)
			r.With(s.require(roster.PermUsersWrite)).Delete("/mfa", s.resetUserMFA)
			r.With(s.requireScoped(roster.PermUsersRead), s.noQuery).Get("/passkeys", s.listUserPasskeys)
			r.With(s.require(roster.PermUsersWrite)).Patch("/passkeys/{pid}", s.renameUserPasskey)
			r.With(s.require(roster.PermUsersWrite)).Delete("/passkeys/{pid}", s.removeUserPasskey)
			r.With(s.requireScoped(roster.PermUsersRead), s.noQuery).Get("/security", s.getUserSecurity)
			r.With(s.require(roster.PermUsersExport), s.noQuery).Get("/data-export", s.exportUserData)
			r.With(s.require(roster.PermUsersWrite), s.adminStepUp()).Post("/erase", s.eraseUser)
			s.userRoleRoutes(r)
			r.With(s.require(roster.PermServiceTokensRead), s.noQuery).Get("/service-tokens/{service}", s.readServiceToken)
		})
	})
	r.With(s.require(roster.PermAuditRead)).Get("/audit-events", s.listAuditEvents)
	r.With(s.require(roster.PermUsersWrite), s.noQuery).Get("/jobs/{id}", s.getJob)
	r.With(s.require(roster.PermUsersRead)).Get("/invitations", s.listInvitations)
	r.With(s.require(roster.PermUsersWrite)).Post("/invitations", s.createInvitation)
	r.With(s.require(roster.PermUsersWrite)).Post("/invitations/bulk", s.bulkInvite)
	r.With(s.require(roster.PermUsersWrite)).Delete("/invitations/{id}", s.revokeInvitation)
	r.With(s.require(roster.PermUsersWrite)).Post("/invitations/{id}/resend", s.resendInvitation)
	r.With(s.requireScoped(roster.PermUsersRead)).Get("/stats", s.getStats)
	r.Route("/groups", func(r chi.Router) {
		r.With(s.require(roster.PermUsersRead)).Get("/", s.listGroups)
		r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/{id}", s.getGroup)
		r.With(s.require(roster.PermUsersRead)).Get("/{id}/members", s.listGroupMembers)
	})
	r.Route("/scim-group-roles", func(r chi.Router) {
		r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/", s.getGroupRoles)
		r.With(s.require(roster.PermUsersWrite)).Put("/", s.putGroupRoles)
	})
	r.Route("/scim-tokens", func(r chi.Router) {
		r.Use(s.require(roster.PermTokensWrite))
		r.With(s.noQuery).Get("/", s.listSCIMTokens)
		r.With(s.adminStepUp()).Post("/", s.createSCIMToken)
		r.Delete("/{id}", s.revokeSCIMToken)
	})
	s.ssoRoutes(r)
	s.webhookRoutes(r)
	s.roleRoutes(r)
	s.teamRoutes(r)
	s.apiKeyRoutes(r)
	s.serviceTokenRoutes(r)
	r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/tenant", s.getTenant)
	r.With(s.require(roster.PermTenantWrite)).Patch("/tenant", s.patchTenant)
	r.Route("/tenant/security-policy", func(r chi.Router) {
		r.With(s.require(roster.PermAuditRead), s.noQuery).Get("/", s.getSecurityPolicy)
		r.With(s.require(roster.PermTenantWrite)).Put("/", s.putSecurityPolicy)
	})
}

// now is the time by the server's clock.
func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// actor returns who is making the request, for the audit trail.
func actor(r *http.Request) roster.Actor {
	return roster.ActorOf(roster.PrincipalFromContext(r.Context()), roster.RequestIDFromContext(r.Context()))
}

// tenantID returns the caller's tenant, taken from the credential.
func tenantID(r *http.Request) string {
	return roster.PrincipalFromContext(r.Context()).TenantID
}
