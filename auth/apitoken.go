// Package auth holds Roster's credentials and crypto: API tokens, JWT
// verification, and turning a bearer credential into a roster.Principal.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
)

// TokenPrefix marks Roster API tokens, so secret scanners and people can
// recognise a leaked one.
const TokenPrefix = "rst_"

const (
	tokenAlphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	tokenSecretLen  = 40 // 40 base62 characters: about 238 bits
	tokenDisplayLen = len(TokenPrefix) + 8
)

// NewAPIToken returns a fresh token secret, the prefix shown in token lists,
// and the hash to store. The secret is shown to its owner once and never kept.
func NewAPIToken() (secret, prefix string, hash []byte, err error) {
	secret, err = NewOpaqueToken(TokenPrefix)
	if err != nil {
		return "", "", nil, err
	}
	return secret, secret[:tokenDisplayLen], HashAPIToken(secret), nil
}

// NewOpaqueToken returns prefix followed by 40 random base62 characters:
// the form of every bearer secret Roster hands out (API, refresh, MFA and
// invitation tokens), each kind with a prefix of its own.
func NewOpaqueToken(prefix string) (string, error) {
	buf := make([]byte, tokenSecretLen)
	var b strings.Builder
	b.WriteString(prefix)
	for b.Len() < len(prefix)+tokenSecretLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling keeps every character equally likely.
			if int(c) < 256-256%len(tokenAlphabet) && b.Len() < len(prefix)+tokenSecretLen {
				b.WriteByte(tokenAlphabet[int(c)%len(tokenAlphabet)])
			}
		}
	}
	return b.String(), nil
}

// HashAPIToken returns the stored form of a token secret. The secret has
// over 200 bits of entropy, so a fast hash is as safe as a slow one here and
// keeps every authenticated request cheap.
func HashAPIToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// IsOpaqueToken reports whether s has the form NewOpaqueToken(prefix)
// gives: anything else is no token of that kind, and needs no lookup.
func IsOpaqueToken(s, prefix string) bool {
	return strings.HasPrefix(s, prefix) && len(s) == len(prefix)+tokenSecretLen
}
