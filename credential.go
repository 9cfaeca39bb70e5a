package roster

import (
	"context"
	"encoding/json"
	"time"
)

// Login is what sign-in needs to know of a user: who they are, and the state
// of their password and second factors.
type Login struct {
	User         *User
	PasswordHash string // "" when the user has no password
	FailedLogins int
	LockedUntil  *time.Time
	MFAMethods   []string // verified methods: totp, sms, email, passkey
	MFADefault   string
	// RecoveryCodes is how many unused recovery codes the user has.
	RecoveryCodes int
	// Unverified says the user signed up and has not confirmed their
	// address yet: the account stays inactive until they do.
	Unverified bool
}

// CannotSignInYet is the answer, after a right password, to a user who
// has not confirmed their address or whom an admin has not approved yet:
// nil for anyone else.
func (l *Login) CannotSignInYet() error {
	switch {
	case l.Unverified:
		return Errorf(EFORBIDDEN, "confirm your email address first: follow the link we mailed you, or ask for a new one")
	case l.User.PendingApproval:
		return Errorf(EFORBIDDEN, "your account is waiting for an administrator's approval: you can sign in once they approve it")
	}
	return nil
}

// Locked reports whether the account is locked at now.
func (l *Login) Locked(now time.Time) bool {
	return l.LockedUntil != nil && now.Before(*l.LockedUntil)
}

// CheckUnlocked returns ETOOMANY, with the time left as RetryAfter, while
// the account is locked at now: what a signed-in user trying a factor or
// a password meets, where a sign-in would meet only "wrong".
func (l *Login) CheckUnlocked(now time.Time) error {
	if !l.Locked(now) {
		return nil
	}
	return &Error{Code: ETOOMANY, Message: "the account is locked after too many failed attempts: try again later",
		RetryAfter: l.LockedUntil.Sub(now)}
}

// RefreshToken is one link of a rotating chain: using it spends it and
// issues the next in the same family. Only its hash is stored.
type RefreshToken struct {
	ID        string
	TenantID  string
	FamilyID  string
	UserID    string
	Hash      []byte
	AMR       []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// SessionStartedAt and SessionSeenAt are when its session signed in
	// and was last refreshed, as UseRefreshToken found them: what the
	// idle and absolute session limits are measured from.
	SessionStartedAt, SessionSeenAt time.Time
}

// SigningKey is one of Roster's own JWT signing keys. PrivateKey is sealed
// (encrypted) by the caller; the store keeps it as given.
type SigningKey struct {
	KID        string
	Algorithm  string
	PrivateKey []byte
	PublicJWK  []byte
	CreatedAt  time.Time
	SignsFrom  time.Time
	RetiredAt  *time.Time
}

// LoginService stores what sign-in reads and writes of a user: their
// password, failed attempts and lockout.
type LoginService interface {
	// FindLogin returns the user of the tenant with this id whose user
	// name or email is username, case-insensitively. ENOTFOUND.
	FindLogin(ctx context.Context, tenantID, username string) (*Login, error)

	// FindLoginByID returns the sign-in state of the tenant's user with
	// this id. ENOTFOUND.
	FindLoginByID(ctx context.Context, tenantID, userID string) (*Login, error)

	// RecordLoginFailure counts a failed attempt and locks the account for
	// lockFor when it reaches lockAfter. It returns the updated state. A
	// sign-in (a method) is recorded in the user's sign-in history, failed
	// for reason, in the same transaction; a wrong password or code at a
	// step-up or a password change ("" method) is not a sign-in.
	RecordLoginFailure(ctx context.Context, tenantID, userID string, lockAfter int, lockFor time.Duration, method, reason string) (*Login, error)

	// RecordLogin clears failed attempts, the lockout's and the
	// throttle's, sets last_login_at and records the sign-in (by method,
	// as amr) in the history, in one transaction. A sign-in from a device
	// the user has not signed in from within NewDeviceWindow queues a mail
	// telling them, unless it is their first.
	RecordLogin(ctx context.Context, tenantID, userID, method string, amr []string) error

	// RecordSignIn records an attempt that changes nothing else: a failure
	// before any password was checked, or at an account that does not
	// exist (a.UserID ""), which counts in the tenant's failures but is in
	// no one's history.
	RecordSignIn(ctx context.Context, tenantID string, a SignInAttempt) error

	// ChangePassword stores the hash as the user's password and ends their
	// other sessions in the same transaction: every refresh token family but
	// keepFamily is revoked and sign-ins awaiting a second factor end.
	// Audited as user.password_changed. ENOTFOUND.
	ChangePassword(ctx context.Context, tenantID string, by Actor, userID, hash, keepFamily string) error

	// Unlock clears a lockout and failed attempts, the lockout's and the
	// throttle's, audited. ENOTFOUND.
	Unlock(ctx context.Context, tenantID string, by Actor, userID string) error
}

// SessionService stores the refresh tokens of signed-in sessions.
type SessionService interface {
	// CreateRefreshToken stores a new refresh token (its hash set).
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error

	// UseRefreshToken spends the token with this hash and returns it. A
	// token already spent means it was stolen or replayed: the whole family
	// is revoked and EUNAUTHORIZED returned; so for unknown, expired and
	// revoked tokens.
	UseRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)

	// RevokeRefreshFamily revokes every token of the family of the token
	// with this hash (sign-out). Unknown hashes are ignored.
	RevokeRefreshFamily(ctx context.Context, hash []byte) error

	// CountActiveSessions returns how many sessions of the user are alive:
	// refresh tokens neither spent, revoked nor expired.
	CountActiveSessions(ctx context.Context, tenantID, userID string) (int, error)

	// ListSessions returns the user's live sessions, the newest first (at
	// most MaxPageSize).
	ListSessions(ctx context.Context, tenantID, userID string) ([]*Session, error)

	// EndSessions ends the user's live sessions, all of them or the one
	// with id only, except the one with except (when not ""), each audited
	// as session.revoked by by. Its refresh token stops at once; its access
	// tokens live out their few minutes. It returns how many ended.
	EndSessions(ctx context.Context, tenantID, userID string, by Actor, id, except string) (int, error)

	// EndOldestSessions ends the user's live sessions but the keep newest,
	// each audited as session.revoked by by: the max_sessions policy, at
	// sign-in. It returns how many ended.
	EndOldestSessions(ctx context.Context, tenantID, userID string, by Actor, keep int) (int, error)
}

// Session is a sign-in as its person sees it: the family of refresh tokens
// it rotates through, whose id its access tokens carry as "sid".
type Session struct {
	ID         string
	UserID     string
	AMR        []string // how it signed in (RFC 8176)
	Address    string   // where it last came from
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time // its sign-in or its last refresh
}

// JWKSource gives the JSON Web Key Set (RFC 7517) of the keys that verify
// Roster's own tokens, as /.well-known/jwks.json publishes it.
type JWKSource interface {
	JWKS(ctx context.Context) (json.RawMessage, error)
}

// SigningKeyService stores Roster's own JWT signing keys, which belong to
// no tenant.
type SigningKeyService interface {
	// SigningKeys returns the signing keys not retired, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)

	// CreateSigningKey stores a new signing key.
	CreateSigningKey(ctx context.Context, k *SigningKey) error

	// CreateFirstSigningKey stores k when there is no key yet, so that
	// replicas starting together on a new database make one between them.
	CreateFirstSigningKey(ctx context.Context, k *SigningKey) error
}
