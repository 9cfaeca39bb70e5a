package graphql_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"
)

var testRP = virtualwebauthn.RelyingParty{ID: "roster.test", Name: "Roster", Origin: testPublicURL}

type passkeyNode struct {
	ID            string
	Name          string
	Authenticator *string
	Transports    []string
	BackedUp      bool `json:"backedUp"`
}

const passkeyFields = `id name authenticator transports backedUp`

// TestPasskeyLifecycle registers a passkey with a software authenticator,
// renames it, sees it among the user's factors, and removes it as the
// user and as an admin.
func TestPasskeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, token := e.signedInUser(uniqueEmail(t, "pk"))

	e.wantCode(token, "invalid", "credential", `mutation { finishPasskeyRegistration(credential: {id: "x"}) { passkey { id } } }`)
	first := e.registerPasskey(token, id, "Laptop")
	if first.Name != "Laptop" || !first.BackedUp {
		t.Fatalf("registered %+v", first)
	}
	e.wantCode(token, "invalid", "name", `mutation($id: ID!) { renamePasskey(id: $id, name: "") { passkey { id } } }`, "id", first.ID)
	var renamed struct {
		RenamePasskey struct{ Passkey passkeyNode } `json:"renamePasskey"`
	}
	e.query(token, `mutation($id: ID!) { renamePasskey(id: $id, name: "Work laptop") { passkey { `+passkeyFields+` } } }`, &renamed, "id", first.ID)
	if renamed.RenamePasskey.Passkey.Name != "Work laptop" {
		t.Fatalf("renamed %+v", renamed)
	}

	var seen struct {
		User struct {
			Mfa      mfaStatus
			Passkeys []passkeyNode
		}
	}
	e.query(e.A.Viewer, `query($id: ID!) { user(id: $id) { mfa { `+mfaFields+` } passkeys { `+passkeyFields+` } } }`, &seen, "id", id)
	if len(seen.User.Passkeys) != 1 || !seen.User.Mfa.Enabled || seen.User.Mfa.Methods[len(seen.User.Mfa.Methods)-1].Type != "PASSKEY" {
		t.Fatalf("admin view %+v", seen.User)
	}

	// A passkey is a factor: the password sign-in must step up now, and
	// has no code to do it with, so a second passkey waits.
	e.wantCode(token, "step_up_required", "", `mutation { beginPasskeyRegistration { options } }`)
	e.wantCode(e.A.Viewer, "forbidden", "", `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { id } } }`,
		"u", id, "p", first.ID)
	var revoked struct {
		RevokeUserPasskey struct{ Passkey passkeyNode } `json:"revokeUserPasskey"`
	}
	e.query(e.A.Admin, `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { `+passkeyFields+` } } }`,
		&revoked, "u", id, "p", first.ID)
	if revoked.RevokeUserPasskey.Passkey.ID != first.ID {
		t.Fatalf("revoked %+v", revoked)
	}
	second := e.registerPasskey(token, id, "Phone")
	e.wantCode(token, "step_up_required", "", `mutation($id: ID!) { deletePasskey(id: $id) { passkey { id } } }`, "id", second.ID)
	e.wantCode(e.B.Admin, "not_found", "", `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { id } } }`,
		"u", id, "p", second.ID)
	e.query(e.A.Admin, `mutation($u: ID!, $p: ID!) { revokeUserPasskey(userId: $u, passkeyId: $p) { passkey { id } } }`, nil,
		"u", id, "p", second.ID)
	var me struct {
		Me struct{ Passkeys []passkeyNode }
	}
	e.query(token, `{ me { passkeys { `+passkeyFields+` } } }`, &me)
	if len(me.Me.Passkeys) != 0 {
		t.Fatalf("left %+v", me.Me.Passkeys)
	}
}

// registerPasskey registers a new software passkey for the user of token.
func (e *testEnv) registerPasskey(token, userID, name string) passkeyNode {
	e.t.Helper()
	var begin struct {
		BeginPasskeyRegistration struct{ Options json.RawMessage } `json:"beginPasskeyRegistration"`
	}
	c := e.client(token)
	resp, err := c.RawPost(`mutation { beginPasskeyRegistration { options } }`)
	if err != nil || len(resp.Errors) > 0 {
		e.t.Fatalf("begin: %v %s", err, resp.Errors)
	}
	raw, _ := json.Marshal(resp.Data)
	if err := json.Unmarshal(raw, &begin); err != nil {
		e.t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(begin.BeginPasskeyRegistration.Options))
	if err != nil {
		e.t.Fatalf("options %s: %v", begin.BeginPasskeyRegistration.Options, err)
	}
	uid := uuid.MustParse(userID)
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: uid[:], BackupEligible: true, BackupState: true})
	cred := fullWidthCredential()
	authn.AddCredential(cred)
	var credential any
	if err := json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(testRP, authn, cred, *opts)), &credential); err != nil {
		e.t.Fatal(err)
	}
	var out struct {
		FinishPasskeyRegistration struct{ Passkey passkeyNode } `json:"finishPasskeyRegistration"`
	}
	e.query(token, `mutation($name: String, $cred: JSON!) { finishPasskeyRegistration(name: $name, credential: $cred) { passkey { `+passkeyFields+` } } }`,
		&out, "name", name, "cred", credential)
	return out.FinishPasskeyRegistration.Passkey
}

// fullWidthCredential returns a P-256 credential whose public key
// coordinates are 32 bytes each, which go-webauthn needs (virtualwebauthn
// drops leading zero bytes).
func fullWidthCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			continue
		}
		pub := k.(*ecdsa.PrivateKey).PublicKey
		if len(pub.X.Bytes()) == 32 && len(pub.Y.Bytes()) == 32 {
			return c
		}
	}
}
