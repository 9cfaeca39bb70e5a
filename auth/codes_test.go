package auth

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestNewNumericCode(t *testing.T) {
	for _, digits := range []int{4, 6, 8, 18} {
		code, err := NewNumericCode(digits)
		if err != nil {
			t.Fatal(err)
		}
		if !isDigits(code, digits) {
			t.Errorf("NewNumericCode(%d) = %q", digits, code)
		}
	}
	for _, digits := range []int{-1, 0, 3, 19} {
		if code, err := NewNumericCode(digits); err == nil {
			t.Errorf("NewNumericCode(%d) = %q, want an error", digits, code)
		}
	}
}

// TestNumericCodeUniform counts digits at each position of many codes: a
// modulo bias or a stuck position shows as a count far from the mean.
func TestNumericCodeUniform(t *testing.T) {
	const n = 20_000
	var counts [6][10]int
	for range n {
		code, err := NewNumericCode(6)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []byte(code) {
			counts[i][c-'0']++
		}
	}
	// Each count is binomial(n, 0.1): mean 2000, sd about 42; 6 sd is a
	// false alarm about once in 10^9 runs.
	mean, sd := n*0.1, math.Sqrt(n*0.1*0.9)
	for pos := range counts {
		for d, c := range counts[pos] {
			if math.Abs(float64(c)-mean) > 6*sd {
				t.Errorf("digit %d at position %d: %d times in %d codes, want about %.0f", d, pos, c, n, mean)
			}
		}
	}
}

func TestNewRecoveryCodes(t *testing.T) {
	codes, err := NewRecoveryCodes(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("got %d codes, want 10", len(codes))
	}
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q is not like 7KQ4-M2ZD-9XWT in Crockford base32", c)
		}
		if seen[c] {
			t.Errorf("code %q repeated", c)
		}
		seen[c] = true
	}
	if bits := 12 * math.Log2(float64(len(recoveryAlphabet))); bits < 60 {
		t.Errorf("recovery codes carry %.1f bits, want at least 60", bits)
	}
	if _, err := NewRecoveryCodes(0); err == nil {
		t.Error("NewRecoveryCodes(0): no error")
	}
}

func TestRecoveryAlphabetUniform(t *testing.T) {
	// Uniform only if the alphabet divides 256 and holds no duplicates.
	if 256%len(recoveryAlphabet) != 0 {
		t.Fatalf("alphabet of %d symbols: byte modulo is biased", len(recoveryAlphabet))
	}
	for _, c := range recoveryAlphabet {
		if strings.Count(recoveryAlphabet, string(c)) != 1 {
			t.Errorf("%c appears twice", c)
		}
		if strings.ContainsRune("ILOU", c) {
			t.Errorf("%c is ambiguous", c)
		}
	}
}

func newTestHasher(t *testing.T, fill byte) *CodeHasher {
	t.Helper()
	h, err := NewCodeHasher(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCodeHasher(t *testing.T) {
	h := newTestHasher(t, 1)
	recovery := h.HashCode("7KQ4-M2ZD-9XWT")
	numeric := h.HashCode("042917")
	withO := h.HashCode("0K10-M2ZD-9XWT")

	tests := []struct {
		name string
		hash []byte
		code string
		ok   bool
	}{
		{"as issued", recovery, "7KQ4-M2ZD-9XWT", true},
		{"lower case", recovery, "7kq4-m2zd-9xwt", true},
		{"no dashes", recovery, "7KQ4M2ZD9XWT", true},
		{"spaces", recovery, " 7KQ4 M2ZD 9XWT ", true},
		{"mixed", recovery, "7kq4 - m2zd-9Xwt", true},
		{"O typed for 0, I and l for 1", withO, "OKI0-M2ZD-9XWT", true},
		{"l typed for 1", withO, "0kl0m2zd9xwt", true},
		{"one character wrong", recovery, "7KQ4-M2ZD-9XWV", false},
		{"one character missing", recovery, "7KQ4-M2ZD-9XW", false},
		{"numeric", numeric, "042917", true},
		{"numeric with space", numeric, "042 917", true},
		{"numeric wrong", numeric, "042918", false},
		{"numeric without leading zero", numeric, "42917", false},
		{"empty", h.HashCode(""), "", false},
		{"only dashes", h.HashCode(""), "- -", false},
		{"empty hash", nil, "7KQ4-M2ZD-9XWT", false},
		{"truncated hash", recovery[:16], "7KQ4-M2ZD-9XWT", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.CheckCode(tt.hash, tt.code); got != tt.ok {
				t.Errorf("CheckCode(%q) = %v, want %v", tt.code, got, tt.ok)
			}
		})
	}
}

func TestCodeHasherPepper(t *testing.T) {
	a, b := newTestHasher(t, 1), newTestHasher(t, 2)
	if len(a.HashCode("123456")) != 32 {
		t.Error("hash is not HMAC-SHA256 sized")
	}
	if a.CheckCode(b.HashCode("123456"), "123456") {
		t.Error("a hash made with another pepper matched")
	}
	if _, err := NewCodeHasher(make([]byte, 31)); err == nil {
		t.Error("NewCodeHasher accepted a 31-byte key")
	}
	key := bytes.Repeat([]byte{3}, 32)
	h, err := NewCodeHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	before := h.HashCode("123456")
	key[0] = 4
	if !h.CheckCode(before, "123456") {
		t.Error("changing the caller's key slice changed the hasher")
	}
}
