package graphql_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
)

type mfaStatus struct {
	Enabled                bool
	DefaultMethod          *string `json:"defaultMethod"`
	Methods                []struct{ Type string }
	RecoveryCodesRemaining int `json:"recoveryCodesRemaining"`
}

const mfaFields = `enabled defaultMethod methods { type } recoveryCodesRemaining`

// TestSelfServiceMFAAndStepUp enrols TOTP, is asked to step up for what
// follows, steps up, and manages the factors; an admin reads and resets
// them.
func TestSelfServiceMFAAndStepUp(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	id, token := e.signedInUser(uniqueEmail(t, "mfa"))

	var start struct {
		StartTotpEnrollment struct {
			Secret     string
			OtpauthURI string `json:"otpauthUri"`
			QRPng      string `json:"qrPng"`
		} `json:"startTotpEnrollment"`
	}
	e.query(token, `mutation { startTotpEnrollment { secret otpauthUri qrPng } }`, &start)
	secret := start.StartTotpEnrollment.Secret
	if secret == "" || start.StartTotpEnrollment.QRPng == "" {
		t.Fatalf("enrolment %+v", start)
	}
	e.wantCode(token, "invalid", "code", `mutation { confirmTotp(code: "000000") { mfa { enabled } } }`)
	var confirmed struct {
		ConfirmTotp struct{ Mfa mfaStatus } `json:"confirmTotp"`
	}
	e.query(token, `mutation($code: String!) { confirmTotp(code: $code) { mfa { `+mfaFields+` } } }`, &confirmed,
		"code", testkit.Oathtool(t, secret, time.Time{}))
	if m := confirmed.ConfirmTotp.Mfa; !m.Enabled || m.DefaultMethod == nil || *m.DefaultMethod != "TOTP" {
		t.Fatalf("after confirming: %+v", m)
	}

	// The password sign-in is no longer enough for the user's own factors.
	e.wantCode(token, "step_up_required", "", `mutation { generateRecoveryCodes { codes } }`)
	// An API token never is, even one acting for a user.
	e.wantCode(e.A.Admin, "forbidden", "", `mutation { generateRecoveryCodes { codes } }`)

	stepped := e.stepUp(token, testkit.Oathtool(t, secret, time.Now().Add(30*time.Second)))
	var codes struct {
		GenerateRecoveryCodes struct{ Codes []string } `json:"generateRecoveryCodes"`
	}
	e.query(stepped, `mutation { generateRecoveryCodes { codes } }`, &codes)
	if len(codes.GenerateRecoveryCodes.Codes) < 8 {
		t.Fatalf("codes %v", codes)
	}
	var def struct {
		SetDefaultMfaMethod struct{ Mfa mfaStatus } `json:"setDefaultMfaMethod"`
	}
	e.query(stepped, `mutation { setDefaultMfaMethod(method: TOTP) { mfa { `+mfaFields+` } } }`, &def)
	if def.SetDefaultMfaMethod.Mfa.RecoveryCodesRemaining != len(codes.GenerateRecoveryCodes.Codes) {
		t.Fatalf("after new codes: %+v", def)
	}
	e.wantCode(stepped, "conflict", "", `mutation { setDefaultMfaMethod(method: SMS) { mfa { enabled } } }`)
	e.wantCode(stepped, "conflict", "", `mutation { startCodeEnrollment(method: EMAIL) { target } }`)

	// An admin sees the factors and the security information, and resets them.
	var seen struct {
		User struct {
			Mfa      mfaStatus
			Security struct {
				MfaEnabled          bool `json:"mfaEnabled"`
				PasswordSet         bool `json:"passwordSet"`
				FailedLoginAttempts int  `json:"failedLoginAttempts"`
				ActiveTokens        int  `json:"activeTokens"`
			}
		}
	}
	e.query(e.A.Viewer, `query($id: ID!) { user(id: $id) { mfa { `+mfaFields+` } security { mfaEnabled passwordSet failedLoginAttempts activeTokens } } }`,
		&seen, "id", id)
	if !seen.User.Mfa.Enabled || !seen.User.Security.MfaEnabled || !seen.User.Security.PasswordSet || seen.User.Security.ActiveTokens < 1 {
		t.Fatalf("admin view %+v", seen.User)
	}
	e.wantCode(e.A.Viewer, "forbidden", "", `mutation($id: ID!) { resetUserMFA(id: $id) { user { id } } }`, "id", id)
	e.query(e.A.Admin, `mutation($id: ID!) { resetUserMFA(id: $id) { user { mfa { enabled } } } }`, nil, "id", id)
	var me struct{ Me struct{ Mfa mfaStatus } }
	e.query(token, `{ me { mfa { `+mfaFields+` } } }`, &me)
	if me.Me.Mfa.Enabled || len(me.Me.Mfa.Methods) != 0 {
		t.Fatalf("after reset: %+v", me.Me.Mfa)
	}
	// With no factor left, the password sign-in is enough again.
	e.query(token, `mutation { startTotpEnrollment { secret } }`, nil)
	e.query(token, `mutation { removeMfaMethod(method: TOTP) { mfa { enabled } } }`, nil)
}

// stepUp raises the session of token with a TOTP code, through REST's
// step-up (GraphQL has no sign-in of its own), and returns the new token.
func (e *testEnv) stepUp(token, code string) string {
	e.t.Helper()
	w := e.httpDo("POST", "/api/v1/auth/step-up", token, "application/json", []byte(`{"method":"totp","code":"`+code+`"}`))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tok) != nil || tok.AccessToken == "" {
		e.t.Fatalf("step-up: %d %s", w.Code, w.Body)
	}
	return tok.AccessToken
}
