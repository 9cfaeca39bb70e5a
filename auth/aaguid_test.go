package auth

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

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
