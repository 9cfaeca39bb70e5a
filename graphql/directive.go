package graphql

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rosterhq/roster"
)

// permissions maps the schema's Permission to the root's.
func (p Permission) root() roster.Permission {
	switch p {
	case PermissionUsersWrite:
		return roster.PermUsersWrite
	case PermissionAuditRead:
		return roster.PermAuditRead
	default:
		return roster.PermUsersRead
	}
}

// hasPermission is @hasPermission: the caller must hold the permission,
// as the REST route does; an enrolment-only credential holds none.
func hasPermission(ctx context.Context, _ any, next graphql.Resolver, perm Permission) (any, error) {
	p := roster.PrincipalFromContext(ctx)
	if p.EnrolmentOnly() {
		return nil, roster.Errorf(roster.EFORBIDDEN,
			"the tenant requires a second factor: enrol one (startTotpEnrollment, startCodeEnrollment, beginPasskeyRegistration) and step up first")
	}
	if !p.Can(perm.root()) {
		return nil, roster.Errorf(roster.EFORBIDDEN, "this requires the %s permission", perm.root())
	}
	return next(ctx)
}

// stepUp is @stepUp: the caller's sign-in must be recent and strong
// enough, by the rule REST applies to the same change.
func (s *Server) stepUp(ctx context.Context, _ any, next graphql.Resolver, _ StepUpRule) (any, error) {
	if err := s.SignIn.RequireStepUp(ctx, roster.PrincipalFromContext(ctx), roster.StepUpSelf()); err != nil {
		return nil, err
	}
	return next(ctx)
}
