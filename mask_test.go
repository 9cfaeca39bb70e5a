package roster

import "testing"

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+447700900000", "+44******0000"},
		{"+44 7700 900000", "+44******0000"},
		{"+14155550100", "+14*****0100"},
		{"+12345678", "+12**5678"},
		{"not a number", "***"},
		{"", "***"},
	} {
		if got := MaskPhone(tc.in); got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice@example.com", "a***@example.com"},
		{"a@example.com", "a***@example.com"},
		{"very.long.name@sub.example.org", "v***@sub.example.org"},
		{"émilie@exemple.fr", "é***@exemple.fr"},
		{" bob@example.com ", "b***@example.com"},
		{"no-at-sign", "***"},
		{"@example.com", "***"},
		{"alice@", "***"},
		{"", "***"},
	} {
		if got := MaskEmail(tc.in); got != tc.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
