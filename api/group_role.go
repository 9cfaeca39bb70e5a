package api

import (
	"encoding/json"
	"net/http"
)

// groupRolesBody is the tenant's mapping from SCIM group display names to
// roles.
type groupRolesBody struct {
	Mappings map[string]string `json:"mappings"`
}

// getGroupRoles serves GET /scim-group-roles.
func (s *Server) getGroupRoles(w http.ResponseWriter, r *http.Request) {
	mapping, err := s.Tenants.GroupRoles(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupRolesBody{Mappings: mapping})
}

// putGroupRoles serves PUT /scim-group-roles: the mapping is replaced, and
// every member of a group it names (before or after) gets the role it now
// gives them.
func (s *Server) putGroupRoles(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("mappings")
	var mapping map[string]string
	if raw, ok := body.fields["mappings"]; !ok {
		body.fail("mappings", "is required")
	} else if err := json.Unmarshal(raw, &mapping); err != nil || mapping == nil {
		body.fail("mappings", "must be an object of group names to role names")
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Tenants.SetGroupRoles(r.Context(), tenantID(r), actor(r), mapping); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupRolesBody{Mappings: mapping})
}
