package roster

import (
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+447700900000", "+447700900000"},
		{"  +44 7700 900000 ", "+447700900000"},
		{"+1 (415) 555-0100", "+14155550100"},
		{"+33.1.23.45.67.89", "+33123456789"},
		{"+49-30-1234567", "+49301234567"},
		{"+12345678", "+12345678"},               // 8 digits, the shortest accepted
		{"+123456789012345", "+123456789012345"}, // 15 digits, the longest
	} {
		got, err := NormalizePhone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"07700 900000",        // no country code
		"0044 7700 900000",    // international prefix instead of +
		"+44 (0)20 7946 0000", // trunk prefix
		"+1234567",            // 7 digits
		"+1234567890123456",   // 16 digits
		"+04 7700 900000",     // country codes never start with 0
		"+44 7700 900000 x12", // extension
		"+44/7700/900000",     // slash
		"+44 7700 9OOOOO",     // letters
		"++447700900000",      // second plus
		"+44 (7700 900000",    // unbalanced
		"+44 7700) 900000",    // unbalanced
		"+44 ((7700)) 900000", // nested
		"+４４７７００９０００００",       // full-width digits
		"+44\n7700900000",
	} {
		got, err := NormalizePhone(in)
		if err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", in, got)
			continue
		}
		if code := ErrorCode(err); code != EINVALID {
			t.Errorf("NormalizePhone(%q): code %q, want %q", in, code, EINVALID)
		}
		if ErrorMessage(err) == "" {
			t.Errorf("NormalizePhone(%q): empty message", in)
		}
	}
}
