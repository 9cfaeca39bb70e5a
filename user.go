package roster

import (
	"context"
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is a person in a tenant's directory.
type User struct {
	ID          string  `db:"id"`
	TenantID    string  `db:"tenant_id"`
	UserName    string  `db:"user_name"`
	Email       string  `db:"email"`
	GivenName   string  `db:"given_name"`
	FamilyName  string  `db:"family_name"`
	DisplayName string  `db:"display_name"`
	ExternalID  *string `db:"external_id"`
	Role        string  `db:"role"`
	Active      bool    `db:"active"`
	// PendingApproval says the user waits, inactive, for an admin's
	// approval (the approval_required policy); activating them approves
	// them.
	PendingApproval bool       `db:"pending_approval"`
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	LastLoginAt     *time.Time `db:"last_login_at"`
	Version         int64      `db:"version"`

	// SetPasswordHash, when set on a user being created or in an update,
	// becomes their password (an argon2id PHC string). It is never read back.
	SetPasswordHash string `db:"-"`

	// EmailAsGiven, set by a writer that stores the address an identity
	// provider pushed (SCIM: a string, which Entra fills with values such
	// as "emailName357"), has Validate take any storable text as the
	// email, where REST and invitations have it judged as an address.
	EmailAsGiven bool `db:"-"`

	// Attributes holds what identity providers send beyond Roster's own
	// fields (SCIM emails, phone numbers, title, the enterprise extension...),
	// as a JSON object kept for them as sent.
	Attributes json.RawMessage `db:"attributes"`
}

// NewUser is a user about to be created, before the request's fields are
// applied: active, and of the tenant's default role (an empty Role, which
// the store fills in), unless the request says otherwise.
func NewUser() *User {
	return &User{Active: true}
}

// Limits on user fields.
const (
	MaxEmailLength = 254 // RFC 5321 path limit
	MaxNameLength  = 255

	MaxAttributesBytes = 64 << 10
)

// Normalize trims surrounding whitespace, turns an empty external id into
// none, and lets the user name default to the email.
func (u *User) Normalize() {
	u.UserName = strings.TrimSpace(u.UserName)
	u.Email = strings.TrimSpace(u.Email)
	u.GivenName = strings.TrimSpace(u.GivenName)
	u.FamilyName = strings.TrimSpace(u.FamilyName)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if u.ExternalID != nil && strings.TrimSpace(*u.ExternalID) == "" {
		u.ExternalID = nil
	}
	if u.UserName == "" {
		u.UserName = u.Email
	}
	if len(u.Attributes) == 0 || string(u.Attributes) == "null" {
		u.Attributes = json.RawMessage("{}")
	}
}

// Validate checks every rule a stored user must satisfy, whoever writes it
// (REST, SCIM or the CLI), and names each field at fault. The email must
// be an address unless EmailAsGiven.
func (u *User) Validate() error {
	return u.validate(u.EmailAsGiven)
}

// ValidateUpdate is Validate for a change to before: an email left as it
// was is not judged again, so that a REST change to another field of a
// user an identity provider gave an address REST would refuse goes
// through.
func (u *User) ValidateUpdate(before *User) error {
	return u.validate(u.EmailAsGiven || u.Email == before.Email)
}

func (u *User) validate(emailAsGiven bool) error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }

	if msg := emailProblem(u.Email, emailAsGiven); msg != "" {
		add("email", msg)
	}
	if u.UserName == "" {
		add("user_name", "is required")
	} else if msg := textProblem(u.UserName, MaxNameLength); msg != "" {
		add("user_name", msg)
	}
	for _, f := range []struct{ name, value string }{
		{"given_name", u.GivenName},
		{"family_name", u.FamilyName},
		{"display_name", u.DisplayName},
	} {
		if msg := textProblem(f.value, MaxNameLength); msg != "" {
			add(f.name, msg)
		}
	}
	if u.ExternalID != nil {
		if msg := textProblem(*u.ExternalID, MaxNameLength); msg != "" {
			add("external_id", msg)
		}
	}
	if msg := RoleNameProblem(u.Role); msg != "" {
		add("role", msg)
	}
	if len(u.Attributes) > MaxAttributesBytes {
		add("attributes", "are too large")
	} else if !json.Valid(u.Attributes) || u.Attributes[0] != '{' {
		add("attributes", "must be a JSON object")
	}
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// emailProblem says what is wrong with an email address, or "". asGiven
// takes any storable text of an address's length.
func emailProblem(email string, asGiven bool) string {
	switch {
	case email == "":
		return "is required"
	case len(email) > MaxEmailLength:
		return "must be at most 254 characters"
	}
	if msg := textProblem(email, MaxEmailLength); msg != "" || asGiven {
		return msg
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "must be a valid email address"
	}
	at := strings.LastIndexByte(email, '@')
	if len(email[:at]) > 64 || !validDomain(email[at+1:]) {
		return "must be a valid email address"
	}
	return ""
}

// validDomain reports whether s is a host name with at least two labels,
// each of letters (of any script), digits and inner hyphens: what mail can
// be delivered to, and what JSON Schema's idn-email accepts.
func validDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}

// textProblem says what is wrong with a free-text value, or "". Control
// characters (NUL above all, which PostgreSQL cannot store) are refused.
func textProblem(s string, max int) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > max {
		return "is too long"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}

// UserUpdate is a partial change to a user: nil fields are left alone.
// ClearExternalID removes the external id.
type UserUpdate struct {
	UserName        *string
	Email           *string
	GivenName       *string
	FamilyName      *string
	DisplayName     *string
	ExternalID      *string
	ClearExternalID bool
	Role            *string
	Active          *bool
}

// Apply writes the given fields onto u.
func (upd UserUpdate) Apply(u *User) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.UserName, upd.UserName)
	set(&u.Email, upd.Email)
	set(&u.GivenName, upd.GivenName)
	set(&u.FamilyName, upd.FamilyName)
	set(&u.DisplayName, upd.DisplayName)
	if upd.ClearExternalID {
		u.ExternalID = nil
	} else if upd.ExternalID != nil {
		v := *upd.ExternalID
		u.ExternalID = &v
	}
	if upd.Role != nil {
		u.Role = *upd.Role
	}
	if upd.Active != nil {
		u.Active = *upd.Active
	}
}

// User list sort orders; a leading "-" means descending.
const (
	SortCreatedAt   = "created_at"
	SortEmail       = "email"
	SortName        = "name" // family name, then given name
	SortLastLoginAt = "last_login_at"
)

// Page sizes of lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ValidPageSize reports whether n is a page size a list may be asked for.
func ValidPageSize(n int) bool {
	return n >= 1 && n <= MaxPageSize
}

// UserFilter selects and orders a page of users. Zero values mean "any".
type UserFilter struct {
	// Query is a search: word prefixes of email, user name, given or
	// family name, and e-mail address prefixes (terms with an @).
	Query string
	// Email selects the users with exactly this address, in any case.
	Email  string
	Role   string
	Active *bool
	// MFA selects users with (true) or without (false) a verified second
	// factor; MFAMethod those with this verified method.
	MFA       *bool
	MFAMethod string
	// LastLoginBefore selects users whose last sign-in was before it;
	// NeverSignedIn those who never signed in. Inactive users are both.
	LastLoginBefore *time.Time
	NeverSignedIn   bool
	// PendingApproval selects the users waiting for an admin's approval
	// (true) or the others (false).
	PendingApproval *bool
	// Team selects the members of this team and of its subteams.
	Team string
	// Scope narrows the selection to the users the caller reaches
	// (Principal.UserScope); it is the caller's, never a query key.
	Scope  UserScope
	Sort   string // one of the Sort* names, optionally prefixed with "-"
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // opaque, from a previous page's NextCursor
}

// Params is the filter as a request gives it, with the users list's query
// keys and only those given: how jobs keep it and audit events show it.
func (f UserFilter) Params() map[string]any {
	p := map[string]any{}
	if f.Query != "" {
		p["q"] = f.Query
	}
	if f.Email != "" {
		p["email"] = f.Email
	}
	if f.Role != "" {
		p["role"] = f.Role
	}
	if f.Active != nil {
		p["active"] = *f.Active
	}
	if f.MFA != nil {
		p["mfa"] = map[bool]string{true: "enabled", false: "disabled"}[*f.MFA]
	}
	if f.MFAMethod != "" {
		p["mfa_method"] = f.MFAMethod
	}
	if f.LastLoginBefore != nil {
		p["last_login_before"] = f.LastLoginBefore.UTC().Format(time.RFC3339Nano)
	}
	if f.NeverSignedIn {
		p["never_signed_in"] = true
	}
	if f.PendingApproval != nil {
		p["pending_approval"] = *f.PendingApproval
	}
	if f.Team != "" {
		p["team"] = f.Team
	}
	return p
}

// UserFilterKeys are the keys of a users selection, in the list's query
// and a bulk action's filter alike.
var UserFilterKeys = []string{"q", "email", "role", "active", "mfa", "mfa_method", "last_login_before", "never_signed_in", "pending_approval", "team"}

// UserPage is one page of users and the cursor of the next, "" at the end.
type UserPage struct {
	Items      []*User
	NextCursor string
}

// UserCountCap is where a count stops that the stats counters cannot
// give (a search, a sign-in time): a word prefix can match most of a large
// tenant, and counting every match would cost more than the page it counts.
const UserCountCap = 500

// UserCount is how many users a filter selects. Capped means there are
// more than Count (which is then UserCountCap).
type UserCount struct {
	Count  int64
	Capped bool
}

// Actor is who makes a change; it is written to the audit trail.
type Actor struct {
	Type      string // a Principal kind, or "system" for the CLI
	ID        string // user id, token id or a system name
	UserID    string // the Roster user acting, when there is one
	RequestID string
	// Bounded actors (a request's caller) may hand out only what they hold,
	// Permissions; the CLI, sign-in and provisioning clients, which apply
	// what an administrator decided, are not bounded.
	Bounded     bool
	Permissions []Permission
	// AsUser is whether the actor acts with its user's whole standing (a
	// session, not a scoped token or key): only then does what the user is
	// in the tenant beyond permissions, such as a team's admin, count.
	AsUser bool
}

// ActorSystem is the actor of changes made from the command line.
const ActorSystem = "system"

// ActorOf returns the actor for changes made by p in the request requestID.
func ActorOf(p *Principal, requestID string) Actor {
	id := p.Subject
	if p.Kind == PrincipalAPIToken {
		id = p.TokenID
	}
	// A SCIM client applies the group mappings an administrator set; its
	// scope bounds what it reaches, not the roles it applies.
	bounded := !p.Can(PermSCIMProvision)
	return Actor{Type: p.Kind, ID: id, UserID: p.UserID, RequestID: requestID, Bounded: bounded, Permissions: p.Delegable(),
		AsUser: p.UserID != "" && len(p.Scopes) == 0}
}

// UserService reads and changes a tenant's users. Every method is scoped to
// tenantID; a user of another tenant is ENOTFOUND.
type UserService interface {
	// CreateUser validates and stores a new user. EINVALID, ECONFLICT when
	// the user name is taken in the tenant, or the email is while the
	// tenant's policy keeps addresses unique.
	CreateUser(ctx context.Context, tenantID string, by Actor, u *User) (*User, error)

	// FindUserByID returns one user. ENOTFOUND.
	FindUserByID(ctx context.Context, tenantID, id string) (*User, error)

	// FindUsersByEmail returns the tenant's users with this address, in any
	// case: one, or several where the tenant lets users share an address
	// (at most MaxPageSize).
	FindUsersByEmail(ctx context.Context, tenantID, email string) ([]*User, error)

	// FindUsers returns a page of users. EINVALID for a bad filter or cursor.
	FindUsers(ctx context.Context, tenantID string, f UserFilter) (*UserPage, error)

	// CountUsers counts the users f selects (its Sort, Limit and Cursor are
	// ignored). EINVALID for a bad filter.
	CountUsers(ctx context.Context, tenantID string, f UserFilter) (UserCount, error)

	// UpdateUser reads the user with its row locked, applies change, checks
	// the result and writes it, all in one transaction. ENOTFOUND, EINVALID,
	// ECONFLICT (taken email or user name; last active admin), EPRECONDITION
	// when ifVersion is non-zero and stale (NoVersion always is).
	UpdateUser(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64, change func(*User) error) (*User, error)

	// QueryUsers returns a window of users matching q, and how many match
	// in all. EINVALID for a condition the store cannot evaluate.
	QueryUsers(ctx context.Context, tenantID string, q UserQuery) ([]*User, int, error)

	// DeleteUser removes a user. ENOTFOUND, ECONFLICT for the last active
	// admin, EPRECONDITION when ifVersion is non-zero and stale (NoVersion
	// always is).
	DeleteUser(ctx context.Context, tenantID string, by Actor, id string, ifVersion int64) error
}
