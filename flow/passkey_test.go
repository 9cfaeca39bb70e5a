package flow

import (
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

func TestNewPasskeyConfig(t *testing.T) {
	c, err := NewPasskeyConfig("https://id.acme.example:8443/base", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.RPID != "id.acme.example" || c.RPName != "Roster" || !slices.Equal(c.Origins, []string{"https://id.acme.example:8443"}) {
		t.Fatalf("derived %+v", c)
	}
	c, err = NewPasskeyConfig("http://127.0.0.1:8080", "", "", "")
	if err != nil || c.RPID != "localhost" || !slices.Equal(c.Origins, []string{"http://localhost:8080"}) {
		t.Fatalf("on an IP address: %+v, %v", c, err)
	}
	c, err = NewPasskeyConfig("", "acme.example", "Acme", " https://acme.example/ , https://login.acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if c.RPID != "acme.example" || c.RPName != "Acme" || !slices.Equal(c.Origins, []string{"https://acme.example", "https://login.acme.example"}) {
		t.Fatalf("configured %+v", c)
	}
	if _, err := NewPasskeyConfig("", "acme.example", "", ""); err == nil {
		t.Fatal("no origins and no public URL: want an error")
	}
	// The relying party must be the origins' domain or one above it.
	c, err = NewPasskeyConfig("https://id.acme.example", "acme.example", "", "")
	if err != nil || c.RPID != "acme.example" || !slices.Equal(c.Origins, []string{"https://id.acme.example"}) {
		t.Fatalf("a parent domain as relying party: %+v, %v", c, err)
	}
	for _, mismatch := range [][2]string{{"acme.example", "https://evil.example"}, {"acme.example", "https://notacme.example"},
		{"id.acme.example", "https://acme.example"}, {"acme.example", "https://acme.example.evil.test"}} {
		if _, err := NewPasskeyConfig("", mismatch[0], "", mismatch[1]); err == nil {
			t.Errorf("relying party %q at %q: want an error", mismatch[0], mismatch[1])
		}
	}
	if _, err := NewPasskeyConfig("https://id.example.org", "acme.example", "", ""); err == nil {
		t.Error("relying party acme.example at the public URL's origin https://id.example.org: want an error")
	}
	for _, bad := range []string{"acme.example", "https://acme.example/login", "ftp://acme.example"} {
		if _, err := NewPasskeyConfig("", "acme.example", "", bad); err == nil {
			t.Errorf("origin %q: want an error", bad)
		}
	}
}

func TestPasskeyName(t *testing.T) {
	for in, want := range map[string]string{"  Work laptop ": "Work laptop", "ÉÉ": "ÉÉ", strings.Repeat("é", 64): strings.Repeat("é", 64)} {
		if got, err := PasskeyName(in); err != nil || got != want {
			t.Errorf("PasskeyName(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "   ", strings.Repeat("x", 65), "a\nb", "bad\x00"} {
		if _, err := PasskeyName(in); roster.ErrorCode(err) != roster.EINVALID {
			t.Errorf("PasskeyName(%q): %v, want EINVALID", in, err)
		}
	}
}

func TestPasskeyAMR(t *testing.T) {
	for _, tc := range []struct {
		before []string
		uv     bool
		want   string
	}{
		{nil, true, "hwk user mfa"},
		{nil, false, "hwk user"},
		{[]string{"pwd"}, false, "pwd hwk user mfa"},
		{[]string{"hwk", "user"}, false, "hwk user"},
	} {
		if got := strings.Join(passkeyAMR(tc.before, tc.uv), " "); got != tc.want {
			t.Errorf("passkeyAMR(%v, %v) = %q, want %q", tc.before, tc.uv, got, tc.want)
		}
	}
}
