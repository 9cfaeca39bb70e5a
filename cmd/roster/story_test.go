package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStory replays the opening story of the seed, end to end, on the real
// `roster serve` (its job and email workers included), PostgreSQL, a real
// SMTP server and oathtool as the officers' authenticator app:
//
//	An administrator must get every officer onto MFA by month end. She
//	filters for accounts without MFA, sees 47, sends a bulk reminder, and
//	two weeks later sees three.
//
// The tenant has 51 users: its admin and 50 officers (role viewer). Three
// officers enrol TOTP before the story starts. The admin has no second
// factor either, so "accounts without MFA" is the officers' view
// (role=viewer): 47, while the dashboard counts everyone, 3 of 51.
func TestStory(t *testing.T) {
	const officers, early, later = 50, 3, 44
	mailbox := startSMTPInbox(t)
	b := createTenant(t, "Story Police")
	srv := startServe(t,
		"ROSTER_SMTP_ADDR="+mailbox.addr, "ROSTER_SMTP_FROM=Roster <no-reply@roster.test>", "ROSTER_SMTP_TLS=none",
		"ROSTER_PUBLIC_URL=http://roster.story.test")
	admin := &storyClient{t: t, base: srv.url, token: b.AdminToken, http: http.DefaultClient}

	// The officers are created over the REST API, each with a password.
	emails := make([]string, officers)
	ids := make(map[string]string, officers) // email -> user id
	for i := range officers {
		emails[i] = fmt.Sprintf("officer%02d%s", i, storyDomain)
		var u struct{ ID string }
		admin.want(201, "POST", "/api/v1/users", map[string]any{
			"email": emails[i], "given_name": "Officer", "family_name": fmt.Sprintf("No. %02d", i),
			"role": "viewer", "password": storyPassword,
		}, &u)
		ids[emails[i]] = u.ID
	}

	// Three officers sign in from their own machines and enrol an
	// authenticator app.
	for i := range early {
		enrolOfficer(t, srv.url, b.TenantSlug, emails[i], i)
	}

	// The administrator filters for officers without MFA: 47, none of the
	// three, paged through with the cursor.
	view := "mfa=disabled&active=true&role=viewer"
	withoutMFA := admin.listEmails("/api/v1/users?" + view + "&limit=20")
	if want := emails[early:]; !slices.Equal(withoutMFA, want) {
		t.Fatalf("officers without MFA: %d %v, want the %d who have not enrolled", len(withoutMFA), withoutMFA, len(want))
	}
	admin.wantAdoption(early, officers+1)

	// She sends one bulk reminder to the same selection.
	var result struct {
		Matched, Succeeded, Skipped int64
		FailedCount                 int64 `json:"failed_count"`
	}
	admin.want(200, "POST", "/api/v1/users/bulk", map[string]any{
		"action": "remind_mfa", "filter": map[string]any{"mfa": "disabled", "active": true, "role": "viewer"},
	}, &result)
	if result.Matched != 47 || result.Succeeded != 47 || result.Skipped != 0 || result.FailedCount != 0 {
		t.Fatalf("bulk reminder: %+v, want 47 matched and sent", result)
	}

	// The email worker delivers exactly 47 reminders, one to each of them,
	// none to the enrolled officers or the admin, each saying what to do.
	mails := waitFor(t, mailbox, 47, srv)
	var to []string
	for _, m := range mails {
		to = append(to, m.to)
		for _, want := range []string{"two-step verification", "http://roster.story.test/account", "authenticator app"} {
			if !strings.Contains(m.subject+m.body, want) {
				t.Fatalf("the reminder to %s does not say %q:\n%s\n%s", m.to, want, m.subject, m.body)
			}
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, withoutMFA) {
		t.Fatalf("reminders went to %v, want %v", to, withoutMFA)
	}
	wantOutboxSent(t, b.TenantID, 47)

	// The audit trail has the bulk request and a reminder for each officer.
	bulkEvents := admin.auditEvents("users.bulk_action")
	if len(bulkEvents) != 1 || bulkEvents[0].ActorID == "" || bulkEvents[0].Details["action"] != "remind_mfa" ||
		bulkEvents[0].Details["matched"] != 47.0 || bulkEvents[0].Details["succeeded"] != 47.0 {
		t.Fatalf("users.bulk_action events: %+v, want one, with its actor, action and counts", bulkEvents)
	}
	var reminded []string
	for _, ev := range admin.auditEvents("mfa.reminder_queued") {
		reminded = append(reminded, ev.TargetID)
	}
	slices.Sort(reminded)
	var wantReminded []string
	for _, email := range withoutMFA {
		wantReminded = append(wantReminded, ids[email])
	}
	slices.Sort(wantReminded)
	if !slices.Equal(reminded, wantReminded) {
		t.Fatalf("mfa.reminder_queued for %d users, want the %d reminded", len(reminded), len(wantReminded))
	}

	// Two weeks later (Roster's clock is not injectable from outside the
	// process, so the story simply goes on) 44 more have enrolled.
	for i := early; i < early+later; i++ {
		enrolOfficer(t, srv.url, b.TenantSlug, emails[i], i)
	}
	stragglers := admin.listEmails("/api/v1/users?" + view + "&limit=20")
	if want := emails[early+later:]; !slices.Equal(stragglers, want) {
		t.Fatalf("officers without MFA two weeks later: %v, want %v", stragglers, want)
	}
	admin.wantAdoption(early+later, officers+1)

	// A second reminder reaches only the three.
	admin.want(200, "POST", "/api/v1/users/bulk", map[string]any{
		"action": "remind_mfa", "filter": map[string]any{"mfa": "disabled", "active": true, "role": "viewer"},
	}, &result)
	if result.Matched != 3 || result.Succeeded != 3 {
		t.Fatalf("second reminder: %+v, want 3", result)
	}
	mails = waitFor(t, mailbox, 50, srv)
	to = to[:0]
	for _, m := range mails[47:] {
		to = append(to, m.to)
	}
	slices.Sort(to)
	if !slices.Equal(to, stragglers) {
		t.Fatalf("second reminders went to %v, want %v", to, stragglers)
	}
}

const storyPassword = "correct-horse-battery-staple-42"

// storyClient calls the REST API with one credential, as a script would.
type storyClient struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

// want makes a request, fails unless it answers status, and decodes the
// answer into out when out is not nil.
func (c *storyClient) want(status int, method, path string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// listEmails pages through a users list and returns the emails, sorted.
func (c *storyClient) listEmails(path string) []string {
	c.t.Helper()
	var emails []string
	for page := path; ; {
		var p struct {
			Items      []struct{ Email string }
			NextCursor *string `json:"next_cursor"`
		}
		c.want(200, "GET", page, nil, &p)
		for _, u := range p.Items {
			emails = append(emails, u.Email)
		}
		if p.NextCursor == nil {
			break
		}
		page = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	slices.Sort(emails)
	return emails
}

// wantAdoption fails unless the dashboard shows enabled of total users
// with a second factor, at the contract's rounding (4 decimals).
func (c *storyClient) wantAdoption(enabled, total int64) {
	c.t.Helper()
	var st struct {
		TotalUsers int64 `json:"total_users"`
		MFA        struct {
			Enabled      int64              `json:"enabled"`
			Disabled     int64              `json:"disabled"`
			AdoptionRate float64            `json:"adoption_rate"`
			Methods      map[string]float64 `json:"methods"`
		}
	}
	c.want(200, "GET", "/api/v1/stats", nil, &st)
	rate := math.Round(float64(enabled)/float64(total)*10000) / 10000
	if st.TotalUsers != total || st.MFA.Enabled != enabled || st.MFA.Disabled != total-enabled ||
		st.MFA.AdoptionRate != rate || st.MFA.Methods["totp"] != float64(enabled) {
		c.t.Fatalf("stats: %+v, want adoption %d/%d = %v", st, enabled, total, rate)
	}
}

type storyEvent struct {
	Action   string
	ActorID  string `json:"actor_id"`
	TargetID string `json:"target_id"`
	Details  map[string]any
}

// auditEvents returns every audit event with an action.
func (c *storyClient) auditEvents(action string) []storyEvent {
	c.t.Helper()
	var events []storyEvent
	path := "/api/v1/audit-events?limit=200&action=" + url.QueryEscape(action)
	for page := path; ; {
		var p struct {
			Items      []storyEvent
			NextCursor *string `json:"next_cursor"`
		}
		c.want(200, "GET", page, nil, &p)
		events = append(events, p.Items...)
		if p.NextCursor == nil {
			return events
		}
		page = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
}

// enrolOfficer is one officer, on a machine of their own (a loopback
// address of their own, so the per-address sign-in limit sees 50 people,
// not one), signing in with their password and enrolling an authenticator
// app with a code from oathtool.
func enrolOfficer(t *testing.T, base, tenant, email string, machine int) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+machine))}, Timeout: 5 * time.Second}
	transport := &http.Transport{DialContext: dialer.DialContext}
	defer transport.CloseIdleConnections()
	officer := &storyClient{t: t, base: base, http: &http.Client{Transport: transport}}

	var tok struct {
		AccessToken string `json:"access_token"`
	}
	officer.want(200, "POST", "/api/v1/auth/login", map[string]any{"tenant": tenant, "username": email, "password": storyPassword}, &tok)
	officer.token = tok.AccessToken
	var enrolment struct{ Secret string }
	officer.want(200, "POST", "/api/v1/me/mfa/totp", nil, &enrolment)
	officer.want(204, "POST", "/api/v1/me/mfa/totp/verify", map[string]any{"code": oathtool(t, enrolment.Secret, time.Now())}, nil)
}

// oathtool is the code of secret at the time at, from OATH Toolkit: an
// authenticator independent of Roster's TOTP code.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", secret, "--now", at.UTC().Format("2006-01-02 15:04:05 UTC")).Output()
	if err != nil {
		t.Fatalf("oathtool (install it, or run ./test): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// wantOutboxSent fails unless the tenant's email outbox holds exactly n
// messages, all sent.
func wantOutboxSent(t *testing.T, tenantID string, n int) {
	t.Helper()
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var total, sent int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM email_outbox WHERE tenant_id = $1`,
		tenantID).Scan(&total, &sent); err != nil {
		t.Fatal(err)
	}
	if total != n || sent != n {
		t.Fatalf("email outbox: %d messages, %d sent, want %d sent", total, sent, n)
	}
}

// storyDomain is where the story's officers get their mail.
const storyDomain = "@storypolice.example"

// waitFor waits until n messages for the story's tenant have arrived, then
// a little longer to catch any extra one, and returns them.
func waitFor(t *testing.T, in *smtpInbox, n int, srv *served) []inboxMail {
	t.Helper()
	count := func() int { return len(in.to(storyDomain)) }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for count() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d mails arrived; logs:\n%s", count(), n, srv.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(1500 * time.Millisecond) // longer than the worker's poll interval
	mails := in.to(storyDomain)
	if len(mails) != n {
		t.Fatalf("%d mails arrived, want %d", len(mails), n)
	}
	return mails
}
