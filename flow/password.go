package flow

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
)

var _ roster.PasswordFlow = (*Passwords)(nil)

// Passwords is the one place a password is set or changed: every path
// (REST, SCIM, invitations, the password change) applies the tenant's
// policy here and hashes with argon2id here.
type Passwords struct {
	logins   roster.LoginService
	policies Policies

	// Rules holds what every tenant's passwords follow; each tenant's
	// policy sets the minimum length and the common-password check.
	Rules *auth.PasswordPolicy
	// Now is the clock the lockout is read from.
	Now func() time.Time
}

// NewPasswords returns Passwords under the tenants' policies in policies.
func NewPasswords(logins roster.LoginService, policies Policies) *Passwords {
	return &Passwords{logins: logins, policies: policies, Rules: auth.NewPasswordPolicy(), Now: time.Now}
}

// rules returns the rules of the tenant's password policy. ENOTFOUND.
func (p *Passwords) rules(ctx context.Context, tenantID string) (*auth.PasswordPolicy, *roster.SecurityPolicy, error) {
	policy, err := p.policies.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	return p.Rules.WithRules(policy.Password), policy, nil
}

// SetPassword checks password against the tenant's policy for u (it may
// not hold u's email or user name) and sets u.SetPasswordHash to its
// argon2id hash, for the store to write with u. EINVALID naming
// "password"; ENOTFOUND for an unknown tenant.
func (p *Passwords) SetPassword(ctx context.Context, tenantID string, u *roster.User, password string) error {
	policy, err := p.policies.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return err
	}
	return p.SetPasswordUnder(policy, u, password)
}

// SetPasswordUnder is SetPassword under policy, for a tenant not stored
// yet (a sign-up's, whose policy is the default). EINVALID naming
// "password".
func (p *Passwords) SetPasswordUnder(policy *roster.SecurityPolicy, u *roster.User, password string) error {
	if err := p.Rules.WithRules(policy.Password).Check(password, u.Email, u.UserName); err != nil {
		return err
	}
	var err error
	u.SetPasswordHash, err = auth.HashPassword(password)
	return err
}

// ChangePassword replaces the password of p's user with next once current
// is right, and ends every other session of theirs: their refresh token
// families but p's (its "sid") are revoked, and sign-ins awaiting a second
// factor end. A wrong current password counts towards the lockout, as at
// sign-in. The caller has checked the step-up. ENOTFOUND for a credential
// without a user; EINVALID naming current_password or new_password;
// ETOOMANY while the account is locked.
func (p *Passwords) ChangePassword(ctx context.Context, pr *roster.Principal, by roster.Actor, current, next string) error {
	userID, err := pr.SelfUserID()
	if err != nil {
		return err
	}
	l, err := p.logins.FindLoginByID(ctx, pr.TenantID, userID)
	if err != nil {
		return err
	}
	rules, policy, err := p.rules(ctx, pr.TenantID)
	if err != nil {
		return err
	}
	if err := l.CheckUnlocked(p.Now()); err != nil {
		return err
	}
	if l.PasswordHash == "" {
		return roster.Invalid(roster.FieldError{Field: "current_password", Message: "cannot be checked: the account has no password"})
	}
	if ok, _, err := auth.VerifyPassword(l.PasswordHash, current); err != nil || !ok {
		if err := recordFailure(ctx, p.logins, l.User, policy, "", ""); err != nil {
			return err
		}
		return roster.Invalid(roster.FieldError{Field: "current_password", Message: "is wrong"})
	}
	rules.Field = "new_password"
	if err := rules.Check(next, l.User.Email, l.User.UserName); err != nil {
		return err
	}
	if same, _, _ := auth.VerifyPassword(l.PasswordHash, next); same {
		return roster.Invalid(roster.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	return p.logins.ChangePassword(ctx, pr.TenantID, by, userID, hash, pr.SessionID)
}
