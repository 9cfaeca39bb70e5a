package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// tokenResponse is OAuth 2.0's token answer (RFC 6749 §5.1). A step-up
// issues no refresh token: the session keeps its own, so the field is left
// out, as §5.1 allows.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`

	// MFAEnrollmentRequired marks an enrolment-only access token.
	MFAEnrollmentRequired bool `json:"mfa_enrollment_required,omitempty"`
}

func newTokenResponse(t *roster.Tokens) tokenResponse {
	return tokenResponse{AccessToken: t.AccessToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn, RefreshToken: t.RefreshToken,
		MFAEnrollmentRequired: t.EnrolmentOnly}
}

// login serves POST /auth/login: a tenant (id or slug), a user name or
// email, and a password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("tenant", "username", "password")
	tenant, username, password := body.required("tenant"), body.required("username"), body.required("password")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, challenge, err := s.SignIn.Login(r.Context(), clientIP(r), tenant, username, password)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if challenge != nil {
		writeJSON(w, http.StatusOK, newMFARequiredResponse(challenge))
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}

// mfaRequiredResponse answers the right password of a user with a second
// factor: no token, a challenge to pass at /auth/mfa/verify.
type mfaRequiredResponse struct {
	MFARequired   bool     `json:"mfa_required"`
	MFAToken      string   `json:"mfa_token"`
	Methods       []string `json:"methods"`
	DefaultMethod *string  `json:"default_method"`
	ExpiresIn     int      `json:"expires_in"`
}

func newMFARequiredResponse(c *roster.MFARequired) mfaRequiredResponse {
	resp := mfaRequiredResponse{MFARequired: true, MFAToken: c.Token, Methods: c.Methods, ExpiresIn: c.ExpiresIn}
	if c.Default != "" {
		resp.DefaultMethod = &c.Default
	}
	return resp
}

// verifyMFA serves POST /auth/mfa/verify: the second factor of a sign-in.
func (s *Server) verifyMFA(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("mfa_token", "method", "code")
	token, method, code := body.required("mfa_token"), body.required("method"), body.required("code")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, err := s.SignIn.VerifyMFA(r.Context(), clientIP(r), token, method, code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}

// refresh serves POST /auth/refresh.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	token, ok := s.refreshToken(w, r)
	if !ok {
		return
	}
	tokens, err := s.SignIn.Refresh(r.Context(), token)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}

// logout serves POST /auth/logout: the session of the refresh token ends.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	token, ok := s.refreshToken(w, r)
	if !ok {
		return
	}
	if err := s.SignIn.Logout(r.Context(), token); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// refreshToken reads {"refresh_token"}; on failure it has answered.
func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, err := decodeField(r, "refresh_token")
	if err != nil {
		s.Error(w, r, err)
		return "", false
	}
	return token, true
}

// me serves GET /me: the signed-in user, or the user an API token acts for.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	id, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	u, err := s.Users.FindUserByID(r.Context(), tenantID(r), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meResponse{userResponse: newUserResponse(u), Permissions: roster.PrincipalFromContext(r.Context()).Permissions()})
}

// meResponse is the caller's user and what the credential may do.
type meResponse struct {
	userResponse
	Permissions []roster.Permission `json:"permissions"`
}

// unlockUser serves POST /users/{id}/unlock.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	if err := s.Logins.Unlock(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// jwks serves the public keys of Roster's own tokens.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := s.Keys.JWKS(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(set) // the client may be gone; nothing to do
}

// openIDConfiguration serves OpenID Connect discovery, for the parts Roster
// has: who issues its tokens and where their keys are.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	iss := s.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"token_endpoint":                        iss + "/api/v1/auth/login",
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"token"},
		"grant_types_supported":                 []string{"password", "refresh_token"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "tid", "roles", "amr", "auth_time", "sid", "scope"},
	})
}

// clientIP is the address sign-in attempts are counted against: the
// request's client, as requestID found it.
func clientIP(r *http.Request) string {
	return roster.ClientFromContext(r.Context()).Address
}
