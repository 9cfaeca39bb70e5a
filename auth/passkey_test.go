package auth

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

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

func TestAAGUIDTable(t *testing.T) {
	var names map[string]string
	if err := json.Unmarshal(aaguidsJSON, &names); err != nil {
		t.Fatalf("aaguids.json: %v", err)
	}
	if len(names) < 100 {
		t.Fatalf("%d authenticators, want the whole community list", len(names))
	}
	for id := range names {
		if u, err := uuid.Parse(id); err != nil || u.String() != id {
			t.Fatalf("%q is not a lower-case AAGUID", id)
		}
	}
	for id, want := range map[string]string{
		"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
		"08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
		"bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
		"00000000-0000-0000-0000-000000000000": "",
	} {
		if got := AuthenticatorName(id); got != want {
			t.Errorf("AuthenticatorName(%s) = %q, want %q", id, got, want)
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
