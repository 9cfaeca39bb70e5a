package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// userResponse is a user as the REST API shows it: no tenant, no secrets.
type userResponse struct {
	ID          string  `json:"id"`
	Email       string  `json:"email"`
	UserName    string  `json:"user_name"`
	GivenName   string  `json:"given_name"`
	FamilyName  string  `json:"family_name"`
	DisplayName string  `json:"display_name"`
	ExternalID  *string `json:"external_id"`
	Role        string  `json:"role"`
	Active      bool    `json:"active"`
	// PendingApproval: the user waits, inactive, for an admin's approval.
	PendingApproval bool    `json:"pending_approval"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	LastLoginAt     *string `json:"last_login_at"`
}

func newUserResponse(u *roster.User) userResponse {
	resp := userResponse{
		ID: u.ID, Email: u.Email, UserName: u.UserName, GivenName: u.GivenName, FamilyName: u.FamilyName,
		DisplayName: u.DisplayName, ExternalID: u.ExternalID, Role: u.Role, Active: u.Active,
		PendingApproval: u.PendingApproval, CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.UpdatedAt),
	}
	if u.LastLoginAt != nil {
		t := timestamp(*u.LastLoginAt)
		resp.LastLoginAt = &t
	}
	return resp
}

// listResponse is one page of any list: its items and the cursor of the
// next page, null on the last.
type listResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newListResponse[S, T any](items []S, nextCursor string, convert func(S) T) listResponse[T] {
	resp := listResponse[T]{Items: make([]T, len(items))}
	for i, item := range items {
		resp.Items[i] = convert(item)
	}
	if nextCursor != "" {
		resp.NextCursor = &nextCursor
	}
	return resp
}

// userFields are the fields a client may write; id, timestamps and the
// tenant are the server's.
var userFields = []string{"email", "user_name", "given_name", "family_name", "display_name", "external_id", "role", "active"}

// listUsers serves GET /users: q, role, active, mfa, mfa_method, team,
// sort, limit and cursor, within the caller's scope.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, slices.Concat(roster.UserFilterKeys, []string{"sort", "limit", "cursor"})...); err != nil {
		s.Error(w, r, err)
		return
	}
	f, fields := parseUserFilter(query)
	f.Sort, f.Cursor, f.Scope = query.Get("sort"), query.Get("cursor"), userScope(r)
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		fields = append(fields, roster.ErrorFields(err)...)
	}
	if len(fields) > 0 {
		s.Error(w, r, roster.Invalid(fields...))
		return
	}
	page, err := s.Users.FindUsers(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeUserPage(w, page)
}

// badTime is the answer to a time that is not RFC 3339.
const badTime = "must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z"

// parseUserFilter reads the list filters (roster.UserFilterKeys) and names
// each malformed one.
func parseUserFilter(query url.Values) (roster.UserFilter, []roster.FieldError) {
	f := roster.UserFilter{
		Query:     query.Get("q"),
		Email:     query.Get("email"),
		Role:      query.Get("role"),
		MFAMethod: query.Get("mfa_method"),
		Team:      query.Get("team"),
	}
	var fields []roster.FieldError
	active, bad := queryBool(query, "active")
	if bad != nil {
		fields = append(fields, *bad)
	}
	f.Active = active
	if v := query.Get("mfa"); v != "" {
		enabled := v == "enabled"
		if !enabled && v != "disabled" {
			fields = append(fields, roster.FieldError{Field: "mfa", Message: "must be enabled or disabled"})
		}
		f.MFA = &enabled
	}
	if v := query.Get("last_login_before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fields = append(fields, roster.FieldError{Field: "last_login_before", Message: badTime})
		}
		f.LastLoginBefore = &t
	}
	f.PendingApproval, bad = queryBool(query, "pending_approval")
	if bad != nil {
		fields = append(fields, *bad)
	}
	never, bad := queryBool(query, "never_signed_in")
	if bad != nil {
		fields = append(fields, *bad)
	}
	f.NeverSignedIn = never != nil && *never
	return f, fields
}

// createUser serves POST /users.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only(append(userFields, "password")...)
	u := roster.NewUser()
	userUpdate(body).Apply(u)
	password := body.string("password")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if password != nil {
		if err := s.Passwords.SetPassword(r.Context(), tenantID(r), u, *password); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	created, err := s.Users.CreateUser(r.Context(), tenantID(r), actor(r), u)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+created.ID)
	w.Header().Set("ETag", etag(created.Version))
	writeJSON(w, http.StatusCreated, newUserResponse(created))
}

// userUpdate reads the writable user fields of body. external_id and
// display_name may be null to clear them.
func userUpdate(body *object) roster.UserUpdate {
	var upd roster.UserUpdate
	upd.Email = body.string("email")
	upd.UserName = body.string("user_name")
	upd.GivenName = body.string("given_name")
	upd.FamilyName = body.string("family_name")
	if body.isNull("display_name") {
		empty := ""
		upd.DisplayName = &empty
	} else {
		upd.DisplayName = body.string("display_name")
	}
	if body.isNull("external_id") {
		upd.ClearExternalID = true
	} else {
		upd.ExternalID = body.string("external_id")
	}
	upd.Role = body.string("role")
	upd.Active = body.bool("active")
	return upd
}

// getUser serves GET /users/{id}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.Users.FindUserByID(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(u.Version))
	writeJSON(w, http.StatusOK, newUserResponse(u))
}

// updateUser serves PATCH /users/{id}: only the fields sent change, and
// If-Match with a stale ETag is refused with 412.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
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
	body.only(userFields...)
	upd := userUpdate(body)
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Users.UpdateUser(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), ifVersion,
		func(u *roster.User) error {
			upd.Apply(u)
			return nil
		})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(u.Version))
	writeJSON(w, http.StatusOK, newUserResponse(u))
}

// deleteUser serves DELETE /users/{id}; If-Match with a stale ETag is
// refused with 412.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	s.deleteVersioned(w, r, s.Users.DeleteUser)
}

// deleteVersioned answers a DELETE of the resource {id} by del, which is
// given the If-Match version to refuse a stale one (412).
func (s *Server) deleteVersioned(w http.ResponseWriter, r *http.Request,
	del func(ctx context.Context, tenantID string, by roster.Actor, id string, ifVersion int64) error) {
	ifVersion, err := roster.ParseIfMatch(r.Header.Get("If-Match"))
	if err == nil {
		err = del(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), ifVersion)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onlyParams refuses query parameters the endpoint does not know, and known
// ones given twice: a filter silently ignored would answer a different
// question than the one asked.
func onlyParams(query url.Values, known ...string) error {
	var fields []roster.FieldError
	for name, values := range query {
		switch {
		case !slices.Contains(known, name):
			fields = append(fields, roster.FieldError{Field: name, Message: "is not a known query parameter"})
		case len(values) > 1:
			// Only the first would count: role=viewer&role=admin is not "either".
			fields = append(fields, roster.FieldError{Field: name, Message: "must be given once"})
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b roster.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return roster.Invalid(fields...)
	}
	return nil
}

// parseLimit reads a page size; "" means the default.
func parseLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !roster.ValidPageSize(n) {
		return 0, roster.Invalid(roster.FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer between 1 and %d", roster.MaxPageSize)})
	}
	return n, nil
}

// timestamp formats t as RFC 3339 in UTC. Formatting to a string up front
// is a third of the cost of encoding a time.Time in a long list.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// etag is the entity tag of a resource version.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}
