package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// changePassword serves PUT /me/password {"current_password",
// "new_password"}: the caller's own password, after a step-up.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("current_password", "new_password")
	current, next := body.required("current_password"), body.required("new_password")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Passwords.ChangePassword(r.Context(), roster.PrincipalFromContext(r.Context()), actor(r), current, next); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
