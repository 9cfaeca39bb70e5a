package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// approveUser serves POST /users/{id}/approve: a user waiting for approval
// becomes active, audited as user.approved. ECONFLICT for anyone else.
func (s *Server) approveUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.Users.UpdateUser(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), 0, func(u *roster.User) error {
		if !u.PendingApproval {
			return roster.Errorf(roster.ECONFLICT, "the user is not waiting for approval")
		}
		u.Active = true
		return nil
	})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newUserResponse(u))
}
