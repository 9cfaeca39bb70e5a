package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// acceptSetupLink serves POST /admin-setup/accept, without a credential:
// the token of the setup link is the credential. The page then signs in
// with the new password, as after an invitation.
func (s *Server) acceptSetupLink(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("token", "password")
	token, password := body.required("token"), body.required("password")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.SetupLinks.Accept(r.Context(), roster.RequestIDFromContext(r.Context()), token, password)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newUserResponse(u))
}
