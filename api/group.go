package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// Groups are the ones identity providers push over SCIM, shown read-only:
// the provider owns them, and its next sync would undo an edit made here
// (docs/architecture.md, "SCIM groups and teams").

// groupResponse is a SCIM group as the REST API shows it.
type groupResponse struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"display_name"`
	ExternalID  *string `json:"external_id"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	Version     int64   `json:"version"`
	// ManagedBy says who may change the group: always the SCIM client.
	ManagedBy string `json:"managed_by"`
}

func newGroupResponse(g *roster.Group) groupResponse {
	return groupResponse{
		ID: g.ID, DisplayName: g.DisplayName, ExternalID: g.ExternalID,
		CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt), Version: g.Version, ManagedBy: "scim",
	}
}

// groupDetailResponse is one group with its member count, which lists
// leave out: counting is a read of each group's whole membership.
type groupDetailResponse struct {
	groupResponse
	MemberCount int `json:"member_count"`
}

// groupMemberResponse is one member of a group.
type groupMemberResponse struct {
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Active      bool   `json:"active"`
}

func newGroupMemberResponse(m roster.GroupMember) groupMemberResponse {
	return groupMemberResponse{UserID: m.UserID, Email: m.Email, DisplayName: m.Display, Active: m.Active}
}

// listGroups serves GET /groups: q (a display-name prefix), limit and
// cursor.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "q", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.GroupFilter{Prefix: query.Get("q"), Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Groups.FindGroups(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newGroupResponse))
}

// getGroup serves GET /groups/{id}.
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	g, err := s.Groups.FindGroupByID(r.Context(), tenantID(r), id, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	n, err := s.Groups.CountGroupMembers(r.Context(), tenantID(r), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupDetailResponse{groupResponse: newGroupResponse(g), MemberCount: n})
}

// listGroupMembers serves GET /groups/{id}/members: limit and cursor.
func (s *Server) listGroupMembers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	f := roster.GroupMemberFilter{Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Groups.FindGroupMembers(r.Context(), tenantID(r), id, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newGroupMemberResponse))
}
