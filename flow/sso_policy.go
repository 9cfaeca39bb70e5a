package flow

import (
	"context"

	"github.com/rosterhq/roster"
)

// SSODomains finds the enabled connection routing a domain; a
// roster.SSOService is one.
type SSODomains interface {
	FindConnectionByDomain(ctx context.Context, tenantID, domain string) (*roster.SSOConnection, error)
}

// requireSSO refuses a password sign-in of u when the tenant requires
// single sign-on and a connection routes u's domain, unless u is a
// break-glass admin. It runs after the password is checked, so that the
// answer tells nothing to someone who does not know it. EFORBIDDEN naming
// the connection to use.
func (s *SignIn) requireSSO(ctx context.Context, policy *roster.SecurityPolicy, u *roster.User) error {
	if !policy.SSORequired || s.SSO == nil || policy.BreakGlass(u) {
		return nil
	}
	domain := roster.EmailDomain(u.Email)
	if domain == "" {
		return nil
	}
	c, err := s.SSO.FindConnectionByDomain(ctx, u.TenantID, domain)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	return roster.Errorf(roster.EFORBIDDEN, "your organisation requires single sign-on: sign in with %s instead of a password", c.Name)
}
