package store

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var (
	_ roster.EmailQueue  = (*EmailOutbox)(nil)
	_ roster.EmailOutbox = (*EmailOutbox)(nil)
)

// EmailOutbox is the PostgreSQL outbox of mail: messages are written in the
// transaction of the change that causes them and delivered later by a
// worker, at least once.
type EmailOutbox struct {
	db *DB
}

// NewEmailOutbox returns an EmailOutbox on db.
func NewEmailOutbox(db *DB) *EmailOutbox {
	return &EmailOutbox{db: db}
}

// EnqueueEmail puts a message in the outbox in a transaction of its own.
// Store code that sends mail because of a change calls enqueueEmail on the
// change's transaction instead. EINVALID.
func (o *EmailOutbox) EnqueueEmail(ctx context.Context, tenantID, dedupeKey string, m roster.Email) error {
	return o.db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := enqueueEmail(ctx, tx, o.db.now(), tenantID, dedupeKey, m)
		return err
	})
}

// enqueueEmail writes a message to the outbox on tx, due at once, and
// returns its id; "" when a message with the same dedupe key exists.
// EINVALID for a bad recipient, a multi-line subject or an empty body.
func enqueueEmail(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID, dedupeKey string, m roster.Email) (string, error) {
	if err := checkEmail(m); err != nil {
		return "", err
	}
	id := newID()
	var key any
	if dedupeKey != "" {
		key = dedupeKey
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO email_outbox (tenant_id, id, dedupe_key, recipient, subject, body, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
		tenantID, id, key, m.To, m.Subject, m.Body, now)
	if err != nil {
		return "", translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", translate(err)
	}
	return id, nil
}

// checkEmail refuses what the outbox does not take: a bad recipient, a
// multi-line subject or an empty body. EINVALID.
func checkEmail(m roster.Email) error {
	if addr, err := mail.ParseAddress(m.To); err != nil || addr.Address != m.To {
		return roster.Invalid(roster.FieldError{Field: "to", Message: "must be an email address"})
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return roster.Invalid(roster.FieldError{Field: "subject", Message: "must be one line"})
	}
	if m.Body == "" {
		return roster.Invalid(roster.FieldError{Field: "body", Message: "is required"})
	}
	return nil
}

// ClaimEmails takes up to n due messages of any tenant, skipping those
// another worker holds, counts an attempt on each and makes them due again
// only after lease: a worker that dies mid-send leaves them to the next.
// Sealed bodies are opened; a message whose body does not open is dead.
func (o *EmailOutbox) ClaimEmails(ctx context.Context, n int, lease time.Duration) ([]*roster.Email, error) {
	now := o.db.now()
	rows, err := o.db.db.QueryContext(ctx, `
		WITH due AS (
			SELECT tenant_id, id FROM email_outbox
			WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE email_outbox e SET attempts = e.attempts + 1, next_attempt_at = $3
		FROM due WHERE e.tenant_id = due.tenant_id AND e.id = due.id
		RETURNING e.tenant_id, e.id, e.recipient, e.subject, e.body, e.attempts`, now, n, now.Add(lease))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var claimed []*roster.Email
	for rows.Next() {
		var m roster.Email
		if err := rows.Scan(&m.TenantID, &m.ID, &m.To, &m.Subject, &m.Body, &m.Attempts); err != nil {
			return nil, translate(err)
		}
		claimed = append(claimed, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	// A sealed body that does not open never will: the message is dead.
	out := claimed[:0]
	for _, m := range claimed {
		if err := o.db.openMail(m); err != nil {
			if err := o.EmailFailed(ctx, m, err.Error(), nil); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// EmailSent marks a message delivered and clears its body.
func (o *EmailOutbox) EmailSent(ctx context.Context, m *roster.Email) error {
	_, err := o.db.db.ExecContext(ctx, `
		UPDATE email_outbox SET status = 'sent', sent_at = $3, body = '', last_error = NULL
		WHERE tenant_id = $1 AND id = $2`, m.TenantID, m.ID, o.db.now())
	return translate(err)
}

// EmailFailed records a failed attempt; with no retryAt the message is dead
// and, like a sent one, loses its body: links in it may be secrets. A
// message cancelled while it was being sent stays cancelled.
func (o *EmailOutbox) EmailFailed(ctx context.Context, m *roster.Email, reason string, retryAt *time.Time) error {
	if retryAt == nil {
		_, err := o.db.db.ExecContext(ctx, `
			UPDATE email_outbox SET status = 'dead', body = '', last_error = $3
			WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
			m.TenantID, m.ID, reason)
		return translate(err)
	}
	_, err := o.db.db.ExecContext(ctx, `
		UPDATE email_outbox SET next_attempt_at = $3, last_error = $4
		WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
		m.TenantID, m.ID, *retryAt, reason)
	return translate(err)
}
