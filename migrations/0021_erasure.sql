-- +goose Up
-- Erasing a person (issue 16) finds what names them by their address: the
-- invitations sent to it and the mail queued for it, without reading a
-- tenant's whole history.
CREATE INDEX invitations_email_idx ON invitations (tenant_id, lower(email));
CREATE INDEX email_outbox_recipient_idx ON email_outbox (tenant_id, lower(recipient));

-- +goose Down
DROP INDEX email_outbox_recipient_idx;
DROP INDEX invitations_email_idx;
