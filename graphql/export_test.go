package graphql

import "context"

// WithoutUsersPages sends a request's users fields the generated way, for
// tests that compare the two answers.
func WithoutUsersPages(ctx context.Context) context.Context {
	return context.WithValue(ctx, slowPathKey{}, true)
}
