package store

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
)

// sealedBodyPrefix marks an outbox body sealed with DB.MailSealer: the mail
// carries a link that works as a credential, which must not be readable
// in the database while the mail waits for delivery.
const sealedBodyPrefix = "sealed:v1:"

// mailBodyAD binds a sealed body to its tenant and recipient, so that a
// ciphertext copied to another message does not open.
func mailBodyAD(tenantID, to string) []byte {
	return []byte("email_outbox\x00" + tenantID + "\x00" + strings.ToLower(to))
}

// sealMail returns compose whose messages have their bodies sealed with
// db.MailSealer, or compose unchanged when there is none.
func (db *DB) sealMail(tenantID string, compose roster.InvitationMail) func(*roster.Invitation) (roster.Email, error) {
	return func(inv *roster.Invitation) (roster.Email, error) {
		return db.sealBody(tenantID, compose(inv))
	}
}

// sealBody returns m with its body sealed with db.MailSealer, or m as it
// is when there is none.
func (db *DB) sealBody(tenantID string, m roster.Email) (roster.Email, error) {
	if db.MailSealer == nil {
		return m, nil
	}
	sealed, err := db.MailSealer.Seal([]byte(m.Body), mailBodyAD(tenantID, m.To))
	if err != nil {
		return m, fmt.Errorf("seal mail body: %w", err)
	}
	m.Body = sealedBodyPrefix + base64.RawStdEncoding.EncodeToString(sealed)
	return m, nil
}

// openMail replaces a sealed body of m with its plain text. It fails when
// there is no sealer or the body was sealed with another key.
func (db *DB) openMail(m *roster.Email) error {
	rest, sealed := strings.CutPrefix(m.Body, sealedBodyPrefix)
	if !sealed {
		return nil
	}
	if db.MailSealer == nil {
		return fmt.Errorf("the body is sealed and no key is configured")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return fmt.Errorf("sealed body: %w", err)
	}
	plain, err := db.MailSealer.Open(raw, mailBodyAD(m.TenantID, m.To))
	if err != nil {
		return fmt.Errorf("the body does not open (was ROSTER_ENCRYPTION_KEY changed?): %w", err)
	}
	m.Body = string(plain)
	return nil
}
