package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"unicode"
)

// recoveryAlphabet is Crockford's base32: 32 symbols, so 12 of them carry 60
// bits. It leaves out I, L, O and U; NormalizeCode reads I and L as 1 and O
// as 0, so a user who mistakes one glyph for its look-alike still gets in.
const recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const (
	recoveryGroups   = 3
	recoveryGroupLen = 4
	minCodeDigits    = 4
	maxCodeDigits    = 18
	minPepperSize    = 32
)

// NewNumericCode returns a random code of digits decimal digits (4 to 18),
// each value equally likely: the codes sent by SMS or email.
func NewNumericCode(digits int) (string, error) {
	if digits < minCodeDigits || digits > maxCodeDigits {
		return "", fmt.Errorf("numeric code: %d digits, want %d to %d", digits, minCodeDigits, maxCodeDigits)
	}
	n, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
	if err != nil {
		return "", fmt.Errorf("numeric code: %w", err)
	}
	return fmt.Sprintf("%0*d", digits, n), nil
}

// NewRecoveryCodes returns n distinct recovery codes like "7KQ4-M2ZD-9XWT",
// 60 random bits each.
func NewRecoveryCodes(n int) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("recovery codes: n is %d, want at least 1", n)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	buf := make([]byte, recoveryGroups*recoveryGroupLen)
	for len(codes) < n {
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		var b strings.Builder
		for i, c := range buf {
			if i > 0 && i%recoveryGroupLen == 0 {
				b.WriteByte('-')
			}
			// 256 is a multiple of 32, so taking the byte modulo 32 is uniform.
			b.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		if code := b.String(); !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	return codes, nil
}

// CodeHasher hashes one-time codes for storage. Short codes hashed with plain
// SHA-256 fall to an offline brute force in seconds; keyed with a pepper kept
// out of the database, a stolen table of hashes is useless on its own.
type CodeHasher struct {
	key []byte
}

// NewCodeHasher returns a CodeHasher keyed with key, at least 32 bytes, which
// it copies.
func NewCodeHasher(key []byte) (*CodeHasher, error) {
	if len(key) < minPepperSize {
		return nil, fmt.Errorf("code hasher: key is %d bytes, want at least %d", len(key), minPepperSize)
	}
	return &CodeHasher{key: append([]byte(nil), key...)}, nil
}

// HashCode returns the HMAC-SHA256 of code after NormalizeCode, to store.
func (h *CodeHasher) HashCode(code string) []byte {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte(NormalizeCode(code)))
	return mac.Sum(nil)
}

// CheckCode reports, in constant time, whether code as typed matches hash.
// An empty code never matches.
func (h *CodeHasher) CheckCode(hash []byte, code string) bool {
	if NormalizeCode(code) == "" {
		return false
	}
	return hmac.Equal(hash, h.HashCode(code))
}

// NormalizeCode lets users type codes loosely: case, spaces and dashes do not
// matter, and the look-alikes Crockford's base32 leaves out read as the digit
// they resemble.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch r = unicode.ToUpper(r); {
		case r == '-' || unicode.IsSpace(r):
			return -1
		case r == 'O':
			return '0'
		case r == 'I' || r == 'L':
			return '1'
		}
		return r
	}, code)
}
