package roster

import (
	"context"
	"time"
)

// Email is a message in the outbox.
type Email struct {
	ID       string
	TenantID string
	To       string
	Subject  string
	Body     string // plain text
	Attempts int    // delivery attempts so far, this one included once claimed
}

// Email statuses.
const (
	EmailPending = "pending"
	EmailSent    = "sent"
	EmailDead    = "dead" // out of attempts
	// EmailCancelled is a message made pointless before it went out (an
	// invitation link replaced, revoked or used): never sent, its body
	// cleared.
	EmailCancelled = "cancelled"
)

// Sealer encrypts data kept at rest, bound to additional data that must
// match to open it; *auth.SecretBox is one.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// EmailQueue sends mail after the fact, with retries, so that no request
// waits on (or fails with) a mail server.
type EmailQueue interface {
	// EnqueueEmail puts a message in the tenant's outbox. dedupeKey, when
	// not empty, makes a second message with the same key a no-op.
	// EINVALID for a bad recipient or an empty body.
	EnqueueEmail(ctx context.Context, tenantID, dedupeKey string, m Email) error
}

// EmailOutbox is what the delivery worker needs.
type EmailOutbox interface {
	// ClaimEmails takes up to n pending messages that are due, counts an
	// attempt on each and hides them from other workers until lease passes.
	// A sealed body is opened; one that does not open is dead, not returned.
	ClaimEmails(ctx context.Context, n int, lease time.Duration) ([]*Email, error)
	// EmailSent marks a message delivered and forgets its body.
	EmailSent(ctx context.Context, m *Email) error
	// EmailFailed records a failed attempt: the message is retried at
	// retryAt, or is dead when retryAt is nil.
	EmailFailed(ctx context.Context, m *Email, reason string, retryAt *time.Time) error
}
