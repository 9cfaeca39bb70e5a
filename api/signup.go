package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// signUpAccepted is the answer to every sign-up that passed its checks,
// whoever the address belongs to.
const signUpAccepted = "Check your mail: a link to confirm the address and start using the organisation is on its way. It works once, for 24 hours."

// verificationResent is the answer to every resend request.
const verificationResent = "If the organisation has an account with this address awaiting confirmation, a new link is on its way. It works once, for 24 hours."

// getSignUp serves GET /signup, without a credential: whether the account
// page offers a sign-up form.
func (s *Server) getSignUp(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"open": s.SignUps.Open()})
}

// signUp serves POST /signup, without a credential.
func (s *Server) signUp(w http.ResponseWriter, r *http.Request) {
	if !s.SignUps.Open() {
		// Closed answers the same to every body.
		s.Error(w, r, s.SignUps.SignUp(r.Context(), clientIP(r), roster.SignUp{}))
		return
	}
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("email", "password", "given_name", "family_name", "organisation")
	in := roster.SignUp{Email: body.required("email"), Password: body.required("password")}
	if v := body.string("given_name"); v != nil {
		in.GivenName = *v
	}
	if v := body.string("family_name"); v != nil {
		in.FamilyName = *v
	}
	body.need("organisation")
	if org := body.object("organisation"); org != nil {
		org.only("name", "slug")
		in.OrganisationName = org.required("name")
		if v := org.string("slug"); v != nil {
			in.OrganisationSlug = *v
		}
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.SignUps.SignUp(r.Context(), clientIP(r), in); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"detail": signUpAccepted})
}

// verifyEmail serves POST /auth/verify-email, without a credential: the
// token of the link is the credential.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("token")
	token := body.required("token")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.SignUps.VerifyEmail(r.Context(), roster.RequestIDFromContext(r.Context()), token); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resendVerification serves POST /auth/verify-email/resend, without a
// credential. The answer is the same whether or not the account exists.
func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) {
	tenant, email, err := decodeTenantEmail(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.SignUps.ResendVerification(r.Context(), clientIP(r), tenant, email); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"detail": verificationResent})
}
