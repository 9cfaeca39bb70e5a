package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// roleRoutes are the permission catalogue, the tenant's roles, the check
// for the tenant's own services, and users' effective permissions and
// temporary grants. Reading needs users:read; defining roles roles:write;
// granting a role, like setting one, users:write.
func (s *Server) roleRoutes(r chi.Router) {
	r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/permissions", s.listPermissions)
	r.With(s.require(roster.PermUsersRead)).Post("/permissions/check", s.checkPermission)
	r.Route("/roles", func(r chi.Router) {
		r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/", s.listRoles)
		r.With(s.require(roster.PermRolesWrite)).Post("/", s.createRole)
		r.Route("/{id}", func(r chi.Router) {
			r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/", s.getRole)
			r.With(s.require(roster.PermRolesWrite)).Patch("/", s.updateRole)
			r.With(s.require(roster.PermRolesWrite)).Delete("/", s.deleteRole)
		})
	})
}

// userRoleRoutes hang under /users/{id}.
func (s *Server) userRoleRoutes(r chi.Router) {
	r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/permissions", s.getUserPermissions)
	r.With(s.require(roster.PermUsersRead), s.noQuery).Get("/grants", s.listGrants)
	r.With(s.require(roster.PermUsersWrite)).Post("/grants", s.createGrant)
	r.With(s.require(roster.PermUsersWrite)).Delete("/grants/{grant_id}", s.revokeGrant)
}

type permissionResponse struct {
	Name        roster.Permission `json:"name"`
	Description string            `json:"description"`
}

type permissionCategory struct {
	Name        string               `json:"name"`
	Permissions []permissionResponse `json:"permissions"`
}

// listPermissions serves GET /permissions: Roster's permissions by
// category, then the application permissions the tenant's roles name.
func (s *Server) listPermissions(w http.ResponseWriter, r *http.Request) {
	apps, err := s.Roles.AppPermissions(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var cats []permissionCategory
	add := func(category string, p permissionResponse) {
		if len(cats) == 0 || cats[len(cats)-1].Name != category {
			cats = append(cats, permissionCategory{Name: category, Permissions: []permissionResponse{}})
		}
		cats[len(cats)-1].Permissions = append(cats[len(cats)-1].Permissions, p)
	}
	for _, c := range roster.Catalogue() {
		add(c.Category, permissionResponse{Name: c.Name, Description: c.Description})
	}
	for _, p := range apps {
		if p != roster.PermAppAll {
			add(roster.CategoryApplication, permissionResponse{Name: p, Description: "Defined by the tenant's roles"})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": cats})
}

type roleResponse struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Permissions []roster.Permission `json:"permissions"`
	BuiltIn     bool                `json:"built_in"`
	CreatedAt   *string             `json:"created_at"`
	UpdatedAt   *string             `json:"updated_at"`
}

func newRoleResponse(r *roster.Role) roleResponse {
	perms := r.Permissions
	if perms == nil {
		perms = []roster.Permission{}
	}
	return roleResponse{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: perms, BuiltIn: r.BuiltIn,
		CreatedAt: optionalTimestamp(r.CreatedAt), UpdatedAt: optionalTimestamp(r.UpdatedAt)}
}

// listRoles serves GET /roles: the built-ins, then the custom roles.
func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := s.Roles.FindRoles(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(roles, "", newRoleResponse))
}

// getRole serves GET /roles/{id}; a built-in's id is its name.
func (s *Server) getRole(w http.ResponseWriter, r *http.Request) {
	role, err := s.Roles.FindRole(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newRoleResponse(role))
}

// permissionsOf reads a permissions field.
func permissionsOf(body *object, name string) []roster.Permission {
	names := body.strings(name)
	if names == nil {
		return nil
	}
	perms := make([]roster.Permission, len(names))
	for i, n := range names {
		perms[i] = roster.Permission(n)
	}
	return perms
}

// createRole serves POST /roles. A template (a role of the tenant, a
// built-in most often) gives the permissions and description the body
// does not.
func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "description", "permissions", "template")
	name := body.required("name")
	in := &roster.Role{Name: name, Description: deref(body.string("description")), Permissions: permissionsOf(body, "permissions")}
	template := body.string("template")
	if template == nil {
		body.need("permissions")
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if template != nil {
		base, err := s.Roles.FindRole(r.Context(), tenantID(r), *template)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			err = roster.Invalid(roster.FieldError{Field: "template", Message: "is no role of the tenant"})
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if in.Permissions == nil {
			in.Permissions = base.Permissions
		}
		if !body.has("description") {
			in.Description = base.Description
		}
	}
	created, err := s.Roles.CreateRole(r.Context(), tenantID(r), actor(r), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/roles/"+created.ID)
	writeJSON(w, http.StatusCreated, newRoleResponse(created))
}

// updateRole serves PATCH /roles/{id}.
func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("name", "description", "permissions")
	u := roster.RoleUpdate{Name: body.string("name"), Description: body.string("description"), Permissions: permissionsOf(body, "permissions")}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	updated, err := s.Roles.UpdateRole(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), u)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newRoleResponse(updated))
}

// deleteRole serves DELETE /roles/{id}.
func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	if err := s.Roles.DeleteRole(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type grantResponse struct {
	ID        string  `json:"id"`
	UserID    string  `json:"user_id"`
	Role      string  `json:"role"`
	Reason    string  `json:"reason"`
	GrantedBy string  `json:"granted_by"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
	ExpiresAt string  `json:"expires_at"`
	RevokedAt *string `json:"revoked_at"`
}

func (s *Server) newGrantResponse(g *roster.Grant) grantResponse {
	return grantResponse{ID: g.ID, UserID: g.UserID, Role: g.Role, Reason: g.Reason, GrantedBy: g.GrantedBy,
		Status: g.State, CreatedAt: timestamp(g.CreatedAt), ExpiresAt: timestamp(g.ExpiresAt),
		RevokedAt: optionalTimestamp(g.RevokedAt)}
}

// createGrant serves POST /users/{id}/grants: a role until expires_at.
func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("role", "expires_at", "reason")
	g := &roster.Grant{UserID: chi.URLParam(r, "id"), Role: body.required("role"), Reason: body.required("reason")}
	if at := body.required("expires_at"); at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			body.fail("expires_at", "must be an RFC 3339 time")
		}
		g.ExpiresAt = t
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	created, err := s.Roles.CreateGrant(r.Context(), tenantID(r), actor(r), g)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+created.UserID+"/grants/"+created.ID)
	writeJSON(w, http.StatusCreated, s.newGrantResponse(created))
}

// listGrants serves GET /users/{id}/grants.
func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	grants, err := s.Roles.FindGrants(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(grants, "", s.newGrantResponse))
}

// revokeGrant serves DELETE /users/{id}/grants/{grant_id}.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	err := s.Roles.RevokeGrant(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), chi.URLParam(r, "grant_id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type userPermissionsResponse struct {
	UserID      string              `json:"user_id"`
	Active      bool                `json:"active"`
	Role        string              `json:"role"`
	GrantRoles  []string            `json:"grant_roles"`
	TeamRoles   []string            `json:"team_roles"`
	Permissions []roster.Permission `json:"permissions"`
}

// getUserPermissions serves GET /users/{id}/permissions: what the user may
// do now, from their role, live grants and teams, as
// AccessService.UserAccess, the one place that resolves a user, says.
func (s *Server) getUserPermissions(w http.ResponseWriter, r *http.Request) {
	a, err := s.Access.UserAccess(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := userPermissionsResponse{UserID: a.UserID, Active: a.Active, Role: a.Role, GrantRoles: a.Grants,
		TeamRoles: a.TeamRoles, Permissions: a.Permissions}
	if !a.Active {
		resp.Permissions = []roster.Permission{}
	}
	if resp.GrantRoles == nil {
		resp.GrantRoles = []string{}
	}
	if resp.TeamRoles == nil {
		resp.TeamRoles = []string{}
	}
	if resp.Permissions == nil {
		resp.Permissions = []roster.Permission{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkPermission serves POST /permissions/check: the seed's
// hasPermission(userId, permission) for the tenant's services. A
// deactivated user holds nothing.
func (s *Server) checkPermission(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("user_id", "permission")
	userID, perm := body.required("user_id"), roster.Permission(body.required("permission"))
	if perm != "" && !roster.IsPermission(perm) && !roster.IsAppPermission(perm) {
		body.fail("permission", "must be a permission of GET /api/v1/permissions or app:<name>")
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Access.UserAccess(r.Context(), tenantID(r), userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"allowed": a.Active && roster.Holds(a.Permissions, perm)})
}
