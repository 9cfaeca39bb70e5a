package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// selfStepUp guards changes to one's own factors and password. A user with
// no factor to step up with passes with a recent password sign-in, or no
// one could enrol a first; API tokens never pass.
func (s *Server) selfStepUp() func(http.Handler) http.Handler {
	return s.requireStepUp(roster.StepUpSelf())
}

// adminStepUp guards credentials an admin makes for the tenant. An admin API
// token passes: it is a credential of its own, as strong as the change,
// with no sign-in that could be recent.
func (s *Server) adminStepUp() func(http.Handler) http.Handler {
	return s.requireStepUp(roster.StepUpRule{APITokens: true})
}

// requireStepUp answers unless the caller's sign-in is recent and strong
// enough for rule (RFC 9470): 401 with an insufficient_user_authentication
// challenge, or 403 for a credential that can never be.
func (s *Server) requireStepUp(rule roster.StepUpRule) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.SignIn.RequireStepUp(r.Context(), roster.PrincipalFromContext(r.Context()), rule); err != nil {
				s.Error(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// stepUp serves POST /auth/step-up {"method", "code"}: a second factor
// raises the caller's session, for the actions that need a recent one.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("method", "code")
	method, code := body.required("method"), body.required("code")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	tokens, err := s.SignIn.StepUp(r.Context(), roster.PrincipalFromContext(r.Context()), actor(r), method, code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(tokens))
}
