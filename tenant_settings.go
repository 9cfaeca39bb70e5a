package roster

import (
	"context"
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"
)

// TenantSettings is what an admin sees and edits of their organisation at
// /api/v1/tenant. Plan is read-only here: it is the tenant's billing plan.
type TenantSettings struct {
	Name         string
	Slug         string
	LogoURL      *string
	ContactEmail *string
	// DefaultRole is the role of users who arrive without one: provisioned
	// over SCIM, created just in time by single sign-on, signed up.
	DefaultRole string
	Plan        string
	// Preferences is a free JSON object the tenant keeps for itself,
	// shown as "settings".
	Preferences json.RawMessage
}

// TenantSettingsUpdate is a change to the settings; nil fields are left
// as they are. ClearLogoURL and ClearContactEmail remove those.
type TenantSettingsUpdate struct {
	Name              *string
	Slug              *string
	LogoURL           *string
	ClearLogoURL      bool
	ContactEmail      *string
	ClearContactEmail bool
	DefaultRole       *string
	Preferences       json.RawMessage
}

// Limits on tenant settings.
const (
	MaxTenantPreferencesBytes = 16 << 10
	MaxLogoURLLength          = 2048
)

// Apply makes the update's changes to s.
func (upd TenantSettingsUpdate) Apply(s *TenantSettings) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&s.Name, upd.Name)
	set(&s.Slug, upd.Slug)
	set(&s.DefaultRole, upd.DefaultRole)
	if upd.LogoURL != nil {
		v := strings.TrimSpace(*upd.LogoURL)
		s.LogoURL = &v
	} else if upd.ClearLogoURL {
		s.LogoURL = nil
	}
	if upd.ContactEmail != nil {
		v := strings.TrimSpace(*upd.ContactEmail)
		s.ContactEmail = &v
	} else if upd.ClearContactEmail {
		s.ContactEmail = nil
	}
	if upd.Preferences != nil {
		s.Preferences = upd.Preferences
	}
}

// Validate checks the settings but the default role, which only the
// tenant's roles can judge (the store does, with them).
func (s *TenantSettings) Validate() error {
	t := Tenant{Name: s.Name, Slug: s.Slug, Plan: s.Plan}
	var fields []FieldError
	if err := t.Validate(); err != nil {
		fields = append(fields, err.(*Error).Fields...)
	}
	if s.LogoURL != nil {
		if u, err := url.Parse(*s.LogoURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			len(*s.LogoURL) > MaxLogoURLLength || textProblem(*s.LogoURL, MaxLogoURLLength) != "" {
			fields = append(fields, FieldError{Field: "logo_url", Message: "must be an https:// URL of at most 2048 characters"})
		}
	}
	if s.ContactEmail != nil {
		if a, err := mail.ParseAddress(*s.ContactEmail); err != nil || a.Address != *s.ContactEmail || len(a.Address) > MaxEmailLength {
			fields = append(fields, FieldError{Field: "contact_email", Message: "must be an email address"})
		}
	}
	switch {
	case len(s.Preferences) > MaxTenantPreferencesBytes:
		fields = append(fields, FieldError{Field: "settings", Message: "must be at most 16 KiB of JSON"})
	case !json.Valid(s.Preferences) || s.Preferences[0] != '{':
		fields = append(fields, FieldError{Field: "settings", Message: "must be a JSON object"})
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// TenantSettingsService reads and changes a tenant's settings.
type TenantSettingsService interface {
	// TenantSettings returns the caller's tenant's settings. ENOTFOUND.
	TenantSettings(ctx context.Context, tenantID string) (*TenantSettings, error)

	// UpdateTenantSettings applies upd, audited as tenant.updated with each
	// changed field before and after. EINVALID (a default role that is no
	// role of the tenant, or admin), ECONFLICT when the slug is taken.
	UpdateTenantSettings(ctx context.Context, tenantID string, by Actor, upd TenantSettingsUpdate) (*TenantSettings, error)
}
