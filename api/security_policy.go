package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// getSecurityPolicy serves GET /tenant/security-policy: the caller's
// tenant's policy, defaults included.
func (s *Server) getSecurityPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.Tenants.SecurityPolicy(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// putSecurityPolicy serves PUT /tenant/security-policy: the whole policy,
// every field required but unique_email, which came later: a PUT without
// it, written before it, keeps the tenant's setting.
func (s *Server) putSecurityPolicy(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// Fields that came later keep the tenant's setting when a PUT written
	// before them leaves them out.
	current, err := s.Tenants.SecurityPolicy(r.Context(), tenantID(r))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := decodeSecurityPolicy(body, current)
	uniqueEmail, ssoRequired, approval := body.bool("unique_email"), body.bool("sso_required"), body.bool("approval_required")
	breakGlass := body.strings("break_glass_user_ids")
	retention, networks, deactivate := body.int("sign_in_retention_days"), body.strings("allowed_networks"), body.int("deactivate_after_days")
	auditRetention := body.int("audit_retention_days")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	p.UniqueEmail, p.SSORequired, p.BreakGlassUserIDs = current.UniqueEmail, current.SSORequired, current.BreakGlassUserIDs
	p.SignInRetentionDays, p.AllowedNetworks, p.DeactivateAfterDays = current.SignInRetentionDays, current.AllowedNetworks, current.DeactivateAfterDays
	p.AuditRetentionDays = current.AuditRetentionDays
	setInt(&p.AuditRetentionDays, auditRetention)
	p.ApprovalRequired = current.ApprovalRequired
	setInt(&p.SignInRetentionDays, retention)
	setInt(&p.DeactivateAfterDays, deactivate)
	if networks != nil {
		p.AllowedNetworks = networks
	}
	setBool(&p.ApprovalRequired, approval)
	setBool(&p.UniqueEmail, uniqueEmail)
	setBool(&p.SSORequired, ssoRequired)
	if breakGlass != nil {
		p.BreakGlassUserIDs = breakGlass
	}
	if err := s.Tenants.SetSecurityPolicy(r.Context(), tenantID(r), actor(r), p); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// decodeSecurityPolicy reads a whole policy from body, reporting absent,
// unknown and mistyped fields on body; the policy checks the values. The
// session limits left out keep their value in current.
func decodeSecurityPolicy(body *object, current *roster.SecurityPolicy) *roster.SecurityPolicy {
	fields := []string{"mfa_required", "allowed_methods", "password", "lockout", "session"}
	body.only(append(fields, "unique_email", "sso_required", "break_glass_user_ids", "sign_in_retention_days",
		"allowed_networks", "deactivate_after_days", "approval_required", "audit_retention_days")...)
	body.need(fields...)
	var p roster.SecurityPolicy
	setBool(&p.MFARequired, body.bool("mfa_required"))
	p.AllowedMethods = body.strings("allowed_methods")
	if o := body.object("password"); o != nil {
		o.only("min_length", "reject_common")
		o.need("min_length", "reject_common")
		setInt(&p.Password.MinLength, o.int("min_length"))
		setBool(&p.Password.RejectCommon, o.bool("reject_common"))
	}
	if o := body.object("lockout"); o != nil {
		o.only("max_attempts", "duration_minutes")
		o.need("max_attempts", "duration_minutes")
		setInt(&p.Lockout.MaxAttempts, o.int("max_attempts"))
		setInt(&p.Lockout.DurationMinutes, o.int("duration_minutes"))
	}
	if o := body.object("session"); o != nil {
		o.only("access_token_minutes", "refresh_token_days", "max_sessions", "idle_timeout_minutes", "absolute_session_lifetime_hours")
		o.need("access_token_minutes", "refresh_token_days")
		setInt(&p.Session.AccessTokenMinutes, o.int("access_token_minutes"))
		setInt(&p.Session.RefreshTokenDays, o.int("refresh_token_days"))
		p.Session.MaxSessions = limit(o, "max_sessions", current.Session.MaxSessions)
		p.Session.IdleTimeoutMinutes = limit(o, "idle_timeout_minutes", current.Session.IdleTimeoutMinutes)
		p.Session.AbsoluteSessionLifetimeHours = limit(o, "absolute_session_lifetime_hours", current.Session.AbsoluteSessionLifetimeHours)
	}
	return &p
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

// limit reads a limit that null leaves unset; absent, it keeps was.
func limit(o *object, name string, was *int) *int {
	switch {
	case !o.has(name):
		return was
	case o.isNull(name):
		return nil
	}
	return o.int(name)
}
