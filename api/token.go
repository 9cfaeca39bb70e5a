package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

// scimTokenResponse is a SCIM token as listed; Token is set only in the
// answer that creates it, the one time the secret is shown.
type scimTokenResponse struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	Token      string  `json:"token,omitempty"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func newSCIMTokenResponse(t *roster.APIToken) scimTokenResponse {
	return scimTokenResponse{
		ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: timestamp(t.CreatedAt),
		ExpiresAt: optionalTimestamp(t.ExpiresAt), LastUsedAt: optionalTimestamp(t.LastUsedAt),
	}
}

// maxTokenLifetimeDays bounds expires_in_days: ten years.
const maxTokenLifetimeDays = 3650

// createSCIMToken serves POST /scim-tokens: a token for an identity
// provider, allowed on /scim/v2 and nowhere else. It belongs to the tenant,
// not to the admin who made it, so provisioning outlives their account.
func (s *Server) createSCIMToken(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "expires_in_days")
	name := body.string("name")
	days := body.integer("expires_in_days", 1, maxTokenLifetimeDays)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	secret, prefix, hash, err := auth.NewAPIToken()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	t := &roster.APIToken{Role: roster.RoleAdmin, Scopes: []string{string(roster.PermSCIMProvision)}, Prefix: prefix, Hash: hash}
	if name != nil {
		t.Name = *name
	}
	if days != nil {
		at := time.Now().UTC().Add(time.Duration(*days) * 24 * time.Hour).Truncate(time.Second)
		t.ExpiresAt = &at
	}
	if err := s.Tokens.CreateToken(r.Context(), tenantID(r), actor(r), t); err != nil {
		s.Error(w, r, err)
		return
	}
	resp := newSCIMTokenResponse(t)
	resp.Token = secret
	writeJSON(w, http.StatusCreated, resp)
}

// listSCIMTokens serves GET /scim-tokens: the live ones, never their secrets.
func (s *Server) listSCIMTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.Tokens.FindTokens(r.Context(), tenantID(r), roster.PermSCIMProvision)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(tokens, "", newSCIMTokenResponse))
}

// revokeSCIMToken serves DELETE /scim-tokens/{id}.
func (s *Server) revokeSCIMToken(w http.ResponseWriter, r *http.Request) {
	err := s.Tokens.RevokeToken(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), roster.PermSCIMProvision)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.Auth.Forget(chi.URLParam(r, "id"))
	w.WriteHeader(http.StatusNoContent)
}

func optionalTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}
