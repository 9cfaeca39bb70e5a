package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// apiKeyRoutes are a user's own personal API keys, and every key of the
// tenant for the admins who manage its tokens.
func (s *Server) apiKeyRoutes(r chi.Router) {
	r.Route("/me/api-keys", func(r chi.Router) {
		write := s.require(roster.PermAPIKeysWrite)
		r.Get("/", s.listMyAPIKeys)
		r.With(write, s.selfStepUp()).Post("/", s.createMyAPIKey)
		r.Delete("/{id}", s.revokeMyAPIKey)
		r.With(write, s.selfStepUp()).Post("/{id}/rotate", s.rotateMyAPIKey)
	})
	r.Route("/api-keys", func(r chi.Router) {
		r.Use(s.require(roster.PermTokensWrite))
		r.Get("/", s.listAPIKeys)
		r.Delete("/{id}", s.revokeAPIKey)
	})
}

// apiKeyResponse is a personal key as listed; Key is the secret, set only
// in the answers that create or rotate it.
type apiKeyResponse struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Prefix          string   `json:"prefix"`
	Permissions     []string `json:"permissions"`
	UserID          string   `json:"user_id"`
	CreatedAt       string   `json:"created_at"`
	ExpiresAt       *string  `json:"expires_at"`
	LastUsedAt      *string  `json:"last_used_at"`
	LastUsedAddress *string  `json:"last_used_address"`
	UseCount        int64    `json:"use_count"`
	// PreviousKeyExpiresAt is when the secret the last rotation replaced
	// stops working.
	PreviousKeyExpiresAt *string `json:"previous_key_expires_at"`
	Key                  string  `json:"key,omitempty"`
}

func newAPIKeyResponse(t *roster.APIToken) apiKeyResponse {
	resp := apiKeyResponse{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Permissions: t.Scopes, CreatedAt: timestamp(t.CreatedAt),
		ExpiresAt: optionalTimestamp(t.ExpiresAt), LastUsedAt: optionalTimestamp(t.LastUsedAt), LastUsedAddress: t.LastUsedAddress,
		UseCount: t.UseCount, PreviousKeyExpiresAt: optionalTimestamp(t.PreviousExpiresAt)}
	if t.UserID != nil {
		resp.UserID = *t.UserID
	}
	if resp.Permissions == nil {
		resp.Permissions = []string{}
	}
	return resp
}

// decodeKeyExpiry reads expires_at, an RFC 3339 time, nil when absent.
func decodeKeyExpiry(body *object) *time.Time {
	v := body.string("expires_at")
	if v == nil {
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		body.fail("expires_at", badTime)
		return nil
	}
	at = at.UTC()
	return &at
}

// createMyAPIKey serves POST /me/api-keys {"name", "permissions" (or
// "scopes"), "expires_at"}: the key, with its secret this once.
func (s *Server) createMyAPIKey(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "permissions", "scopes", "expires_at")
	name := deref(body.string("name"))
	perms := body.strings("permissions")
	if body.has("scopes") {
		if body.has("permissions") {
			body.fail("scopes", "is another name for permissions: send one of them")
		}
		perms = body.strings("scopes")
	}
	expiresAt := decodeKeyExpiry(body)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	t, err := roster.NewPersonalKey(roster.PrincipalFromContext(r.Context()), s.now(), name, perms, expiresAt)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	t.Prefix, t.Hash = prefix, hash
	if err := s.APIKeys.CreateAPIKey(r.Context(), tenantID(r), actor(r), t); err != nil {
		s.Error(w, r, err)
		return
	}
	resp := newAPIKeyResponse(t)
	resp.Key = secret
	w.Header().Set("Location", "/api/v1/me/api-keys/"+t.ID)
	writeJSON(w, http.StatusCreated, resp)
}

// rotateMyAPIKey serves POST /me/api-keys/{id}/rotate, with an optional
// body {"expires_at"}: a new secret, shown once; the old one works for
// roster.APIKeyRotationGrace more.
func (s *Server) rotateMyAPIKey(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	var rot roster.KeyRotation
	if r.ContentLength != 0 {
		body, err := decodeObject(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		body.only("expires_at")
		rot.ExpiresAt = decodeKeyExpiry(body)
		if err := body.err(); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rot.Prefix, rot.Hash = prefix, hash
	t, err := s.APIKeys.RotateAPIKey(r.Context(), tenantID(r), actor(r), userID, chi.URLParam(r, "id"), rot)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.Auth.Forget(t.ID)
	resp := newAPIKeyResponse(t)
	resp.Key = secret
	writeJSON(w, http.StatusOK, resp)
}

// listMyAPIKeys serves GET /me/api-keys: the caller's live keys.
func (s *Server) listMyAPIKeys(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	if err := onlyParams(r.URL.Query(), "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	s.listKeys(w, r, userID)
}

// listAPIKeys serves GET /api-keys: every live key of the tenant, or one
// user's (user_id).
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query(), "user_id", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	s.listKeys(w, r, r.URL.Query().Get("user_id"))
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, userID string) {
	query := r.URL.Query()
	f := roster.APIKeyFilter{UserID: userID, Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.APIKeys.FindAPIKeys(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newAPIKeyResponse))
}

// revokeMyAPIKey serves DELETE /me/api-keys/{id}: one's own key, which
// any user may revoke (a viewer's keys too, made before a demotion).
func (s *Server) revokeMyAPIKey(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	s.revokeKey(w, r, userID)
}

// revokeAPIKey serves DELETE /api-keys/{id}: any key of the tenant.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	s.revokeKey(w, r, "")
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, userID string) {
	id := chi.URLParam(r, "id")
	if err := s.APIKeys.RevokeAPIKey(r.Context(), tenantID(r), actor(r), userID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	s.Auth.Forget(id)
	w.WriteHeader(http.StatusNoContent)
}
