package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit"
	"github.com/rosterhq/roster/notify"
)

// codePattern finds the six-digit code in a message.
var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// mailbox is a real SMTP server that e's MFA and mail workers send through.
type mailbox struct{ *testkit.SMTPServer }

// startMailbox starts a mailbox and makes e's MFA send mail through it.
func startMailbox(t *testing.T, e *testEnv) mailbox {
	t.Helper()
	mb := testkit.StartSMTP(t, testkit.SMTPOptions{})
	m, err := notify.NewSMTPMailer(notify.SMTPConfig{Addr: mb.Addr, From: "Roster <no-reply@roster.test>",
		TLS: notify.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.mfa.Mailer = m
	return mailbox{mb}
}

// lastMail returns the last mail, which must be the count-th and have gone
// to to.
func (mb mailbox) lastMail(t *testing.T, to string, count int) testkit.Mail {
	t.Helper()
	mail := mb.Received()
	if len(mail) != count {
		t.Fatalf("%d mails received, want %d", len(mail), count)
	}
	last := mail[count-1]
	if got := last.Header.Get("To"); !strings.Contains(got, to) {
		t.Fatalf("mail to %q, want %s", got, to)
	}
	return last
}

// lastCode returns the code of the last mail, which must be the count-th
// and have gone to to.
func (mb mailbox) lastCode(t *testing.T, to string, count int) string {
	t.Helper()
	body := mb.lastMail(t, to, count).Body
	code := codePattern.FindString(body)
	if code == "" {
		t.Fatalf("no code in %q", body)
	}
	return code
}

// smsHook is an SMS webhook gateway that keeps the {"to","message"} it is
// handed, or answers 500 while failing is set.
type smsHook struct {
	mu      sync.Mutex
	sent    []struct{ To, Message string }
	failing bool
}

// startSMSHook starts an smsHook and makes e's MFA send SMS through it.
func startSMSHook(t *testing.T, e *testEnv) *smsHook {
	t.Helper()
	h := &smsHook{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			To      string `json:"to"`
			Message string `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.failing {
			http.Error(w, "gateway down", 500)
			return
		}
		h.sent = append(h.sent, struct{ To, Message string }{m.To, m.Message})
	}))
	t.Cleanup(ts.Close)
	s, err := notify.NewWebhookSMS(notify.WebhookConfig{URL: ts.URL + "/sms", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.mfa.SMS = s
	return h
}

func (h *smsHook) lastCode(t *testing.T, to string, count int) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sent) != count {
		t.Fatalf("%d SMS sent, want %d", len(h.sent), count)
	}
	m := h.sent[len(h.sent)-1]
	code := codePattern.FindString(m.Message)
	if m.To != to || code == "" {
		t.Fatalf("SMS %+v, want one with a code to %s", m, to)
	}
	return code
}

func (h *smsHook) setFailing(v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing = v
}

// otherCode is a six-digit code that is not code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

type codeSent struct {
	Method    string `json:"method"`
	Target    string `json:"target"`
	ExpiresIn int    `json:"expires_in"`
}

func wantCodeSent(t *testing.T, r response, method, target string) {
	t.Helper()
	var c codeSent
	r.JSON(t, &c)
	if r.Status != 200 || c.Method != method || c.Target != target || c.ExpiresIn != 600 {
		t.Fatalf("code sent: %d %s, want %s to %s for 600 s", r.Status, r.Body, method, target)
	}
}

func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, 429, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func challengeCode(e *testEnv, mfaToken, method string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/challenge", Body: map[string]any{"mfa_token": mfaToken, "method": method}})
}

func enrolCode(e *testEnv, token, method string, body any) response {
	return e.do(request{Method: "POST", Path: "/api/v1/me/mfa/" + method, Token: token, Body: body})
}

func confirmCode(e *testEnv, token, method, code string) response {
	return e.do(request{Method: "POST", Path: "/api/v1/me/mfa/" + method + "/verify", Token: token, Body: map[string]any{"code": code}})
}

// adminMethod returns the user's method of this type as an admin sees it.
func adminMethod(t *testing.T, e *testEnv, userID, method string) map[string]any {
	t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/users/" + userID + "/mfa", Token: e.A.Admin})
	var st struct {
		Methods []map[string]any `json:"methods"`
	}
	r.JSON(t, &st)
	for _, m := range st.Methods {
		if m["type"] == method {
			return m
		}
	}
	return nil
}

func TestEmailCodeEnrolmentAndSignIn(t *testing.T) {
	e := newTestEnv(t)
	clock := useClock(e)
	mb := startMailbox(t, e)
	id, token := signIn(t, e, "mailer@example.com")
	wantProblem(t, confirmCode(e, token, "email", "123456"), 409, "")

	wantCodeSent(t, enrolCode(e, token, "email", nil), "email", "m***@example.com")
	code := mb.lastCode(t, "mailer@example.com", 1)
	wantRetryAfter(t, enrolCode(e, token, "email", nil))
	wantProblem(t, confirmCode(e, token, "email", otherCode(code)), 400, "code")
	if m := adminMethod(t, e, id, "email"); m == nil || m["verified"] != false {
		t.Fatalf("pending email method as an admin sees it: %v", m)
	}
	if r := confirmCode(e, token, "email", code); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if m := adminMethod(t, e, id, "email"); m == nil || m["verified"] != true || m["target"] != "m***@example.com" {
		t.Fatalf("email method as an admin sees it: %v", m)
	}
	wantActions(t, e, id, "mfa.enrolling", "mfa.enabled")

	m := mfaLogin(t, e, "mailer")
	if !slices.Contains(m.Methods, "email") || m.DefaultMethod == nil || *m.DefaultMethod != "email" {
		t.Fatalf("challenge offers %v, default %v", m.Methods, m.DefaultMethod)
	}
	wantProblem(t, challengeCode(e, m.MFAToken, "sms"), 400, "method")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/auth/mfa/challenge", Invalid: true,
		Body: map[string]any{"mfa_token": m.MFAToken, "method": "totp"}}), 400, "method")
	wantProblem(t, challengeCode(e, "rmt_"+strings.Repeat("x", 40), "email"), 401, "")
	wantCodeSent(t, challengeCode(e, m.MFAToken, "email"), "email", "m***@example.com")
	first := mb.lastCode(t, "mailer@example.com", 2)
	wantRetryAfter(t, challengeCode(e, m.MFAToken, "email"))
	clock.Add(61 * time.Second)
	wantCodeSent(t, challengeCode(e, m.MFAToken, "email"), "email", "m***@example.com")
	second := mb.lastCode(t, "mailer@example.com", 3)
	if first != second {
		wantProblem(t, verifyMFA(e, m.MFAToken, "email", first), 401, "") // replaced
	}
	// A code sent by email is no SMS code.
	wantProblem(t, verifyMFA(e, m.MFAToken, "sms", second), 401, "")
	session := wantTokens(t, verifyMFA(e, m.MFAToken, "email", second), "pwd", "otp", "mfa")
	wantProblem(t, verifyMFA(e, m.MFAToken, "email", second), 401, "")

	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/email", Token: session}); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	wantProblem(t, e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/email", Token: session}), 404, "")
}

func TestSMSCodeEnrolmentAndSignIn(t *testing.T) {
	e := newTestEnv(t)
	clock := useClock(e)
	hook := startSMSHook(t, e)
	id, token := signIn(t, e, "texter@example.com")
	wantProblem(t, confirmCode(e, token, "sms", "123456"), 409, "")
	wantProblem(t, enrolCode(e, token, "sms", map[string]any{"phone": "call me"}), 400, "phone")
	wantProblem(t, e.do(request{Method: "POST", Path: "/api/v1/me/mfa/sms", Token: token, Invalid: true, Body: map[string]any{}}), 400, "phone")

	const phone = "+442079460000"
	wantCodeSent(t, enrolCode(e, token, "sms", map[string]any{"phone": "+44 20 7946 0000"}), "sms", "+44******0000")
	code := hook.lastCode(t, phone, 1)
	// Five wrong tries use the code up.
	for range 5 {
		wantProblem(t, confirmCode(e, token, "sms", otherCode(code)), 400, "code")
	}
	wantProblem(t, confirmCode(e, token, "sms", code), 400, "code")
	wantRetryAfter(t, enrolCode(e, token, "sms", map[string]any{"phone": phone}))
	clock.Add(61 * time.Second)
	wantCodeSent(t, enrolCode(e, token, "sms", map[string]any{"phone": phone}), "sms", "+44******0000")
	code = hook.lastCode(t, phone, 2)
	// A code expires after 10 minutes.
	clock.Add(10 * time.Minute)
	wantProblem(t, confirmCode(e, token, "sms", code), 400, "code")
	wantCodeSent(t, enrolCode(e, token, "sms", map[string]any{"phone": phone}), "sms", "+44******0000")
	if r := confirmCode(e, token, "sms", " "+hook.lastCode(t, phone, 3)+" "); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if m := adminMethod(t, e, id, "sms"); m == nil || m["verified"] != true || m["target"] != "+44******0000" {
		t.Fatalf("sms method as an admin sees it: %v", m)
	}
	if strings.Contains(strings.Join(auditActions(t, e, id), " "), phone) {
		t.Fatal("the audit trail shows the number")
	}

	// Sign-in: wrong codes count towards the challenge's five.
	m := mfaLogin(t, e, "texter")
	wantCodeSent(t, challengeCode(e, m.MFAToken, "sms"), "sms", "+44******0000")
	code = hook.lastCode(t, phone, 4)
	for range 4 {
		wantProblem(t, verifyMFA(e, m.MFAToken, "sms", otherCode(code)), 401, "")
	}
	session := wantTokens(t, verifyMFA(e, m.MFAToken, "sms", code), "pwd", "sms", "mfa")

	burnt := mfaLogin(t, e, "texter")
	clock.Add(61 * time.Second)
	wantCodeSent(t, challengeCode(e, burnt.MFAToken, "sms"), "sms", "+44******0000")
	code = hook.lastCode(t, phone, 5)
	for range 5 {
		wantProblem(t, verifyMFA(e, burnt.MFAToken, "sms", otherCode(code)), 401, "")
	}
	wantProblem(t, verifyMFA(e, burnt.MFAToken, "sms", code), 401, "")
	wantProblem(t, challengeCode(e, burnt.MFAToken, "sms"), 401, "")

	late := mfaLogin(t, e, "texter")
	clock.Add(61 * time.Second)
	wantCodeSent(t, challengeCode(e, late.MFAToken, "sms"), "sms", "+44******0000")
	code = hook.lastCode(t, phone, 6)
	clock.Add(10 * time.Minute)
	wantProblem(t, verifyMFA(e, late.MFAToken, "sms", code), 401, "")

	if r := e.do(request{Method: "DELETE", Path: "/api/v1/me/mfa/sms", Token: session}); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
}

func TestCodeSendFailures(t *testing.T) {
	e := newTestEnv(t)
	useClock(e)
	id, token := signIn(t, e, "unlucky@example.com")
	// No sender configured: the methods are unavailable.
	e.mfa.Mailer, e.mfa.SMS = nil, nil
	wantProblem(t, enrolCode(e, token, "email", nil), 409, "")
	wantProblem(t, enrolCode(e, token, "sms", map[string]any{"phone": "+14155550123"}), 409, "")

	mb := startMailbox(t, e)
	hook := startSMSHook(t, e)
	mb.Refuse(true)
	hook.setFailing(true)
	for _, r := range []response{
		enrolCode(e, token, "email", nil),
		enrolCode(e, token, "sms", map[string]any{"phone": "+14155550123"}),
	} {
		wantProblem(t, r, 503, "")
		if !strings.Contains(string(r.Body), "could not send the code") {
			t.Fatalf("503: %s", r.Body)
		}
	}
	if adminMethod(t, e, id, "email") != nil || adminMethod(t, e, id, "sms") != nil {
		t.Fatal("a failed send left a method behind")
	}
	if slices.Contains(auditActions(t, e, id), "mfa.enabled") || slices.Contains(auditActions(t, e, id), "mfa.enrolling") {
		t.Fatal("a failed send was audited as an enrolment")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "+14*****0123") || !strings.Contains(logs, "u***@example.com") || strings.Contains(logs, "14155550123") {
		t.Fatalf("the failed sends are not logged with the target masked:\n%s", logs)
	}

	// Once the server takes mail again, the code may be asked for at once.
	mb.Refuse(false)
	wantCodeSent(t, enrolCode(e, token, "email", nil), "email", "u***@example.com")
	if r := confirmCode(e, token, "email", mb.lastCode(t, "unlucky@example.com", 1)); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	m := mfaLogin(t, e, "unlucky")
	mb.Refuse(true)
	wantProblem(t, challengeCode(e, m.MFAToken, "email"), 503, "")
	e.mfa.Mailer = nil
	wantProblem(t, challengeCode(e, m.MFAToken, "email"), 503, "")

	// The tenant's policy decides which methods may be enrolled.
	r := e.do(request{Method: "PUT", Path: "/api/v1/tenant/security-policy", Token: e.A.Admin, Body: map[string]any{
		"mfa_required": false, "allowed_methods": []string{"totp"},
		"password": map[string]any{"min_length": 12, "reject_common": true},
		"lockout":  map[string]any{"max_attempts": 10, "duration_minutes": 15},
		"session":  map[string]any{"access_token_minutes": 15, "refresh_token_days": 30},
	}})
	if r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
	_, other := signIn(t, e, "restricted@example.com")
	hook.setFailing(false)
	wantProblem(t, enrolCode(e, other, "sms", map[string]any{"phone": "+14155550123"}), 409, "")
	wantProblem(t, enrolCode(e, other, "email", nil), 409, "")
}

// TestSentCodesAtRest looks for every code sent, as text and as the hex
// of its bytes, in the MFA tables, the audit trail and the logs.
func TestSentCodesAtRest(t *testing.T) {
	e := newTestEnv(t)
	clock := useClock(e)
	mb := startMailbox(t, e)
	hook := startSMSHook(t, e)
	_, token := signIn(t, e, "quiet@example.com")
	var codes []string
	wantCodeSent(t, enrolCode(e, token, "email", nil), "email", "q***@example.com")
	codes = append(codes, mb.lastCode(t, "quiet@example.com", 1))
	if r := confirmCode(e, token, "email", codes[0]); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	m := mfaLogin(t, e, "quiet")
	wantCodeSent(t, challengeCode(e, m.MFAToken, "email"), "email", "q***@example.com")
	codes = append(codes, mb.lastCode(t, "quiet@example.com", 2))
	session := wantTokens(t, verifyMFA(e, m.MFAToken, "email", codes[1]), "pwd", "otp", "mfa")
	// One enrolment and one sign-in left awaiting their codes.
	wantCodeSent(t, enrolCode(e, session, "sms", map[string]any{"phone": "+14155550188"}), "sms", "+14*****0188")
	codes = append(codes, hook.lastCode(t, "+14155550188", 1))
	clock.Add(time.Second)
	open := mfaLogin(t, e, "quiet")
	wantCodeSent(t, challengeCode(e, open.MFAToken, "email"), "email", "q***@example.com")
	codes = append(codes, mb.lastCode(t, "quiet@example.com", 3))

	dump := dumpTables(t, "mfa_methods", "mfa_challenges", "audit_events", "users")
	if !strings.Contains(dump, "+14155550188") {
		t.Fatal("the dump misses the pending number")
	}
	for _, where := range []struct{ name, text string }{{"the database", dump}, {"the logs", e.logs.String()}} {
		for _, c := range codes {
			// A six-digit run could be part of a timestamp's microseconds
			// or a hash; a code stands alone or in quotes.
			for _, form := range []string{c, fmt.Sprintf("%x", c)} {
				if regexp.MustCompile(`(^|[^0-9a-f.])` + form + `([^0-9a-f+]|$)`).MatchString(where.text) {
					t.Fatalf("a code is in %s", where.name)
				}
			}
		}
	}
}
