package main_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
)

var (
	testDSN   string
	rosterBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rosterBin = filepath.Join(dir, "roster")
	build := exec.Command("go", "build", "-o", rosterBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build roster:", err)
		os.Exit(1)
	}
	code := pgtest.Run(m, &testDSN)
	os.RemoveAll(dir)
	os.Exit(code)
}

// roster runs the binary against the test database and returns its stdout.
func roster(t *testing.T, args ...string) []byte {
	t.Helper()
	return rosterOn(t, testDSN, args...)
}

// rosterOn runs the CLI on the database of dsn.
func rosterOn(t *testing.T, dsn string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(rosterBin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("roster %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type bootstrap struct {
	TenantID    string `json:"tenant_id"`
	AdminUserID string `json:"admin_user_id"`
	TenantSlug  string `json:"tenant_slug"`
	AdminToken  string `json:"admin_token"`
	SCIMToken   string `json:"scim_token"`
}

func createTenant(t *testing.T, name string) bootstrap {
	t.Helper()
	return createTenantOn(t, testDSN, name)
}

// createTenantOn creates a tenant in the database of dsn.
func createTenantOn(t *testing.T, dsn, name string) bootstrap {
	t.Helper()
	var b bootstrap
	out := rosterOn(t, dsn, "tenant", "create", "--name", name, "--admin-email", "admin@"+strings.ToLower(strings.ReplaceAll(name, " ", ""))+".example", "--json")
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("tenant create output %q: %v", out, err)
	}
	if b.TenantID == "" || b.AdminUserID == "" || !strings.HasPrefix(b.AdminToken, "rst_") || !strings.HasPrefix(b.SCIMToken, "rst_") {
		t.Fatalf("tenant create printed %s", out)
	}
	return b
}

func TestVersionAndUsage(t *testing.T) {
	if out := roster(t, "version"); !strings.HasPrefix(string(out), "roster ") {
		t.Fatalf("version: %q", out)
	}
	cmd := exec.Command(rosterBin, "frobnicate")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown command") {
		t.Fatalf("unknown command: err %v, output %s", err, out)
	}
}

func TestKeysRotate(t *testing.T) {
	count := func() int {
		db, err := sql.Open("postgres", testDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM signing_keys WHERE retired_at IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	roster(t, "migrate")
	before := count()
	if out := roster(t, "keys", "rotate", "--publish-ahead", "0s"); !strings.Contains(string(out), "signs from") {
		t.Fatalf("keys rotate: %s", out)
	}
	if after := count(); after != before+1 {
		t.Fatalf("signing keys: %d before, %d after a rotation", before, after)
	}
}

func TestMigrateIsSafeTwiceAndConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); roster(t, "migrate") }()
	}
	wg.Wait()
	roster(t, "migrate")
}

func TestServeEndToEnd(t *testing.T) {
	b := createTenant(t, "End To End")

	var tok struct {
		Token string `json:"token"`
		Role  string `json:"role"`
	}
	out := roster(t, "token", "create", "--tenant", b.TenantID, "--role", "viewer", "--name", "dashboard", "--json")
	if err := json.Unmarshal(out, &tok); err != nil || tok.Role != "viewer" || !strings.HasPrefix(tok.Token, "rst_") {
		t.Fatalf("token create: %s (%v)", out, err)
	}
	if out := roster(t, "seed", "--tenant", b.TenantID, "--users", "250"); !strings.Contains(string(out), "seeded 250 users") {
		t.Fatalf("seed: %s", out)
	}

	srv := startServe(t)
	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest("GET", srv.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := get("/readyz", ""); status != 200 {
		t.Fatalf("/readyz: %d %s", status, body)
	}
	status, body := get("/api/v1/users?limit=200", tok.Token)
	var page struct {
		Items      []json.RawMessage
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil || status != 200 || len(page.Items) != 200 || page.NextCursor == nil {
		t.Fatalf("list: %d, %d items: %.300s", status, len(page.Items), body)
	}
	if status, _ := get("/api/v1/users/"+b.AdminUserID, b.SCIMToken); status != 403 {
		t.Fatalf("the SCIM token reads the REST API: %d", status)
	}
	if status, body := get("/scim/v2/Users?filter="+url.QueryEscape(`userName eq "admin@endtoend.example"`), b.SCIMToken); status != 200 ||
		!strings.Contains(string(body), `"totalResults":1`) {
		t.Fatalf("the SCIM token on /scim/v2: %d %s", status, body)
	}
	var scimTok struct{ Token string }
	out = roster(t, "token", "create", "--tenant", b.TenantID, "--role", "admin", "--scopes", "scim:provision", "--name", "okta", "--json")
	if err := json.Unmarshal(out, &scimTok); err != nil {
		t.Fatal(err)
	}
	if status, body := get("/scim/v2/ServiceProviderConfig", scimTok.Token); status != 200 {
		t.Fatalf("a SCIM token made with the CLI: %d %s", status, body)
	}

	// SIGTERM while a request is in flight: the request still completes.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reqBody := `{"email": "in-flight@example.com"}`
	fmt.Fprintf(conn, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		b.AdminToken, len(reqBody), reqBody[:10])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(conn, reqBody[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost on shutdown: %v", err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("in-flight request: %d", resp.StatusCode)
	}
	if err := srv.wait(); err != nil {
		t.Fatalf("serve exited with %v; logs:\n%s", err, srv.logs.String())
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.url, "http://"), time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
	if strings.Contains(srv.logs.String(), b.AdminToken) {
		t.Fatal("the admin token reached the logs")
	}
}

type served struct {
	cmd  *exec.Cmd
	url  string
	logs *safeBuffer
	done chan error
}

func (s *served) wait() error {
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("serve did not exit")
	}
}

// startServe runs `roster serve` on a free port, with env's KEY=VALUE
// settings, and waits until it listens.
func startServe(t *testing.T, env ...string) *served {
	t.Helper()
	cmd := exec.Command(rosterBin, "serve")
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+testDSN, "ROSTER_ADDR=127.0.0.1:0"), env...)
	logs := &safeBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "roster is listening" {
				addr <- entry.Addr
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-ctx.Done():
		t.Fatalf("serve did not start; logs:\n%s", logs.String())
	}
	return s
}

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *safeBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
