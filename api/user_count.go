package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// userCountResponse is GET /users/count: capped appears only when the
// count stopped at roster.UserCountCap.
type userCountResponse struct {
	Count  int64 `json:"count"`
	Capped bool  `json:"capped,omitempty"`
}

// countUsers serves GET /users/count with the users list's filters,
// within the caller's scope.
func (s *Server) countUsers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, roster.UserFilterKeys...); err != nil {
		s.Error(w, r, err)
		return
	}
	f, fields := parseUserFilter(query)
	if len(fields) > 0 {
		s.Error(w, r, roster.Invalid(fields...))
		return
	}
	f.Scope = userScope(r)
	n, err := s.Users.CountUsers(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userCountResponse{Count: n.Count, Capped: n.Capped})
}
