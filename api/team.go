package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// teamRoutes are the tenant's teams and their members. Reading needs
// users:read and changing teams teams:write; who may change a team's
// members (teams:write, or an admin of the team or of a team above it) is
// the store's rule, so those routes require no permission of their own.
func (s *Server) teamRoutes(r chi.Router) {
	r.Route("/teams", func(r chi.Router) {
		r.With(s.require(roster.PermUsersRead)).Get("/", s.listTeams)
		r.With(s.require(roster.PermTeamsWrite)).Post("/", s.createTeam)
		r.Route("/{id}", func(r chi.Router) {
			r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/", s.getTeam)
			r.With(s.require(roster.PermTeamsWrite)).Patch("/", s.updateTeam)
			r.With(s.require(roster.PermTeamsWrite)).Delete("/", s.deleteTeam)
			r.With(s.require(roster.PermUsersRead)).Get("/members", s.listTeamMembers)
			r.Put("/members/{user_id}", s.setTeamMember)
			r.Delete("/members/{user_id}", s.removeTeamMember)
		})
	})
}

type teamResponse struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	ParentID    *string  `json:"parent_id"`
	Roles       []string `json:"roles"`
	Path        []string `json:"path"`
	Depth       int      `json:"depth"`
	MemberCount int      `json:"member_count"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Version     int64    `json:"version"`
}

func newTeamResponse(t *roster.Team) teamResponse {
	roles := t.Roles
	if roles == nil {
		roles = []string{}
	}
	return teamResponse{ID: t.ID, Name: t.Name, Description: t.Description, ParentID: t.ParentID, Roles: roles,
		Path: t.Path, Depth: t.Depth(), MemberCount: t.MemberCount, CreatedAt: timestamp(t.CreatedAt),
		UpdatedAt: timestamp(t.UpdatedAt), Version: t.Version}
}

// writeTeam answers one team with its ETag.
func writeTeam(w http.ResponseWriter, status int, t *roster.Team) {
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, status, newTeamResponse(t))
}

// listTeams serves GET /teams?parent_id=&top_level=&limit=&cursor=.
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "parent_id", "top_level", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.TeamFilter{ParentID: query.Get("parent_id"), Cursor: query.Get("cursor")}
	var fe *roster.FieldError
	if f.TopLevel, fe = queryBool(query, "top_level"); fe != nil {
		s.Error(w, r, roster.Invalid(*fe))
		return
	}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Teams.FindTeams(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newTeamResponse))
}

// getTeam serves GET /teams/{id}.
func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	t, err := s.Teams.FindTeam(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeTeam(w, http.StatusOK, t)
}

// teamParent reads parent_id: nil when absent, and clear when null.
func teamParent(body *object) (parent *string, clear bool) {
	if body.isNull("parent_id") {
		return nil, true
	}
	return body.string("parent_id"), false
}

// createTeam serves POST /teams.
func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "description", "parent_id", "roles")
	t := &roster.Team{Name: body.required("name"), Description: deref(body.string("description")), Roles: body.strings("roles")}
	t.ParentID, _ = teamParent(body)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	created, err := s.Teams.CreateTeam(r.Context(), tenantID(r), actor(r), t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/teams/"+created.ID)
	writeTeam(w, http.StatusCreated, created)
}

// updateTeam serves PATCH /teams/{id}: only the fields sent change, a
// parent_id moves the team with its subteams (null: to the top level),
// and If-Match with a stale ETag is refused with 412.
func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) {
	ifVersion, err := roster.ParseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "description", "parent_id", "roles")
	u := roster.TeamUpdate{Name: body.string("name"), Description: body.string("description"), Roles: body.strings("roles")}
	u.ParentID, u.ClearParent = teamParent(body)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	t, err := s.Teams.UpdateTeam(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), ifVersion, u)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeTeam(w, http.StatusOK, t)
}

// deleteTeam serves DELETE /teams/{id}; If-Match with a stale ETag is
// refused with 412.
func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request) {
	s.deleteVersioned(w, r, s.Teams.DeleteTeam)
}

type teamMemberResponse struct {
	TeamID      string `json:"team_id"`
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	CreatedAt   string `json:"created_at"`
}

func newTeamMemberResponse(m *roster.TeamMembership) teamMemberResponse {
	return teamMemberResponse{TeamID: m.TeamID, UserID: m.UserID, Email: m.Email, DisplayName: m.DisplayName,
		Role: m.Role, CreatedAt: timestamp(m.CreatedAt)}
}

// listTeamMembers serves GET /teams/{id}/members?subteams=&limit=&cursor=.
func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "subteams", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.TeamMemberFilter{Cursor: query.Get("cursor")}
	subteams, fe := queryBool(query, "subteams")
	if fe != nil {
		s.Error(w, r, roster.Invalid(*fe))
		return
	}
	f.Subteams = subteams != nil && *subteams
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Teams.FindTeamMembers(r.Context(), tenantID(r), chi.URLParam(r, "id"), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, newTeamMemberResponse))
}

// setTeamMember serves PUT /teams/{id}/members/{user_id} {"role"}: 201
// when it adds the user, 200 when they were a member already.
func (s *Server) setTeamMember(w http.ResponseWriter, r *http.Request) {
	role, err := decodeField(r, "role")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m, added, err := s.Teams.SetTeamMember(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), chi.URLParam(r, "user_id"), role)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	writeJSON(w, status, newTeamMemberResponse(m))
}

// removeTeamMember serves DELETE /teams/{id}/members/{user_id}.
func (s *Server) removeTeamMember(w http.ResponseWriter, r *http.Request) {
	if err := s.Teams.RemoveTeamMember(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), chi.URLParam(r, "user_id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
