package graphql

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/rosterhq/roster"
)

// loaders batch the reads of a request's users' second factors and
// passkeys: a page of users costs one read of each, not one per user.
type loaders struct {
	mfa      *dataloadgen.Loader[string, *roster.MFAStatus]
	passkeys *dataloadgen.Loader[string, []*roster.Passkey]
}

type loadersKey struct{}

// loaderWait is how long a loader gathers keys before it reads: the users
// of a page ask for theirs within it.
const loaderWait = 2 * time.Millisecond

func (s *Server) withLoaders(ctx context.Context) context.Context {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait), dataloadgen.WithBatchCapacity(roster.MaxPageSize)}
	l := &loaders{
		mfa: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*roster.MFAStatus, []error) {
			found, err := s.MFA.Statuses(ctx, tenantID(ctx), ids)
			return inOrder(ids, found, err, func(id string) (*roster.MFAStatus, error) {
				return nil, roster.Errorf(roster.ENOTFOUND, "user not found")
			})
		}, opts...),
		passkeys: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([][]*roster.Passkey, []error) {
			found, err := s.Passkeys.ListOfUsers(ctx, tenantID(ctx), ids)
			return inOrder(ids, found, err, func(string) ([]*roster.Passkey, error) { return []*roster.Passkey{}, nil })
		}, opts...),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}

// inOrder lists found's values in the order of ids, missing ones as
// missing says.
func inOrder[V any](ids []string, found map[string]V, err error, missing func(id string) (V, error)) ([]V, []error) {
	values, errs := make([]V, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		if err != nil {
			errs[i] = err
			continue
		}
		v, ok := found[id]
		if !ok {
			v, errs[i] = missing(id)
		}
		values[i] = v
	}
	return values, errs
}

// prefetch reads, in one statement each, the second factors and passkeys
// of users whose fields below the current one (at path) ask for them, and
// primes the loaders with them, so that a page's users wait for no batch.
func (s *Server) prefetch(ctx context.Context, users []*roster.User, path ...string) error {
	if len(users) == 0 {
		return nil
	}
	wantMFA := selects(ctx, append(slices.Clone(path), "mfa")...)
	wantPasskeys := selects(ctx, append(slices.Clone(path), "passkeys")...)
	if !wantMFA && !wantPasskeys {
		return nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	l, tenant := loadersFrom(ctx), tenantID(ctx)
	passkeyIDs := ids
	if wantMFA {
		statuses, err := s.MFA.Statuses(ctx, tenant, ids)
		if err != nil {
			return err
		}
		if !wantPasskeys {
			// MFA status shows passkeys as a method: read them only for
			// the users who have one.
			passkeyIDs = nil
		}
		for id, st := range statuses {
			l.mfa.Prime(id, st)
			if !wantPasskeys && slices.Contains(st.Methods, roster.MFAPasskey) {
				passkeyIDs = append(passkeyIDs, id)
			}
		}
	}
	if len(passkeyIDs) == 0 {
		return nil
	}
	passkeys, err := s.Passkeys.ListOfUsers(ctx, tenant, passkeyIDs)
	if err != nil {
		return err
	}
	for _, id := range passkeyIDs {
		l.passkeys.Prime(id, append([]*roster.Passkey{}, passkeys[id]...))
	}
	return nil
}

// findUser reads one user and primes the loaders with what its fields ask
// for, so that it waits for no batch either.
func (r *queryResolver) findUser(ctx context.Context, tenant, id string) (*roster.User, error) {
	u, err := r.Server.Users.FindUserByID(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return u, r.prefetch(ctx, []*roster.User{u})
}

// selects reports whether the field being resolved selects the fields
// at path below it.
func selects(ctx context.Context, path ...string) bool {
	opCtx := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name != name {
				continue
			}
			if i == len(path)-1 {
				return true
			}
			next = append(next, graphql.CollectFields(opCtx, f.Selections, nil)...)
		}
		fields = next
	}
	return false
}
