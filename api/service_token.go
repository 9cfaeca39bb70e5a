package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// serviceTokenRoutes are a user's own vault; a service reads a user's
// token at GET /users/{id}/service-tokens/{service}.
func (s *Server) serviceTokenRoutes(r chi.Router) {
	r.Route("/me/service-tokens", func(r chi.Router) {
		r.With(s.noQuery).Get("/", s.listMyServiceTokens)
		r.Put("/{service}", s.putMyServiceToken)
		r.Delete("/{service}", s.deleteMyServiceToken)
	})
}

// serviceTokenResponse is a token as listed: never the token itself, which
// Token holds only in a service's read.
type serviceTokenResponse struct {
	Service    string  `json:"service"`
	Hint       string  `json:"hint"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
	UseCount   int64   `json:"use_count"`
}

func newServiceTokenResponse(t *roster.ServiceToken) serviceTokenResponse {
	return serviceTokenResponse{Service: t.Service, Hint: t.Hint, CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt),
		ExpiresAt: optionalTimestamp(t.ExpiresAt), LastUsedAt: optionalTimestamp(t.LastUsedAt), UseCount: t.UseCount}
}

// putMyServiceToken serves PUT /me/service-tokens/{service} {"token",
// "expires_at"}: 201 for a new one, 200 for a replaced one.
func (s *Server) putMyServiceToken(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("token", "expires_at")
	body.need("token")
	in := &roster.ServiceToken{UserID: userID, Service: chi.URLParam(r, "service"), Token: deref(body.string("token"))}
	if !body.isNull("expires_at") {
		in.ExpiresAt = decodeKeyExpiry(body)
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	t, created, err := s.ServiceTokens.PutServiceToken(r.Context(), tenantID(r), actor(r), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, newServiceTokenResponse(t))
}

// listMyServiceTokens serves GET /me/service-tokens: every one of the
// caller's, by service (at most roster.MaxServiceTokensPerUser).
func (s *Server) listMyServiceTokens(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	tokens, err := s.ServiceTokens.FindServiceTokens(r.Context(), tenantID(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(tokens, "", newServiceTokenResponse))
}

// deleteMyServiceToken serves DELETE /me/service-tokens/{service}.
func (s *Server) deleteMyServiceToken(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	if err := s.ServiceTokens.DeleteServiceToken(r.Context(), tenantID(r), actor(r), userID, chi.URLParam(r, "service")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serviceTokenRead is a user's token as a service reads it.
type serviceTokenRead struct {
	serviceTokenResponse
	UserID string `json:"user_id"`
	Token  string `json:"token"`
}

// readServiceToken serves GET /users/{id}/service-tokens/{service}: the
// token itself, for a tenant's service; audited and counted.
func (s *Server) readServiceToken(w http.ResponseWriter, r *http.Request) {
	t, err := s.ServiceTokens.ReadServiceToken(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), chi.URLParam(r, "service"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, serviceTokenRead{serviceTokenResponse: newServiceTokenResponse(t), UserID: t.UserID, Token: t.Token})
}
