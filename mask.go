package roster

import (
	"strings"
	"unicode/utf8"
)

// MaskEmail shows an address to an admin without giving it away: the first
// character of the local part and the whole domain, as in "a***@example.com".
// The number of stars is fixed so it does not leak the length. Anything that
// is not an address comes back as "***".
func MaskEmail(addr string) string {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(addr)
	return string(first) + "***" + addr[at:]
}

// MaskPhone shows a phone number to an admin without giving it away: the
// first two and last four digits of its E.164 form, as in "+44******0000".
// Anything that is not a phone number comes back as "***".
func MaskPhone(s string) string {
	p, err := NormalizePhone(s)
	if err != nil {
		return "***"
	}
	digits := p[1:]
	return "+" + digits[:2] + strings.Repeat("*", len(digits)-6) + digits[len(digits)-4:]
}
