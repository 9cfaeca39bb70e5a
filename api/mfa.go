package api

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// mfaStatusResponse is a user's second factors as an admin sees them.
type mfaStatusResponse struct {
	Enabled                bool                `json:"enabled"`
	DefaultMethod          *string             `json:"default_method"`
	Methods                []mfaMethodResponse `json:"methods"`
	RecoveryCodesRemaining int                 `json:"recovery_codes_remaining"`
}

type mfaMethodResponse struct {
	Type       string  `json:"type"`
	Verified   bool    `json:"verified"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	Target     *string `json:"target"` // masked; null for TOTP
}

func newMFAStatusResponse(st *roster.MFAStatus) mfaStatusResponse {
	resp := mfaStatusResponse{
		Enabled:                st.Enabled(),
		Methods:                make([]mfaMethodResponse, 0, len(st.Enrolled)),
		RecoveryCodesRemaining: st.RecoveryCodesRemaining,
	}
	if st.Default != "" {
		resp.DefaultMethod = &st.Default
	}
	for _, m := range st.Enrolled {
		mr := mfaMethodResponse{Type: m.Type, Verified: m.Verified, CreatedAt: timestamp(m.CreatedAt)}
		if m.LastUsedAt != nil {
			t := timestamp(*m.LastUsedAt)
			mr.LastUsedAt = &t
		}
		if m.Type == roster.MFASMS || m.Type == roster.MFAEmail {
			target := roster.MaskMFATarget(m.Type, m.Target)
			mr.Target = &target
		}
		resp.Methods = append(resp.Methods, mr)
	}
	return resp
}

// selfUserID returns the id of the user the caller is, or answers 404 for a
// credential that belongs to no user (a SCIM or script token), as /me does.
func (s *Server) selfUserID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, err := roster.PrincipalFromContext(r.Context()).SelfUserID()
	if err != nil {
		s.Error(w, r, err)
		return "", false
	}
	return id, true
}

// enrolTOTP serves POST /me/mfa/totp: a new secret awaiting its first code.
func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	e, err := s.MFA.EnrolTOTP(r.Context(), tenantID(r), actor(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Secret     string `json:"secret"`
		OTPAuthURI string `json:"otpauth_uri"`
		QRPNG      []byte `json:"qr_png"` // base64, as encoding/json writes bytes
	}{e.Secret, e.URI, e.QRPNG})
}

// confirmTOTP serves POST /me/mfa/totp/verify {"code"}.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	code, err := decodeField(r, "code")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.MFA.ConfirmTOTP(r.Context(), tenantID(r), actor(r), userID, code); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createRecoveryCodes serves POST /me/mfa/recovery-codes: a new set, shown
// once, replacing the old.
func (s *Server) createRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	codes, err := s.MFA.NewRecoveryCodes(r.Context(), tenantID(r), actor(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"codes": codes})
}

// setMFADefault serves PUT /me/mfa/default {"method"}.
func (s *Server) setMFADefault(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	method, err := decodeField(r, "method")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.MFA.SetDefault(r.Context(), tenantID(r), actor(r), userID, method); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeMFAMethod serves DELETE /me/mfa/{method}.
func (s *Server) removeMFAMethod(w http.ResponseWriter, r *http.Request) {
	s.removeMethod(w, r, chi.URLParam(r, "method"))
}

// removeTOTP serves DELETE /me/mfa/totp, which the contract lists apart
// from /me/mfa/{method} because POST /me/mfa/totp takes the path.
func (s *Server) removeTOTP(w http.ResponseWriter, r *http.Request) {
	s.removeMethod(w, r, roster.MFATOTP)
}

func (s *Server) removeMethod(w http.ResponseWriter, r *http.Request, method string) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	if err := s.MFA.Remove(r.Context(), tenantID(r), actor(r), userID, method); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getUserMFA serves GET /users/{id}/mfa.
func (s *Server) getUserMFA(w http.ResponseWriter, r *http.Request) {
	st, err := s.MFA.Status(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := newMFAStatusResponse(st)
	if slices.Contains(st.Methods, roster.MFAPasskey) {
		passkeys, err := s.Passkeys.List(r.Context(), tenantID(r), chi.URLParam(r, "id"))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		resp.Methods = appendPasskeyMethod(resp.Methods, passkeys)
	}
	writeJSON(w, http.StatusOK, resp)
}

// resetUserMFA serves DELETE /users/{id}/mfa.
func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request) {
	if err := s.MFA.Reset(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
