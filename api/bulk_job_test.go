package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/notify"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/worker"
)

// job is GET /jobs/{id} as a test reads it.
type job struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Action   string `json:"action"`
	Progress struct {
		Processed int64  `json:"processed"`
		Total     *int64 `json:"total"`
	} `json:"progress"`
	Result bulkResult `json:"result"`
}

func (e *testEnv) job(token, id string) job {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/jobs/" + id, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("get job: %d %s", r.Status, r.Body)
	}
	var j job
	r.JSON(e.t, &j)
	return j
}

// newWorker returns a worker on e's database that sends mail with mailer.
func (e *testEnv) newWorker(mailer notify.Mailer, cfg worker.Config) *worker.Worker {
	w := worker.New(store.NewJobRunner(e.DB, testPublicURL), store.NewEmailOutbox(e.DB),
		slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	w.Mailer = mailer
	return w
}

// seedUsers loads n users into tenant A and returns how many are active.
func (e *testEnv) seedUsers(n int) int64 {
	e.t.Helper()
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, n); err != nil {
		e.t.Fatal(err)
	}
	var active int64
	if err := openTestDB(e.t).QueryRow(`SELECT count(*) FROM users WHERE tenant_id = $1 AND active`, e.A.ID).Scan(&active); err != nil {
		e.t.Fatal(err)
	}
	return active
}

// startBulkJob posts a bulk action that must become a job, and returns its id.
func (e *testEnv) startBulkJob(body map[string]any) string {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/users/bulk", Token: e.A.Admin, Body: body})
	if r.Status != http.StatusAccepted {
		e.t.Fatalf("large bulk: %d %s", r.Status, r.Body)
	}
	id, _ := r.Object(e.t)["job_id"].(string)
	if r.Header.Get("Location") != "/api/v1/jobs/"+id {
		e.t.Fatalf("Location %q for job %q", r.Header.Get("Location"), id)
	}
	return id
}

func TestLargeBulkRunsAsAJob(t *testing.T) {
	e := newTestEnv(t)
	active := e.seedUsers(1500)
	id := e.startBulkJob(map[string]any{"action": "set_role", "role": "viewer", "filter": map[string]any{"active": true}})

	j := e.job(e.A.Admin, id)
	if j.Status != "queued" || j.Progress.Total != nil || j.Action != "set_role" {
		t.Fatalf("new job: %+v", j)
	}
	// Nothing happens inside the request.
	if got := e.auditActions(e.A.Admin, "action=user.updated"); len(got) != 0 {
		t.Fatalf("%d users changed before the job ran", len(got))
	}
	// Another tenant cannot see it.
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/jobs/" + id, Token: e.B.Admin}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/jobs/not-a-job", Token: e.A.Admin, Invalid: true}), http.StatusNotFound, "")
	wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/jobs/" + id, Token: e.A.Viewer}), http.StatusForbidden, "")

	w := e.newWorker(nil, worker.Config{JobSlice: 500})
	ctx := context.Background()
	if ran, err := w.RunJob(ctx); !ran || err != nil {
		t.Fatalf("first slice: %v %v", ran, err)
	}
	j = e.job(e.A.Admin, id)
	if j.Status != "queued" || j.Progress.Processed != 500 || j.Progress.Total == nil || *j.Progress.Total != active {
		t.Fatalf("after one slice: %+v (active users: %d)", j, active)
	}
	for ran := true; ran; {
		var err error
		if ran, err = w.RunJob(ctx); err != nil {
			t.Fatal(err)
		}
	}
	j = e.job(e.A.Admin, id)
	if j.Status != "succeeded" || j.Progress.Processed != active || j.Result.Matched != active {
		t.Fatalf("finished job: %+v", j)
	}
	// Oneself is the one failure: the guards hold in a job too.
	if j.Result.FailedCount != 1 || j.Result.Failed[0].ID != e.A.AdminID || j.Result.Succeeded != active-1 {
		t.Fatalf("job result: %+v", j.Result)
	}
	var admins int
	if err := openTestDB(t).QueryRow(`SELECT count(*) FROM users WHERE tenant_id = $1 AND active AND role <> 'viewer'`, e.A.ID).Scan(&admins); err != nil || admins != 1 {
		t.Fatalf("active non-viewers left: %d %v", admins, err)
	}
	if got := e.auditActions(e.A.Admin, "action=users.bulk_action&target_id="+id); len(got) != 1 {
		t.Fatalf("job audit events: %v", got)
	}
	if got := e.auditActions(e.A.Admin, "action=job.queued&target_id="+id); len(got) != 1 {
		t.Fatalf("job queued events: %v", got)
	}
}

func TestInterruptedJobResumesWhereItStopped(t *testing.T) {
	e := newTestEnv(t)
	active := e.seedUsers(1300)
	id := e.startBulkJob(map[string]any{"action": "deactivate", "filter": map[string]any{"active": true}})
	db := openTestDB(t)
	bulk := store.NewJobRunner(e.DB, testPublicURL)
	ctx := context.Background()

	// A worker claims the job, does 300 users and dies holding the lease.
	claimed, err := bulk.ClaimJob(ctx, "doomed", time.Minute)
	if err != nil || claimed == nil || claimed.ID != id {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	if err := bulk.RunJob(ctx, claimed, "doomed", time.Minute, 300); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE jobs SET status = 'running', lease_owner = 'doomed', lease_until = now() + interval '1 minute' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	// While its lease holds, nobody else takes the job.
	w := e.newWorker(nil, worker.Config{JobSlice: 10000})
	if ran, err := w.RunJob(ctx); ran || err != nil {
		t.Fatalf("a leased job was taken: %v %v", ran, err)
	}
	if _, err := db.Exec(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if ran, err := w.RunJob(ctx); !ran || err != nil {
		t.Fatalf("the expired job: %v %v", ran, err)
	}
	j := e.job(e.A.Admin, id)
	if j.Status != "succeeded" || j.Progress.Processed != active || j.Result.Succeeded != active-1 {
		t.Fatalf("resumed job: %+v (active: %d)", j, active)
	}
	// No user was done twice.
	var events, distinct, attempts int
	err = db.QueryRow(`SELECT count(*), count(DISTINCT target_id) FROM audit_events
		WHERE tenant_id = $1 AND action = 'user.deactivated'`, e.A.ID).Scan(&events, &distinct)
	if err != nil || int64(events) != active-1 || events != distinct {
		t.Fatalf("deactivation events: %d for %d users (want %d) %v", events, distinct, active-1, err)
	}
	if err := db.QueryRow(`SELECT attempts FROM jobs WHERE id = $1`, id).Scan(&attempts); err != nil || attempts != 1 {
		t.Fatalf("attempts %d %v, want 1 (one takeover)", attempts, err)
	}
}

func TestMFARemindersGoThroughTheRetriedOutbox(t *testing.T) {
	e := newTestEnv(t)
	mb := startMailbox(t, e)
	admin := e.A.Admin
	need := e.createUsers(admin, "remind", 2, nil)
	off := e.createUsers(admin, "remindoff", 1, map[string]any{"active": false})
	has := e.createUsers(admin, "remindmfa", 1, nil)
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE users SET mfa_methods = '{totp}' WHERE id = $1`, has[0]); err != nil {
		t.Fatal(err)
	}
	other := e.createUsers(e.B.Admin, "remindb", 1, nil)

	res := e.bulk(admin, map[string]any{"action": "remind_mfa", "ids": []string{need[0], need[1], off[0], has[0], other[0]}})
	if res.Succeeded != 2 || res.Skipped != 2 || res.FailedCount != 1 || res.Failed[0].Error != "not found" {
		t.Fatalf("remind: %+v", res)
	}
	// The request only wrote the outbox.
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'pending'`, e.A.ID).Scan(&pending); err != nil || pending != 2 {
		t.Fatalf("pending mail: %d %v", pending, err)
	}
	if len(mb.Received()) != 0 {
		t.Fatal("mail was sent inside the request")
	}
	if got := e.auditActions(admin, "target_id="+need[0]); len(got) != 2 || got[0] != "mfa.reminder_queued" {
		t.Fatalf("audit of a reminded user: %v", got)
	}

	// The server refuses: each message waits and is retried.
	mb.Refuse(true)
	w := e.newWorker(e.mfa.Mailer, worker.Config{EmailBackoff: time.Millisecond, EmailMaxAttempts: 3})
	ctx := context.Background()
	if n, err := w.DeliverEmails(ctx); n != 2 || err != nil {
		t.Fatalf("first delivery: %d %v", n, err)
	}
	var attempts int
	var lastError string
	if err := db.QueryRow(`SELECT max(attempts), max(last_error) FROM email_outbox WHERE tenant_id = $1 AND status = 'pending'`,
		e.A.ID).Scan(&attempts, &lastError); err != nil || attempts != 1 || lastError == "" {
		t.Fatalf("after a refusal: attempts %d, error %q, %v", attempts, lastError, err)
	}
	time.Sleep(5 * time.Millisecond)
	mb.Refuse(false)
	if n, err := w.DeliverEmails(ctx); n != 2 || err != nil {
		t.Fatalf("second delivery: %d %v", n, err)
	}
	if mail := mb.Received(); len(mail) != 2 || !strings.Contains(mail[0].Body, testPublicURL+"/account") {
		t.Fatalf("delivered %d: %+v", len(mail), mail)
	}
	var sent int
	if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'sent' AND body = '' AND attempts = 2`,
		e.A.ID).Scan(&sent); err != nil || sent != 2 {
		t.Fatalf("sent messages: %d %v", sent, err)
	}

	// Out of attempts, a message is dead and left alone.
	if res := e.bulk(admin, map[string]any{"action": "remind_mfa", "ids": need[:1]}); res.Succeeded != 1 {
		t.Fatalf("second reminder: %+v", res)
	}
	mb.Refuse(true)
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		if n, err := w.DeliverEmails(ctx); n != 1 || err != nil {
			t.Fatalf("failing delivery: %d %v", n, err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := w.DeliverEmails(ctx); n != 0 || err != nil {
		t.Fatalf("a dead message was retried: %d %v", n, err)
	}
	var dead int
	if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'dead' AND body = ''`, e.A.ID).Scan(&dead); err != nil || dead != 1 {
		t.Fatalf("dead messages: %d %v", dead, err)
	}
}

func TestBulkReminderJobSendsOncePerUser(t *testing.T) {
	e := newTestEnv(t)
	mb := startMailbox(t, e)
	e.seedUsers(2000)
	id := e.startBulkJob(map[string]any{"action": "remind_mfa", "filter": map[string]any{"mfa": "disabled"}})
	w := e.newWorker(e.mfa.Mailer, worker.Config{JobSlice: 700})
	ctx := context.Background()
	for ran := true; ran; {
		var err error
		if ran, err = w.RunJob(ctx); err != nil {
			t.Fatal(err)
		}
	}
	j := e.job(e.A.Admin, id)
	if j.Status != "succeeded" || j.Result.Succeeded == 0 || j.Result.Skipped == 0 {
		t.Fatalf("reminder job: %+v", j)
	}
	// A rerun of the job's users (as after a crash mid-way) adds no mail.
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE jobs SET status = 'queued', cursor = '', processed = 0, succeeded = 0, skipped = 0 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for ran := true; ran; {
		var err error
		if ran, err = w.RunJob(ctx); err != nil {
			t.Fatalf("rerun: %v", err)
		}
	}
	var queued int64
	if err := db.QueryRow(`SELECT count(*) FROM email_outbox WHERE tenant_id = $1`, e.A.ID).Scan(&queued); err != nil || queued != j.Result.Succeeded {
		t.Fatalf("outbox holds %d messages for %d reminded users: %v", queued, j.Result.Succeeded, err)
	}
	for {
		n, err := w.DeliverEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if delivered := len(mb.Received()); int64(delivered) != queued {
		t.Fatalf("delivered %d of %d", delivered, queued)
	}
}

func TestAWorkerThatLostItsLeaseChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.seedUsers(1200)
	id := e.startBulkJob(map[string]any{"action": "deactivate", "filter": map[string]any{"active": true}})
	bulk := store.NewJobRunner(e.DB, testPublicURL)
	ctx := context.Background()
	claimed, err := bulk.ClaimJob(ctx, "slow", time.Minute)
	if err != nil || claimed == nil || claimed.ID != id {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	db := openTestDB(t)
	// The job must not outlive the test for another test's worker to take.
	t.Cleanup(func() { _, _ = db.Exec(`UPDATE jobs SET status = 'failed' WHERE id = $1`, id) })
	// Another worker takes the job over once this one has done 5 users.
	if _, err := db.Exec(`
		CREATE FUNCTION usurp_job() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.processed >= 5 THEN NEW.lease_owner := 'usurper'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER usurp BEFORE UPDATE ON jobs FOR EACH ROW
			WHEN (NEW.id = '` + id + `') EXECUTE FUNCTION usurp_job()`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec(`DROP TRIGGER usurp ON jobs; DROP FUNCTION usurp_job()`) })
	if err := bulk.RunJob(ctx, claimed, "slow", time.Minute, 0); err == nil {
		t.Fatal("a worker without the lease ran the job to its end")
	}
	// The sixth user's change went with the failed checkpoint.
	var deactivated int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'user.deactivated'`, e.A.ID).Scan(&deactivated); err != nil || deactivated != 5 {
		t.Fatalf("%d users deactivated, want the 5 done under the lease (%v)", deactivated, err)
	}
	if j := e.job(e.A.Admin, id); j.Progress.Processed != 5 {
		t.Fatalf("progress: %+v", j)
	}
	if err := bulk.RunJob(ctx, claimed, "slow", time.Minute, 0); err == nil {
		t.Fatal("a worker without the lease started the job again")
	}
}
