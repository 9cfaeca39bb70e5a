package main_test

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/internal/testkit"
)

// call sends a JSON request to the server and returns the status and body.
func (s *served) call(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// callJSON is call that decodes a 2xx answer into out, failing otherwise.
func (s *served) callJSON(t *testing.T, method, path, token, body string, out any) {
	t.Helper()
	status, raw := s.call(t, method, path, token, body)
	if status/100 != 2 || (out != nil && json.Unmarshal(raw, out) != nil) {
		t.Fatalf("%s %s on %s: %d %s", method, path, s.url, status, raw)
	}
}

// replicaEnv is what two replicas behind one load balancer share: the
// database, the public URL (the issuer of their tokens) and a mail server.
func replicaEnv(dsn, smtpAddr string) []string {
	return []string{"DATABASE_URL=" + dsn, "ROSTER_PUBLIC_URL=http://roster.replicas.test",
		"ROSTER_SMTP_ADDR=" + smtpAddr, "ROSTER_SMTP_FROM=Roster <no-reply@roster.test>", "ROSTER_SMTP_TLS=none"}
}

type signedIn struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	MFARequired  bool   `json:"mfa_required"`
	MFAToken     string `json:"mfa_token"`
}

// TestTwoReplicas runs two `roster serve` processes on one database, as
// replicas behind a load balancer, and checks that nothing depends on
// which one a request reaches: a sign-in's second factor begun on one
// finishes on the other, a token revoked on one stops working on the
// other within the token cache's 5 seconds, failed sign-ins spread over
// both lock the account, a key rotation is honoured by both, and a bulk
// job and its mail are done exactly once with both running and when the
// one running the job is killed (SIGKILL) half-way.
func TestTwoReplicas(t *testing.T) {
	// A database of its own: the replicas' workers deliver every tenant's
	// queued mail, and the tests beside this one queue mail of their own.
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	b := createTenantOn(t, dsn, "Two Replicas")
	inbox := testkit.StartSMTP(t, testkit.SMTPOptions{})
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	one, two := startServe(t, replicaEnv(dsn, inbox.Addr)...), startServe(t, replicaEnv(dsn, inbox.Addr)...)
	newUser := func(email string) {
		t.Helper()
		one.callJSON(t, "POST", "/api/v1/users", b.AdminToken,
			`{"email":"`+email+`","password":"a-long-passphrase-42"}`, nil)
	}
	login := func(s *served, email, password string) (int, signedIn) {
		t.Helper()
		status, raw := s.call(t, "POST", "/api/v1/auth/login", "",
			`{"tenant":"`+b.TenantID+`","username":"`+email+`","password":"`+password+`"}`)
		var si signedIn
		_ = json.Unmarshal(raw, &si)
		return status, si
	}

	// Both sign with the current key, then it is rotated: each process
	// reads the keys again within a minute, about what the checks below
	// take.
	newUser("rotated@two-replicas.example")
	var before []string
	for _, s := range []*served{one, two} {
		_, si := login(s, "rotated@two-replicas.example", "a-long-passphrase-42")
		before = append(before, si.AccessToken)
	}
	var newestKID string
	rosterOn(t, dsn, "keys", "rotate", "--publish-ahead", "0s")
	if err := db.QueryRow(`SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY signs_from DESC LIMIT 1`).Scan(&newestKID); err != nil {
		t.Fatal(err)
	}

	t.Run("a second factor begun on one finishes on the other", func(t *testing.T) {
		newUser("totp@two-replicas.example")
		_, first := login(one, "totp@two-replicas.example", "a-long-passphrase-42")
		var enrol struct{ Secret string }
		one.callJSON(t, "POST", "/api/v1/me/mfa/totp", first.AccessToken, `{}`, &enrol)
		two.callJSON(t, "POST", "/api/v1/me/mfa/totp/verify", first.AccessToken,
			`{"code":"`+testkit.Oathtool(t, enrol.Secret, time.Now())+`"}`, nil)
		status, challenge := login(one, "totp@two-replicas.example", "a-long-passphrase-42")
		if status != 200 || !challenge.MFARequired || challenge.MFAToken == "" {
			t.Fatalf("the password alone: %d %+v", status, challenge)
		}
		var done signedIn
		two.callJSON(t, "POST", "/api/v1/auth/mfa/verify", "",
			`{"mfa_token":"`+challenge.MFAToken+`","method":"totp","code":"`+testkit.Oathtool(t, enrol.Secret, time.Now().Add(30*time.Second))+`"}`, &done)
		one.callJSON(t, "GET", "/api/v1/me", done.AccessToken, "", nil)
		// The refresh token rotates on either.
		var next signedIn
		one.callJSON(t, "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"`+done.RefreshToken+`"}`, &next)
		if status, _ := two.call(t, "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"`+done.RefreshToken+`"}`); status != 401 {
			t.Fatalf("a spent refresh token on the other replica: %d", status)
		}
	})

	t.Run("a token revoked on one stops working on the other within 5 s", func(t *testing.T) {
		var tok struct{ ID, Token string }
		one.callJSON(t, "POST", "/api/v1/scim-tokens", b.AdminToken, `{"name":"okta"}`, &tok)
		two.callJSON(t, "GET", "/scim/v2/ServiceProviderConfig", tok.Token, "", nil) // now in two's cache
		revoked := time.Now()
		if status, raw := one.call(t, "DELETE", "/api/v1/scim-tokens/"+tok.ID, b.AdminToken, ""); status != 204 {
			t.Fatalf("revoke: %d %s", status, raw)
		}
		if status, _ := one.call(t, "GET", "/scim/v2/ServiceProviderConfig", tok.Token, ""); status != 401 {
			t.Fatalf("the revoking replica still takes the token: %d", status)
		}
		for {
			status, _ := two.call(t, "GET", "/scim/v2/ServiceProviderConfig", tok.Token, "")
			if status == 401 {
				break
			}
			// The cache's 5 s, and room for a busy machine.
			if time.Since(revoked) > 8*time.Second {
				t.Fatalf("the other replica still takes a token revoked %v ago: %d", time.Since(revoked), status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("revoked on one, refused by the other after %v", time.Since(revoked).Round(time.Millisecond))
	})

	t.Run("failed sign-ins spread over both lock the account", func(t *testing.T) {
		newUser("guessed@two-replicas.example")
		for i := range 10 {
			s := []*served{one, two}[i%2]
			if status, _ := login(s, "guessed@two-replicas.example", fmt.Sprintf("guess-number-%d", i)); status != 401 {
				t.Fatalf("failure %d: %d", i+1, status)
			}
		}
		var locked bool
		if err := db.QueryRow(`SELECT locked_until > now() FROM users WHERE tenant_id = $1 AND email = 'guessed@two-replicas.example'`,
			b.TenantID).Scan(&locked); err != nil || !locked {
			t.Fatalf("locked: %v (%v)", locked, err)
		}
		for _, s := range []*served{one, two} {
			// Refused: 401 for the lockout, or 429 for the failures the
			// throttle counted in the same database.
			if status, _ := login(s, "guessed@two-replicas.example", "a-long-passphrase-42"); status != 401 && status != 429 {
				t.Fatalf("the right password on a locked account: %d", status)
			}
		}
	})

	t.Run("a key rotated on one is honoured by both", func(t *testing.T) {
		for _, old := range before {
			if tokenKID(t, old) == newestKID {
				t.Fatal("a token signed before the rotation has the new key")
			}
			for _, verifier := range []*served{one, two} {
				verifier.callJSON(t, "GET", "/api/v1/me", old, "", nil)
			}
		}
		deadline := time.Now().Add(2 * time.Minute)
		for _, signer := range []*served{one, two} {
			for {
				status, si := login(signer, "rotated@two-replicas.example", "a-long-passphrase-42")
				if status != 200 {
					t.Fatalf("sign-in: %d", status)
				}
				if kid := tokenKID(t, si.AccessToken); kid == newestKID {
					for _, verifier := range []*served{one, two} {
						verifier.callJSON(t, "GET", "/api/v1/me", si.AccessToken, "", nil)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still signs with an older key", signer.url)
				}
				time.Sleep(time.Second)
			}
		}
		for _, s := range []*served{one, two} {
			if _, raw := s.call(t, "GET", "/.well-known/jwks.json", "", ""); !strings.Contains(string(raw), newestKID) {
				t.Fatalf("%s does not publish the new key: %s", s.url, raw)
			}
		}
	})

	t.Run("a bulk job and its mail are done exactly once", func(t *testing.T) {
		rosterOn(t, dsn, "seed", "--tenant", b.TenantID, "--users", "3000")
		// Addresses of this test's own, told apart from other tests' mail.
		if _, err := db.Exec(`UPDATE users SET email = replace(id::text, '-', '') || '@bulk.two-replicas.example'
			WHERE tenant_id = $1 AND id <> $2`, b.TenantID, b.AdminUserID); err != nil {
			t.Fatal(err)
		}
		remind := func() string {
			t.Helper()
			status, raw := one.call(t, "POST", "/api/v1/users/bulk", b.AdminToken, `{"action":"remind_mfa","filter":{"mfa":"disabled","active":true}}`)
			var job struct {
				JobID string `json:"job_id"`
			}
			if status != 202 || json.Unmarshal(raw, &job) != nil {
				t.Fatalf("bulk: %d %s", status, raw)
			}
			return job.JobID
		}
		jobState := func(id string) (status, owner string, processed int64) {
			var o sql.NullString
			if err := db.QueryRow(`SELECT status, lease_owner, processed FROM jobs WHERE id = $1`, id).Scan(&status, &o, &processed); err != nil {
				t.Fatal(err)
			}
			return status, o.String, processed
		}
		waitDone := func(id string, within time.Duration) {
			t.Helper()
			eventuallyWithin(t, within, "job "+id, func() bool { st, _, _ := jobState(id); return st == "succeeded" })
			eventuallyWithin(t, within, "the mail of job "+id, func() bool {
				var pending int
				if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'pending'`, b.TenantID).Scan(&pending); err != nil {
					t.Fatal(err)
				}
				return pending == 0
			})
		}
		// Each reminded user once per job: in the audit trail, in the
		// outbox and in the mail server.
		wantOnce := func(jobs int) {
			t.Helper()
			var events, distinct, sent, recipients int
			if err := db.QueryRow(`SELECT count(*), count(DISTINCT target_id) FROM audit_events
				WHERE tenant_id = $1 AND action = 'mfa.reminder_queued' AND target_id <> $2`, b.TenantID, b.AdminUserID).Scan(&events, &distinct); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT count(*) FILTER (WHERE status = 'sent'), count(DISTINCT recipient) FROM email_outbox
				WHERE tenant_id = $1 AND recipient LIKE '%@bulk.two-replicas.example'`, b.TenantID).Scan(&sent, &recipients); err != nil {
				t.Fatal(err)
			}
			perRecipient := map[string]int{}
			for _, m := range inbox.To("@bulk.two-replicas.example") {
				perRecipient[strings.Join(m.To, ",")]++
			}
			if distinct <= 1000 || events != jobs*distinct || sent != events || recipients != distinct || len(perRecipient) != distinct {
				t.Fatalf("%d jobs: %d reminder events for %d users, %d sent to %d recipients, %d received",
					jobs, events, distinct, sent, recipients, len(perRecipient))
			}
			for to, n := range perRecipient {
				if n != jobs {
					t.Fatalf("%s got %d reminders from %d jobs", to, n, jobs)
				}
			}
		}

		// Both running: either may claim the job and the mail.
		waitDone(remind(), time.Minute)
		wantOnce(1)

		// The second job's owner is killed half-way. Mail is refused until
		// just after, so that no message is half-delivered by the process
		// that dies: delivery is at least once by design, and a message
		// the server accepted just before the kill would go out again.
		inbox.Refuse(true)
		id := remind()
		var owner string
		eventuallyWithin(t, time.Minute, "the job to start", func() bool {
			st, o, n := jobState(id)
			owner = o
			return st == "running" && n > 0 && o != ""
		})
		victim, survivor := one, two
		if !strings.Contains(owner, "/"+strconv.Itoa(one.cmd.Process.Pid)+"/") {
			victim, survivor = two, one
		}
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = victim.wait()
		st, _, n := jobState(id)
		t.Logf("killed %s with the job %s at %d users", owner, st, n)
		inbox.Refuse(false)
		// The job's lease (30 s) and the dead process's claimed mail's
		// (2 min) expire, and the survivor does the rest.
		waitDone(id, 4*time.Minute)
		wantOnce(2)
		survivor.callJSON(t, "GET", "/readyz", "", "", nil)
	})
}

// eventuallyWithin polls cond every 100 ms until it holds or within passes.
func eventuallyWithin(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

// tokenKID returns the key id in a JWT's header.
func tokenKID(t *testing.T, jwt string) string {
	t.Helper()
	header, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	var h struct{ KID string }
	if err != nil || json.Unmarshal(raw, &h) != nil {
		t.Fatalf("not a JWT: %q", jwt)
	}
	return h.KID
}
