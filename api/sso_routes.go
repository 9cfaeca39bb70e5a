package api

import (
	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// ssoSignInRoutes are the federated sign-in's public routes: a browser
// reaches them before it has a credential, and the provider's answer, the
// state or the one-time code is what they check.
func (s *Server) ssoSignInRoutes(r chi.Router) {
	r.Get("/auth/sso/connections", s.listSSOButtons)
	r.Get("/auth/sso/start", s.startSSO)
	r.Get("/auth/sso/oidc/callback", s.oidcCallback)
	r.Post("/auth/sso/saml/acs", s.samlACS)
	r.Post("/auth/sso/exchange", s.exchangeSSOCode)
}

// ssoRoutes are the admins' connections and domains.
func (s *Server) ssoRoutes(r chi.Router) {
	r.Route("/sso/connections", func(r chi.Router) {
		r.With(s.require(roster.PermTenantWrite), s.noQuery).Get("/", s.listConnections)
		r.With(s.require(roster.PermTenantWrite)).Post("/", s.createConnection)
		r.Route("/{id}", func(r chi.Router) {
			r.Use(s.require(roster.PermTenantWrite))
			r.With(s.noQuery).Get("/", s.getConnection)
			r.Patch("/", s.updateConnection)
			r.Delete("/", s.deleteConnection)
			r.With(s.noQuery).Get("/saml/metadata", s.samlMetadata)
		})
	})
	r.Route("/domains", func(r chi.Router) {
		r.Use(s.require(roster.PermTenantWrite))
		r.With(s.noQuery).Get("/", s.listDomains)
		r.Post("/", s.createDomain)
		r.Post("/{id}/verify", s.verifyDomain)
		r.Delete("/{id}", s.deleteDomain)
	})
}
