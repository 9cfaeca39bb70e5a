package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// beginPasskeyLogin serves POST /auth/passkey/begin {"tenant"}.
func (s *Server) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	tenant, err := decodeField(r, "tenant")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	assertion, err := s.Passkeys.BeginLogin(r.Context(), clientIP(r), tenant)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

// finishPasskeyLogin serves POST /auth/passkey/finish {"tenant",
// "credential"}: tokens, or an MFA challenge when the authenticator did
// not verify the user and the user has another second factor.
func (s *Server) finishPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("tenant", "credential")
	tenant, credential := body.required("tenant"), body.credential("credential")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, challenge, err := s.Passkeys.FinishLogin(r.Context(), clientIP(r), tenant, credential)
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

// beginPasskeyMFA serves POST /auth/mfa/passkey/begin {"mfa_token"}.
func (s *Server) beginPasskeyMFA(w http.ResponseWriter, r *http.Request) {
	token, err := decodeField(r, "mfa_token")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	assertion, err := s.Passkeys.BeginMFA(r.Context(), token)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

// finishPasskeyMFA serves POST /auth/mfa/passkey/finish {"mfa_token",
// "credential"}.
func (s *Server) finishPasskeyMFA(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("mfa_token", "credential")
	token, credential := body.required("mfa_token"), body.credential("credential")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, err := s.Passkeys.FinishMFA(r.Context(), clientIP(r), token, credential)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}

// beginPasskeyStepUp serves POST /auth/step-up/passkey/begin.
func (s *Server) beginPasskeyStepUp(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	assertion, err := s.Passkeys.BeginStepUp(r.Context(), roster.PrincipalFromContext(r.Context()))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

// finishPasskeyStepUp serves POST /auth/step-up/passkey/finish
// {"credential"}.
func (s *Server) finishPasskeyStepUp(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("credential")
	credential := body.credential("credential")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, err := s.Passkeys.FinishStepUp(r.Context(), roster.PrincipalFromContext(r.Context()), credential)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}
