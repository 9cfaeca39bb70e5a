package auth

import (
	"context"

	"github.com/rosterhq/roster"
)

// PasswordPolicy returns the rules a new password of the tenant's users
// must satisfy: those of Passwords with the tenant's own minimum length and
// common-password check. ENOTFOUND.
func (s *SignIn) PasswordPolicy(ctx context.Context, tenantID string) (*PasswordPolicy, error) {
	policy, err := s.policies.SecurityPolicy(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return s.Passwords.WithRules(policy.Password), nil
}

// ChangePassword replaces the password of p's user with next once current
// is right, and ends every other session of theirs: their refresh token
// families but p's (its "sid") are revoked, and sign-ins awaiting a second
// factor end. A wrong current password counts towards the lockout, as at
// sign-in. The caller has checked the step-up. ENOTFOUND for a credential
// without a user; EINVALID naming current_password or new_password;
// ETOOMANY while the account is locked.
func (s *SignIn) ChangePassword(ctx context.Context, p *roster.Principal, by roster.Actor, current, next string) error {
	if p.UserID == "" {
		return roster.Errorf(roster.ENOTFOUND, "this credential does not belong to a user")
	}
	l, err := s.creds.FindLoginByID(ctx, p.TenantID, p.UserID)
	if err != nil {
		return err
	}
	policy, err := s.policies.SecurityPolicy(ctx, p.TenantID)
	if err != nil {
		return err
	}
	now := s.Now()
	if l.Locked(now) {
		return &roster.Error{Code: roster.ETOOMANY, Message: "the account is locked after too many failed attempts: try again later",
			RetryAfter: l.LockedUntil.Sub(now)}
	}
	if l.PasswordHash == "" {
		return roster.Invalid(roster.FieldError{Field: "current_password", Message: "cannot be checked: the account has no password"})
	}
	if ok, _, err := VerifyPassword(l.PasswordHash, current); err != nil || !ok {
		if err := s.recordFailure(ctx, l.User, policy); err != nil {
			return err
		}
		return roster.Invalid(roster.FieldError{Field: "current_password", Message: "is wrong"})
	}
	rules := s.Passwords.WithRules(policy.Password)
	rules.Field = "new_password"
	if err := rules.Check(next, l.User.Email, l.User.UserName); err != nil {
		return err
	}
	if same, _, _ := VerifyPassword(l.PasswordHash, next); same {
		return roster.Invalid(roster.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return s.creds.ChangePassword(ctx, p.TenantID, by, p.UserID, hash, p.SessionID)
}
