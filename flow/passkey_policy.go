package flow

import (
	"slices"

	"github.com/rosterhq/roster"
)

// usableFactors returns the methods of methods that pass as a second
// factor under policy. A passkey does not once the policy no longer allows
// passkeys, as it no longer signs in alone; the other methods, enrolled
// before the policy disallowed them, keep working.
func usableFactors(policy *roster.SecurityPolicy, methods []string) []string {
	if policy.AllowsMethod(roster.MFAPasskey) || !slices.Contains(methods, roster.MFAPasskey) {
		return methods
	}
	return slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == roster.MFAPasskey })
}

// withUsableFactors drops from l's methods, and its default, what policy
// stops from passing as a second factor.
func withUsableFactors(policy *roster.SecurityPolicy, l *roster.Login) {
	l.MFAMethods = usableFactors(policy, l.MFAMethods)
	if l.MFADefault != "" && !slices.Contains(l.MFAMethods, l.MFADefault) {
		l.MFADefault = ""
	}
}

// errPasskeyFactorNotAllowed answers a passkey offered as a sign-in's
// second factor in a tenant whose policy does not allow passkeys: the
// answer to any method the sign-in cannot use.
func errPasskeyFactorNotAllowed() error {
	return roster.Invalid(roster.FieldError{Field: "method", Message: "the tenant's security policy does not allow passkey"})
}

// errPasskeyStepUpNotAllowed answers a passkey step-up in a tenant whose
// policy does not allow passkeys, as an enrolment there is answered.
func errPasskeyStepUpNotAllowed() error {
	return roster.Errorf(roster.ECONFLICT, "the tenant's security policy does not allow passkey: step up with another method")
}
