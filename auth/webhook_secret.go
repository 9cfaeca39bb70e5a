package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// WebhookSecretPrefix marks a Standard Webhooks signing secret: the base64
// of the key follows it.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a fresh 32-byte signing key and its form shown
// to the admin, once: "whsec_" and the key in standard base64, which the
// Standard Webhooks verifier libraries take as it is.
func NewWebhookSecret() (key []byte, shown string, err error) {
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("webhook secret: %w", err)
	}
	return key, WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
