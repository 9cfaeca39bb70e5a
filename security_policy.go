package roster

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// SecurityPolicy is a tenant's rules for passwords, lockout, sessions and
// second factors. Its JSON form is the one stored in the tenant's settings
// and the one the REST API shows.
type SecurityPolicy struct {
	// MFARequired makes a user without a verified second factor enrol one
	// before anything else: their sign-in gets an enrolment-only token.
	MFARequired bool `json:"mfa_required"`
	// AllowedMethods are the methods users may enrol; factors enrolled
	// before a method was disallowed keep working, except passkeys, which
	// then pass neither as a sign-in nor as a second factor.
	AllowedMethods []string      `json:"allowed_methods"`
	Password       PasswordRules `json:"password"`
	Lockout        LockoutRules  `json:"lockout"`
	Session        SessionRules  `json:"session"`
	// UniqueEmail keeps every user's email address their own. Without it
	// users may share one (an admin account and a regular one commonly
	// share a mailbox; SCIM's unique key is userName): sign-in by a shared
	// address then finds no one, and those users sign in by user name.
	UniqueEmail bool `json:"unique_email"`
	// SSORequired refuses password sign-in to users whose email domain an
	// enabled SSO connection of the tenant routes: they sign in there.
	SSORequired bool `json:"sso_required"`
	// BreakGlassUserIDs are the admins who may still sign in with a
	// password while SSORequired, for when the provider is down (Entra's
	// emergency access accounts, excluded from the policy by name).
	BreakGlassUserIDs []string `json:"break_glass_user_ids"`
	// SignInRetentionDays is how long sign-in history is kept.
	SignInRetentionDays int `json:"sign_in_retention_days"`
	// AuditRetentionDays is how long the audit trail (and so the events
	// feed) is kept.
	AuditRetentionDays int `json:"audit_retention_days"`
	// AllowedNetworks are the networks (CIDRs) from which the tenant's
	// users may sign in and its credentials be used; empty allows any.
	AllowedNetworks []string `json:"allowed_networks"`
	// DeactivateAfterDays deactivates users inactive that long (not signed
	// in, or never since they were created), after a warning by mail
	// InactivityWarningDays before; 0 never does.
	DeactivateAfterDays int `json:"deactivate_after_days"`
	// ApprovalRequired makes every new user who joins on their own (an
	// accepted invitation, a just-in-time SSO account) wait, inactive and
	// PendingApproval, until an admin approves them. Users an admin or the
	// identity provider's SCIM client creates are approved by that act.
	ApprovalRequired bool `json:"approval_required"`
}

// NewUserStatus sets u active, or waiting for approval under
// ApprovalRequired: a user who joins on their own.
func (p *SecurityPolicy) NewUserStatus(u *User) {
	u.PendingApproval = p.ApprovalRequired
	u.Active = !p.ApprovalRequired
}

// PasswordRules are what a new password must satisfy, beyond the rules
// every tenant has (a maximum length, no control characters, not the user's
// email or name).
type PasswordRules struct {
	MinLength    int  `json:"min_length"` // in characters
	RejectCommon bool `json:"reject_common"`
}

// LockoutRules lock an account after MaxAttempts failed sign-ins in a row
// (wrong passwords or second-factor codes) for DurationMinutes.
type LockoutRules struct {
	MaxAttempts     int `json:"max_attempts"`
	DurationMinutes int `json:"duration_minutes"`
}

// SessionRules are the lifetimes of the tokens sign-in issues and the
// limits on a user's sessions; a nil limit is no limit.
type SessionRules struct {
	AccessTokenMinutes int `json:"access_token_minutes"`
	RefreshTokenDays   int `json:"refresh_token_days"`
	// MaxSessions is how many sessions a user may have at once: a
	// sign-in past it ends the oldest.
	MaxSessions *int `json:"max_sessions"`
	// IdleTimeoutMinutes refuses the refresh of a session not seen (signed
	// in or refreshed) for that long.
	IdleTimeoutMinutes *int `json:"idle_timeout_minutes"`
	// AbsoluteSessionLifetimeHours refuses the refresh of a session signed
	// in that long ago, however busy.
	AbsoluteSessionLifetimeHours *int `json:"absolute_session_lifetime_hours"`
}

// Security policy defaults: a tenant that never set a policy has these.
const (
	DefaultPasswordMinLength  = 12
	DefaultLockoutAttempts    = 10
	DefaultLockoutMinutes     = 15
	DefaultAccessTokenMinutes = 15
	DefaultRefreshTokenDays   = 30
)

// Bounds of the security policy's numbers.
const (
	MinPasswordLength, MaxPasswordLength         = 8, 128
	MinLockoutAttempts, MaxLockoutAttempts       = 3, 100
	MinLockoutMinutes, MaxLockoutMinutes         = 1, 1440
	MinAccessTokenMinutes, MaxAccessTokenMinutes = 5, 60
	MinRefreshTokenDays, MaxRefreshTokenDays     = 1, 90
	MinSignInRetentionDays, MaxRetentionDays     = 1, 3650
	MinAuditRetentionDays                        = 30
	MinDeactivateAfterDays                       = 30
	MaxAllowedNetworks                           = 100

	MinMaxSessions, MaxMaxSessions                     = 1, 100
	MinIdleTimeoutMinutes, MaxIdleTimeoutMinutes       = 5, 43200 // 30 days
	MinAbsoluteLifetimeHours, MaxAbsoluteLifetimeHours = 1, 2160  // 90 days
)

// InactivityWarningDays is how long before deactivating an inactive user
// they are warned by mail.
const InactivityWarningDays = 7

// DefaultSecurityPolicy returns the policy of a tenant that has not set one.
func DefaultSecurityPolicy() *SecurityPolicy {
	return &SecurityPolicy{
		AllowedMethods:      MFAMethods(),
		Password:            PasswordRules{MinLength: DefaultPasswordMinLength, RejectCommon: true},
		Lockout:             LockoutRules{MaxAttempts: DefaultLockoutAttempts, DurationMinutes: DefaultLockoutMinutes},
		Session:             SessionRules{AccessTokenMinutes: DefaultAccessTokenMinutes, RefreshTokenDays: DefaultRefreshTokenDays},
		UniqueEmail:         true,
		BreakGlassUserIDs:   []string{},
		SignInRetentionDays: DefaultSignInRetentionDays,
		AuditRetentionDays:  DefaultAuditRetentionDays,
		AllowedNetworks:     []string{},
	}
}

// Validate checks every rule of the policy and names each field at fault,
// nested fields as "password.min_length".
func (p *SecurityPolicy) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }

	seen := map[string]bool{}
	for _, m := range p.AllowedMethods {
		switch {
		case !IsMFAMethod(m):
			add("allowed_methods", fmt.Sprintf("%q is not a method: use %s", m, strings.Join(MFAMethods(), ", ")))
		case seen[m]:
			add("allowed_methods", fmt.Sprintf("names %s twice", m))
		}
		seen[m] = true
	}
	switch {
	case len(p.AllowedMethods) == 0:
		add("allowed_methods", "must name at least one method")
	case p.MFARequired && !seen[MFATOTP]:
		// TOTP is the only method users can enrol yet: requiring MFA
		// without it would leave new users nothing to enrol.
		add("allowed_methods", "must include totp while mfa_required is true")
	}
	for _, r := range []struct {
		field  string
		v      *int // nil only for a limit left unset
		lo, hi int
		unset  string
	}{
		{"password.min_length", &p.Password.MinLength, MinPasswordLength, MaxPasswordLength, ""},
		{"lockout.max_attempts", &p.Lockout.MaxAttempts, MinLockoutAttempts, MaxLockoutAttempts, ""},
		{"lockout.duration_minutes", &p.Lockout.DurationMinutes, MinLockoutMinutes, MaxLockoutMinutes, ""},
		{"session.access_token_minutes", &p.Session.AccessTokenMinutes, MinAccessTokenMinutes, MaxAccessTokenMinutes, ""},
		{"session.refresh_token_days", &p.Session.RefreshTokenDays, MinRefreshTokenDays, MaxRefreshTokenDays, ""},
		{"session.max_sessions", p.Session.MaxSessions, MinMaxSessions, MaxMaxSessions, noLimit},
		{"session.idle_timeout_minutes", p.Session.IdleTimeoutMinutes, MinIdleTimeoutMinutes, MaxIdleTimeoutMinutes, noLimit},
		{"session.absolute_session_lifetime_hours", p.Session.AbsoluteSessionLifetimeHours, MinAbsoluteLifetimeHours, MaxAbsoluteLifetimeHours, noLimit},
		{"sign_in_retention_days", &p.SignInRetentionDays, MinSignInRetentionDays, MaxRetentionDays, ""},
		{"audit_retention_days", &p.AuditRetentionDays, MinAuditRetentionDays, MaxRetentionDays, ""},
	} {
		if r.v != nil && (*r.v < r.lo || *r.v > r.hi) {
			add(r.field, fmt.Sprintf("must be from %d to %d%s", r.lo, r.hi, r.unset))
		}
	}
	if d := p.DeactivateAfterDays; d != 0 && (d < MinDeactivateAfterDays || d > MaxRetentionDays) {
		add("deactivate_after_days", fmt.Sprintf("must be 0 (never) or from %d to %d", MinDeactivateAfterDays, MaxRetentionDays))
	}
	if len(p.AllowedNetworks) > MaxAllowedNetworks {
		add("allowed_networks", fmt.Sprintf("must name at most %d networks", MaxAllowedNetworks))
	}
	for _, n := range p.AllowedNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			add("allowed_networks", fmt.Sprintf("%q is not a network in CIDR notation (203.0.113.0/24, 2001:db8::/48)", n))
		}
	}
	if len(p.BreakGlassUserIDs) > MaxBreakGlassUsers {
		add("break_glass_user_ids", fmt.Sprintf("must name at most %d users", MaxBreakGlassUsers))
	}
	for _, id := range p.BreakGlassUserIDs {
		if msg := textProblem(id, 36); msg != "" || id == "" {
			add("break_glass_user_ids", fmt.Sprintf("%q is not a user id", id))
		}
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// noLimit is how a limit's range error says it may be left unset.
const noLimit = ", or null for no limit"

// MaxBreakGlassUsers bounds the break-glass list: a handful of
// emergency accounts, not a second way around single sign-on.
const MaxBreakGlassUsers = 10

// BreakGlass reports whether u may sign in with a password although
// single sign-on is required: an active admin the policy names.
func (p *SecurityPolicy) BreakGlass(u *User) bool {
	return u.Role == RoleAdmin && slices.Contains(p.BreakGlassUserIDs, u.ID)
}

// AllowsAddress reports whether the policy's networks allow a client at
// address (AddressAllowed).
func (p *SecurityPolicy) AllowsAddress(address string) bool {
	return AddressAllowed(p.AllowedNetworks, address)
}

// AddressAllowed reports whether networks allow a client at address: any
// address when there are none, else one in one of them. An address that
// does not parse is in none.
func AddressAllowed(networks []string, address string) bool {
	if len(networks) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, n := range networks {
		if prefix, err := netip.ParsePrefix(n); err == nil && prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// AllowsMethod reports whether users may enrol method.
func (p *SecurityPolicy) AllowsMethod(method string) bool {
	return slices.Contains(p.AllowedMethods, method)
}

// LockFor is how long a lockout lasts.
func (p *SecurityPolicy) LockFor() time.Duration {
	return time.Duration(p.Lockout.DurationMinutes) * time.Minute
}

// AccessTokenTTL is how long an access token lives.
func (p *SecurityPolicy) AccessTokenTTL() time.Duration {
	return time.Duration(p.Session.AccessTokenMinutes) * time.Minute
}

// RefreshTokenTTL is how long a refresh token lives; each refresh issues
// the next with a lifetime of its own.
func (p *SecurityPolicy) RefreshTokenTTL() time.Duration {
	return time.Duration(p.Session.RefreshTokenDays) * 24 * time.Hour
}

// SessionExpired says why a session of policy may not be refreshed at now,
// created at created and last seen at lastSeen, or "" when it may.
func (p *SecurityPolicy) SessionExpired(now, created, lastSeen time.Time) string {
	if h := p.Session.AbsoluteSessionLifetimeHours; h != nil && !now.Before(created.Add(time.Duration(*h)*time.Hour)) {
		return "the session has reached the organisation's absolute session lifetime: sign in again"
	}
	if m := p.Session.IdleTimeoutMinutes; m != nil && !now.Before(lastSeen.Add(time.Duration(*m)*time.Minute)) {
		return "the session was idle longer than the organisation allows: sign in again"
	}
	return ""
}
