package roster

import "context"

// PurgeReport counts what a purge removed, or would remove, by kind.
type PurgeReport struct {
	AuditEvents      int64 `json:"audit_events"`      // older than the tenant's audit_retention_days
	SignIns          int64 `json:"sign_ins"`          // older than the tenant's sign_in_retention_days
	MFAChallenges    int64 `json:"mfa_challenges"`    // expired
	WebAuthnSessions int64 `json:"webauthn_sessions"` // expired ceremonies
	Mail             int64 `json:"mail"`              // sent or dead for MailRetentionDays, no invitation's
}

// MailRetentionDays is how long a sent or undeliverable mail stays in the
// outbox (its body is cleared once it is either): long enough to answer
// "did the reminder go out?".
const MailRetentionDays = 30

// DefaultAuditRetentionDays is how long the audit trail is kept when the
// policy does not say.
const DefaultAuditRetentionDays = 400

// Purger deletes what the retention rules let go, for every tenant.
type Purger interface {
	// Purge deletes in batches, each its own transaction, so it holds no
	// lock for long; with dryRun it only counts. ok is false when another
	// process is purging (one purge runs at a time across replicas).
	Purge(ctx context.Context, dryRun bool) (report *PurgeReport, ok bool, err error)
}
