-- +goose Up
-- Invitation mail goes through the email outbox, written in the same
-- transaction as the invitation. invitations.email_id names the message
-- that carries the current link; whether and when it went out is read from
-- that message, so invitations.sent_at goes. A message replaced by a resend,
-- or whose invitation was revoked or accepted before it went out, is
-- cancelled: never sent, its body (and the link in it) cleared.
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_status_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_status_check
    CHECK (status IN ('pending', 'sent', 'dead', 'cancelled'));

ALTER TABLE invitations ADD COLUMN email_id uuid;
-- Invitations mailed before the queue get a record of their mail: sent when
-- it went, dead when it did not (its token is unknown, so only a resend can
-- mail it now).
UPDATE invitations SET email_id = gen_random_uuid();
INSERT INTO email_outbox (tenant_id, id, recipient, subject, body, status, attempts, next_attempt_at,
                          last_error, created_at, sent_at)
SELECT i.tenant_id, i.email_id, i.email, 'You are invited to join ' || t.name || ' on Roster', '',
       CASE WHEN i.sent_at IS NULL THEN 'dead' ELSE 'sent' END, 1, i.created_at,
       CASE WHEN i.sent_at IS NULL THEN 'not sent before the email queue: resend the invitation' END,
       i.created_at, i.sent_at
FROM invitations i JOIN tenants t ON t.id = i.tenant_id;
ALTER TABLE invitations
    ADD CONSTRAINT invitations_email_fkey FOREIGN KEY (tenant_id, email_id) REFERENCES email_outbox (tenant_id, id),
    DROP COLUMN sent_at;

-- +goose Down
ALTER TABLE invitations ADD COLUMN sent_at timestamptz;
UPDATE invitations i SET sent_at = e.sent_at FROM email_outbox e WHERE e.tenant_id = i.tenant_id AND e.id = i.email_id;
ALTER TABLE invitations DROP COLUMN email_id;
UPDATE email_outbox SET status = 'dead' WHERE status = 'cancelled';
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_status_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_status_check CHECK (status IN ('pending', 'sent', 'dead'));
