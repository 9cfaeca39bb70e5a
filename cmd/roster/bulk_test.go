package main_test

import (
	"database/sql"
	"encoding/json"
	"syscall"
	"testing"
	"time"
)

// TestBulkJobSurvivesARestart stops `roster serve` with SIGTERM while a
// bulk job runs: the job goes back to the queue where it stopped, and the
// next start finishes it without doing any user twice.
func TestBulkJobSurvivesARestart(t *testing.T) {
	b := createTenant(t, "Bulk Restart")
	roster(t, "seed", "--tenant", b.TenantID, "--users", "3000")
	db, err := sql.Open("postgres", testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var active int64
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE tenant_id = $1 AND active`, b.TenantID).Scan(&active); err != nil {
		t.Fatal(err)
	}

	srv := startServe(t)
	call := func(method, path, body string) (int, map[string]any) {
		status, raw := srv.call(t, method, path, b.AdminToken, body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return status, m
	}
	status, job := call("POST", "/api/v1/users/bulk", `{"action":"deactivate","filter":{"active":true}}`)
	if status != 202 {
		t.Fatalf("bulk: %d %v", status, job)
	}
	id := job["job_id"].(string)
	processed := func() (string, int64) {
		var st string
		var n int64
		if err := db.QueryRow(`SELECT status, processed FROM jobs WHERE id = $1`, id).Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		return st, n
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := processed(); n == 0; _, n = processed() {
		if time.Now().After(deadline) {
			t.Fatalf("the job did not start; logs:\n%s", srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(); err != nil {
		t.Fatalf("serve exited with %v", err)
	}
	st, n := processed()
	if st != "queued" || n == 0 || n >= active {
		t.Fatalf("after SIGTERM the job is %s at %d of %d users", st, n, active)
	}

	srv = startServe(t)
	deadline = time.Now().Add(60 * time.Second)
	for {
		status, job = call("GET", "/api/v1/jobs/"+id, "")
		if status != 200 {
			t.Fatalf("get job: %d %v", status, job)
		}
		if job["status"] == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish: %v; logs:\n%s", job, srv.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	result := job["result"].(map[string]any)
	if int64(result["matched"].(float64)) != active || int64(result["succeeded"].(float64)) != active-1 {
		t.Fatalf("result %v for %d active users", result, active)
	}
	var events, distinct int64
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT target_id) FROM audit_events
		WHERE tenant_id = $1 AND action = 'user.deactivated'`, b.TenantID).Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != active-1 || distinct != events {
		t.Fatalf("%d deactivations of %d users, want %d", events, distinct, active-1)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(); err != nil {
		t.Fatal(err)
	}
}
