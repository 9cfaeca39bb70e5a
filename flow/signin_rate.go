package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/ratelimit"
)

// SignInRate is how sign-in is throttled (ROSTER_SIGNIN_RATE_*). Failures
// are what count against an account and an address: a user signing in
// again and again, or an office of hundreds behind one address, is never
// slowed by its successes. The failures are counted in PostgreSQL, shared
// by every replica; the ceiling on all attempts is per process, since what
// it guards is that process's CPU (every attempt costs an argon2id hash).
type SignInRate struct {
	// Window is how long a failure counts.
	Window time.Duration
	// AccountFailures is the failed sign-ins one account may take within
	// Window, from any address; the next attempt is refused until the
	// oldest leaves the window. An admin's unlock and a successful sign-in
	// clear them.
	AccountFailures int
	// AddressFailures is the failed sign-ins one address may make at one
	// tenant within Window, at any of its accounts.
	AddressFailures int
	// AddressAttempts is the sign-in attempts of any outcome one address
	// may make a minute at one process, per endpoint (password, second
	// factor, passkey begin and finish): a ceiling for floods, far above
	// any office's shift change.
	AddressAttempts int
}

// DefaultSignInRate returns the limits used where none are configured:
// 10 failures an account and 100 an address in 5 minutes, and 600
// attempts an address a minute.
func DefaultSignInRate() SignInRate {
	return SignInRate{Window: 5 * time.Minute, AccountFailures: 10, AddressFailures: 100, AddressAttempts: 600}
}

// withDefaults fills the zero fields of r from DefaultSignInRate.
func (r SignInRate) withDefaults() SignInRate {
	d := DefaultSignInRate()
	if r.Window <= 0 {
		r.Window = d.Window
	}
	if r.AccountFailures <= 0 {
		r.AccountFailures = d.AccountFailures
	}
	if r.AddressFailures <= 0 {
		r.AddressFailures = d.AddressFailures
	}
	if r.AddressAttempts <= 0 {
		r.AddressAttempts = d.AddressAttempts
	}
	return r
}

// throttle applies a SignInRate: the ceiling in memory, the failure counts
// in the database.
type throttle struct {
	rate     SignInRate
	failures roster.SignInFailureService
	attempts *ratelimit.Limiter
}

func newThrottle(rate SignInRate, failures roster.SignInFailureService) *throttle {
	rate = rate.withDefaults()
	return &throttle{
		rate:     rate,
		failures: failures,
		attempts: ratelimit.New(float64(rate.AddressAttempts)/60, rate.AddressAttempts),
	}
}

// attempt takes one of the address's attempts at endpoint. ETOOMANY over
// the ceiling.
func (t *throttle) attempt(endpoint, ip string) error {
	if ok, wait := t.attempts.Allow(endpoint + "/" + ip); !ok {
		return tooManyAttempts(wait)
	}
	return nil
}

// bucket is the span one counter row covers: a tenth of the window, so a
// count is never more than a tenth out of date, and a key has at most
// eleven rows.
func (t *throttle) bucket() time.Duration {
	return max(t.rate.Window/10, time.Second)
}

// check returns ETOOMANY when k's account or address has used up its
// failures in the window before now, saying when the oldest leaves it.
func (t *throttle) check(ctx context.Context, k roster.SignInFailureKey, now time.Time) error {
	account, address, err := t.failures.CountSignInFailures(ctx, k, now.Add(-t.rate.Window))
	if err != nil {
		return err
	}
	for _, c := range []struct {
		count roster.SignInFailureCount
		limit int
	}{{account, t.rate.AccountFailures}, {address, t.rate.AddressFailures}} {
		if c.count.Failures >= c.limit {
			wait := c.count.Oldest.Add(t.rate.Window + t.bucket()).Sub(now)
			return tooManyAttempts(max(wait, time.Second))
		}
	}
	return nil
}

// fail counts a failed attempt against k's account and address.
func (t *throttle) fail(ctx context.Context, k roster.SignInFailureKey, now time.Time) error {
	bucket := now.Truncate(t.bucket())
	return t.failures.RecordSignInFailure(ctx, k, bucket, bucket.Add(t.bucket()+t.rate.Window), now)
}

// unknownAccount is the account key of a user name no user has: a hash,
// since people type their password into the user name box, and the same
// for every spelling, as the lookup is.
func unknownAccount(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	return "name:" + hex.EncodeToString(sum[:16])
}
