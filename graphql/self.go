package graphql

import (
	"context"

	"github.com/rosterhq/roster"
)

// self returns the caller's tenant, the actor, and the user a
// self-service change is to: ENOTFOUND for a credential of no user.
func self(ctx context.Context) (tenant string, by roster.Actor, userID string, err error) {
	p, tenant, by := caller(ctx)
	userID, err = p.SelfUserID()
	return tenant, by, userID, err
}

// selfMFAChange makes a change to the caller's second factors and
// returns them as they are after it.
func (r *mutationResolver) selfMFAChange(ctx context.Context, change func(tenant string, by roster.Actor, userID string) error) (*MFAStatus, error) {
	tenant, by, userID, err := self(ctx)
	if err != nil {
		return nil, err
	}
	if err := change(tenant, by, userID); err != nil {
		return nil, err
	}
	st, err := r.Server.MFA.Status(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	passkeys, err := r.Server.Passkeys.List(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	return newMFAStatus(st, passkeys), nil
}
