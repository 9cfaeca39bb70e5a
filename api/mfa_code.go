package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// codeSentResponse tells where a one-time code went, masked.
type codeSentResponse struct {
	Method    string `json:"method"`
	Target    string `json:"target"`
	ExpiresIn int    `json:"expires_in"`
}

func codeSent(w http.ResponseWriter, c *roster.CodeSent) {
	writeJSON(w, http.StatusOK, codeSentResponse{Method: c.Method, Target: c.Target, ExpiresIn: c.ExpiresIn})
}

// enrolEmail serves POST /me/mfa/email: a code to the caller's own address.
func (s *Server) enrolEmail(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	sent, err := s.MFA.SendEnrolmentCode(r.Context(), tenantID(r), actor(r), userID, roster.MFAEmail, "")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	codeSent(w, sent)
}

// enrolSMS serves POST /me/mfa/sms {"phone"}.
func (s *Server) enrolSMS(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	phone, err := decodeField(r, "phone")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sent, err := s.MFA.SendEnrolmentCode(r.Context(), tenantID(r), actor(r), userID, roster.MFASMS, phone)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	codeSent(w, sent)
}

// confirmEmail serves POST /me/mfa/email/verify {"code"}.
func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request) {
	s.confirmCode(w, r, roster.MFAEmail)
}

// confirmSMS serves POST /me/mfa/sms/verify {"code"}.
func (s *Server) confirmSMS(w http.ResponseWriter, r *http.Request) {
	s.confirmCode(w, r, roster.MFASMS)
}

func (s *Server) confirmCode(w http.ResponseWriter, r *http.Request, method string) {
	userID, ok := s.selfUserID(w, r)
	if !ok {
		return
	}
	code, err := decodeField(r, "code")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.MFA.ConfirmCode(r.Context(), tenantID(r), actor(r), userID, method, code); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeEmail and removeSMS serve DELETE /me/mfa/email and /me/mfa/sms,
// which the contract lists apart from /me/mfa/{method} because POST takes
// the paths.
func (s *Server) removeEmail(w http.ResponseWriter, r *http.Request) {
	s.removeMethod(w, r, roster.MFAEmail)
}

func (s *Server) removeSMS(w http.ResponseWriter, r *http.Request) {
	s.removeMethod(w, r, roster.MFASMS)
}

// sendMFAChallengeCode serves POST /auth/mfa/challenge {"mfa_token",
// "method"}: a code by SMS or email for a sign-in's second factor.
func (s *Server) sendMFAChallengeCode(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("mfa_token", "method")
	token, method := body.required("mfa_token"), body.required("method")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	sent, err := s.SignIn.SendChallengeCode(r.Context(), token, method)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	codeSent(w, sent)
}
