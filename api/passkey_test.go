package api_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"
)

// applePasswords is the AAGUID of Apple's synced passkeys, in the bundled
// table as "Apple Passwords".
const applePasswords = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"

// testRP is the relying party the test server derives from its public URL.
var testRP = virtualwebauthn.RelyingParty{ID: "roster.test", Name: "Roster", Origin: testPublicURL}

// softKey is a software authenticator (descope/virtualwebauthn) holding
// one passkey: it signs with a real P-256 key, as a device would.
type softKey struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// newSoftKey returns a synced, user-verifying authenticator of Apple's
// model for the user with this id (its user handle).
func newSoftKey(userID string) *softKey {
	id := uuid.MustParse(userID)
	k := &softKey{
		auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
			UserHandle: id[:], BackupEligible: true, BackupState: true}),
		cred: fullWidthCredential(),
	}
	aaguid := uuid.MustParse(applePasswords)
	copy(k.auth.Aaguid[:], aaguid[:])
	k.auth.AddCredential(k.cred)
	return k
}

// fullWidthCredential returns a new P-256 credential whose public key
// coordinates are 32 bytes each. virtualwebauthn writes them with
// big.Int.Bytes, which drops leading zero bytes (about one key in 64), and
// go-webauthn rightly refuses such a COSE key.
func fullWidthCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			panic(err)
		}
		pub := k.(*ecdsa.PrivateKey).PublicKey
		if len(pub.X.Bytes()) == 32 && len(pub.Y.Bytes()) == 32 {
			return c
		}
	}
}

// attest answers creation options (the body of register/begin).
func (k *softKey) attest(t *testing.T, options []byte) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("creation options %s: %v", options, err)
	}
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(testRP, k.auth, k.cred, *opts))
}

// assert answers request options (the body of a .../begin) with the
// passkey, its counter at counter.
func (k *softKey) assert(t *testing.T, options []byte, counter uint32) json.RawMessage {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("request options %s: %v", options, err)
	}
	cred := k.cred
	cred.Counter = counter
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(testRP, k.auth, cred, *opts))
}

// passkeyJSON is a passkey as the API shows it.
type passkeyJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	CreatedAt      string   `json:"created_at"`
	LastUsedAt     *string  `json:"last_used_at"`
	UseCount       int      `json:"use_count"`
	AAGUID         *string  `json:"aaguid"`
	Authenticator  *string  `json:"authenticator"`
	BackupEligible bool     `json:"backup_eligible"`
	BackedUp       bool     `json:"backed_up"`
	Transports     []string `json:"transports"`
	UserVerified   bool     `json:"user_verified"`
	CloneWarning   bool     `json:"clone_warning"`
}

// registerPasskey registers k's passkey for the user of token, named
// name, and returns it.
func registerPasskey(t *testing.T, e *testEnv, token string, k *softKey, name any) passkeyJSON {
	t.Helper()
	begin := e.do(request{Method: "POST", Path: "/api/v1/me/passkeys/register/begin", Token: token})
	if begin.Status != 200 {
		t.Fatalf("register/begin: %d %s", begin.Status, begin.Body)
	}
	body := map[string]any{"credential": k.attest(t, begin.Body)}
	if name != nil {
		body["name"] = name
	}
	r := e.do(request{Method: "POST", Path: "/api/v1/me/passkeys/register/finish", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("register/finish: %d %s", r.Status, r.Body)
	}
	var p passkeyJSON
	r.JSON(t, &p)
	return p
}

// passkeyLogin signs in to tenant with k, its counter at counter.
func passkeyLogin(t *testing.T, e *testEnv, tenant string, k *softKey, counter uint32) response {
	t.Helper()
	begin := e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": tenant}})
	if begin.Status != 200 {
		t.Fatalf("passkey/begin: %d %s", begin.Status, begin.Body)
	}
	return e.do(request{Method: "POST", Path: "/api/v1/auth/passkey/finish",
		Body: map[string]any{"tenant": tenant, "credential": k.assert(t, begin.Body, counter)}})
}

// wantAMR fails unless the access token of r has exactly amr.
func wantAMR(t *testing.T, r response, amr ...string) string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var tok tokens
	r.JSON(t, &tok)
	var got []string
	for _, v := range claimsOf(t, tok.AccessToken)["amr"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, amr) {
		t.Fatalf("amr %v, want %v", got, amr)
	}
	return tok.AccessToken
}

func TestPasskeyRegistrationAndPasswordlessSignIn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, pwd := signIn(t, e, "grace@example.com")
	k := newSoftKey(id)

	begin := e.do(request{Method: "POST", Path: "/api/v1/me/passkeys/register/begin", Token: pwd})
	if begin.Status != 200 {
		t.Fatalf("register/begin: %d %s", begin.Status, begin.Body)
	}
	var creation struct {
		PublicKey struct {
			RP                     struct{ ID string } `json:"rp"`
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			ExcludeCredentials []any `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	begin.JSON(t, &creation)
	if pk := creation.PublicKey; pk.RP.ID != "roster.test" || pk.AuthenticatorSelection.ResidentKey != "preferred" ||
		pk.AuthenticatorSelection.UserVerification != "preferred" || len(pk.ExcludeCredentials) != 0 {
		t.Fatalf("creation options %s", begin.Body)
	}
	answer := k.attest(t, begin.Body)
	finish := request{Method: "POST", Path: "/api/v1/me/passkeys/register/finish", Token: pwd,
		Body: map[string]any{"name": "  Work laptop  ", "credential": answer}}
	r := e.do(finish)
	if r.Status != http.StatusCreated {
		t.Fatalf("register/finish: %d %s", r.Status, r.Body)
	}
	var p passkeyJSON
	r.JSON(t, &p)
	if p.Name != "Work laptop" || p.AAGUID == nil || *p.AAGUID != applePasswords || p.Authenticator == nil ||
		*p.Authenticator != "Apple Passwords" || !p.BackupEligible || !p.BackedUp || !p.UserVerified || p.UseCount != 0 || p.LastUsedAt != nil {
		t.Fatalf("passkey %s", r.Body)
	}
	// Signed in with the password alone, the user now needs a step-up to
	// register another; and the one they have is excluded.
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/passkeys/register/begin", Token: pwd}), 401, "")

	r = passkeyLogin(t, e, e.A.ID, k, 0)
	access := wantAMR(t, r, "hwk", "user", "mfa")
	if claimsOf(t, access)["sub"] != id {
		t.Fatalf("signed in as %v", claimsOf(t, access)["sub"])
	}
	// The challenge works once.
	finish.Token = access
	wantProblem(t, e.do(finish), 400, "credential")
	begin = e.do(request{Method: "POST", Path: "/api/v1/me/passkeys/register/begin", Token: access})
	if begin.Status != 200 {
		t.Fatalf("register/begin after a passkey sign-in: %d %s", begin.Status, begin.Body)
	}
	begin.JSON(t, &creation)
	if len(creation.PublicKey.ExcludeCredentials) != 1 {
		t.Fatalf("excludeCredentials %v", creation.PublicKey.ExcludeCredentials)
	}

	r = e.do(request{Method: "GET", Path: "/api/v1/me/passkeys", Token: access})
	var list struct{ Items []passkeyJSON }
	r.JSON(t, &list)
	if r.Status != 200 || len(list.Items) != 1 || list.Items[0].UseCount != 1 || list.Items[0].LastUsedAt == nil {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	// The users list finds passkey users.
	r = e.do(request{Method: "GET", Path: "/api/v1/users?mfa_method=passkey", Token: e.A.Admin})
	if r.Status != 200 || len(r.Object(t)["items"].([]any)) != 1 {
		t.Fatalf("mfa_method=passkey: %d %s", r.Status, r.Body)
	}
}
