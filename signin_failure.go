package roster

import (
	"context"
	"time"
)

// Kinds of sign-in failure counts.
const (
	FailuresOfAccount = "account" // keyed by the user's id, or "name:" and the name of a user that does not exist
	FailuresOfAddress = "address" // keyed by the client's address
)

// SignInFailureKey names the counters one sign-in attempt is checked
// against and counted in: its account and its address, in a tenant.
type SignInFailureKey struct {
	TenantID string
	Account  string
	Address  string
}

// SignInFailureCount is the failures of one counter within a window, and
// the start of its oldest bucket in it (when the count starts to fall).
type SignInFailureCount struct {
	Failures int
	Oldest   time.Time
}

// SignInFailureService counts failed sign-ins in the database, so that
// every replica throttles on the same counts.
type SignInFailureService interface {
	// CountSignInFailures returns the failures of k's account and of its
	// address in buckets that started after since.
	CountSignInFailures(ctx context.Context, k SignInFailureKey, since time.Time) (account, address SignInFailureCount, err error)

	// RecordSignInFailure adds one failure to k's account and address in
	// the bucket starting at bucket, kept until expires, and deletes a
	// bounded batch of rows expired by now.
	RecordSignInFailure(ctx context.Context, k SignInFailureKey, bucket, expires, now time.Time) error
}
