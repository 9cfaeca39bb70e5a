package roster

import (
	"strings"
)

// E.164 allows at most 15 digits; fewer than 8 is no real subscriber number.
const (
	minPhoneDigits = 8
	maxPhoneDigits = 15
)

// NormalizePhone returns s in E.164 form: "+" and 8 to 15 digits, the first
// not 0. Spaces, dashes, dots and parentheses between digits are dropped;
// anything else is an EINVALID *Error whose message says what is wrong.
// A national trunk prefix written "(0)", as in "+44 (0)20 7946 0000", is
// refused rather than guessed at, because keeping its 0 dials another number.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(EINVALID, "phone number is empty")
	}
	if s[0] != '+' {
		return "", Errorf(EINVALID, "phone number must start with + and the country code")
	}
	if strings.Contains(strings.ReplaceAll(s, " ", ""), "(0)") {
		return "", Errorf(EINVALID, "phone number: leave out the national trunk prefix (0)")
	}
	var b strings.Builder
	b.WriteByte('+')
	open := false
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.':
		case r == '(' && !open:
			open = true
		case r == ')' && open:
			open = false
		case r == '(' || r == ')':
			return "", Errorf(EINVALID, "phone number has unbalanced parentheses")
		default:
			return "", Errorf(EINVALID, "phone number may hold only digits, spaces, dashes, dots and parentheses, not %q", r)
		}
	}
	if open {
		return "", Errorf(EINVALID, "phone number has unbalanced parentheses")
	}
	p := b.String()
	n := len(p) - 1
	switch {
	case n < minPhoneDigits:
		return "", Errorf(EINVALID, "phone number has %d digits, want at least %d", n, minPhoneDigits)
	case n > maxPhoneDigits:
		return "", Errorf(EINVALID, "phone number has %d digits, want at most %d", n, maxPhoneDigits)
	case p[1] == '0':
		return "", Errorf(EINVALID, "phone number: a country code never starts with 0")
	}
	return p, nil
}
