package api

import (
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster"
)

// tenantResponse is the caller's organisation's settings.
type tenantResponse struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Slug         string          `json:"slug"`
	LogoURL      *string         `json:"logo_url"`
	ContactEmail *string         `json:"contact_email"`
	DefaultRole  string          `json:"default_role"`
	Plan         string          `json:"plan"`
	Settings     json.RawMessage `json:"settings"`
}

func newTenantResponse(id string, t *roster.TenantSettings) tenantResponse {
	return tenantResponse{ID: id, Name: t.Name, Slug: t.Slug, LogoURL: t.LogoURL, ContactEmail: t.ContactEmail,
		DefaultRole: t.DefaultRole, Plan: t.Plan, Settings: t.Preferences}
}

// getTenant serves GET /tenant.
func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) {
	t, err := s.Tenants.TenantSettings(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTenantResponse(tenantID(r), t))
}

// patchTenant serves PATCH /tenant: the fields sent change, logo_url and
// contact_email null remove those, settings is replaced whole, and plan is
// not the tenant's to change.
func (s *Server) patchTenant(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if body.has("plan") {
		body.fail("plan", "is read-only: the plan changes with the tenant's subscription")
	}
	body.only("name", "slug", "logo_url", "contact_email", "default_role", "settings", "plan")
	upd := roster.TenantSettingsUpdate{Name: body.string("name"), Slug: body.string("slug"),
		DefaultRole: body.string("default_role")}
	upd.LogoURL, upd.ClearLogoURL = body.nullableString("logo_url")
	upd.ContactEmail, upd.ClearContactEmail = body.nullableString("contact_email")
	if prefs := body.object("settings"); prefs != nil {
		upd.Preferences = body.fields["settings"]
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	t, err := s.Tenants.UpdateTenantSettings(r.Context(), tenantID(r), actor(r), upd)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTenantResponse(tenantID(r), t))
}

// nullableString returns a string field, or clear true when it is null.
func (o *object) nullableString(name string) (v *string, clear bool) {
	if o.isNull(name) {
		return nil, true
	}
	return o.string(name), false
}
