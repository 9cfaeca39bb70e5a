package api_test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDatabaseOutage cuts the service off from PostgreSQL through a TCP
// proxy: requests get 503 problems and /readyz fails while it is gone, and
// the service recovers by itself when it is back.
func TestDatabaseOutage(t *testing.T) {
	u, err := url.Parse(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttableProxy(t, u.Host)
	u.Host = proxy.Addr()
	e := newTestEnvWithDSN(t, u.String(), withSignUp)
	list := request{Method: "GET", Path: "/api/v1/users", Token: e.A.Admin}
	if r := e.do(list); r.Status != 200 {
		t.Fatalf("before the outage: %d %s", r.Status, r.Body)
	}
	// A user's session, signed by another replica: this one has read no
	// signing key yet.
	_, session := signIn(t, newTestEnv(t), "outage@example.com")

	reader := e.serviceReader()
	proxy.Cut()
	mfaToken := "rmt_" + strings.Repeat("A", 40) // well formed, so it is looked up
	public := []request{
		{Method: "GET", Path: "/readyz"},
		{Method: "GET", Path: "/.well-known/jwks.json"}, // no key has been read yet
		{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"tenant": e.A.ID, "username": "x", "password": "y"}},
		{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]any{"refresh_token": "rrt_x"}},
		{Method: "POST", Path: "/api/v1/auth/logout", Body: map[string]any{"refresh_token": "rrt_x"}},
		{Method: "POST", Path: "/api/v1/auth/mfa/verify", Body: map[string]any{"mfa_token": mfaToken, "method": "totp", "code": "123456"}},
		{Method: "POST", Path: "/api/v1/auth/mfa/challenge", Body: map[string]any{"mfa_token": mfaToken, "method": "sms"}},
		{Method: "POST", Path: "/api/v1/invitations/accept", Body: map[string]any{"token": "riv_" + strings.Repeat("A", 40), "password": "p"}},
		{Method: "POST", Path: "/api/v1/admin-setup/accept", Body: map[string]any{"token": "rsl_" + strings.Repeat("A", 40), "password": "p"}},
		{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Body: map[string]any{"token": "rsl_" + strings.Repeat("A", 40), "new_password": "p"}},
		{Method: "POST", Path: "/api/v1/auth/password-reset", Body: map[string]any{"tenant": e.A.ID, "email": "outage@example.com"}},
		{Method: "POST", Path: "/api/v1/signup", Body: map[string]any{"email": "outage@example.com", "password": goodPassword, "organisation": map[string]any{"name": "Outage"}}},
		{Method: "POST", Path: "/api/v1/auth/verify-email", Body: map[string]any{"token": "rsl_" + strings.Repeat("A", 40)}},
		{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Body: map[string]any{"tenant": e.A.ID, "email": "outage@example.com"}},
		{Method: "POST", Path: "/api/v1/auth/passkey/begin", Body: map[string]any{"tenant": e.A.ID}},
		{Method: "POST", Path: "/api/v1/auth/mfa/passkey/begin", Body: map[string]any{"mfa_token": mfaToken}},
	}
	for _, req := range allOperations(e) {
		req.Token = e.A.Admin
		if needsUserSession(req) {
			req.Token = session
		}
		if needsServiceScope(req) {
			req.Token = reader
		}
		public = append(public, req)
	}
	for _, req := range public {
		r := e.do(req)
		wantProblem(t, r, 503, "")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", req.Method, req.Path)
		}
	}
	if r := e.do(request{Method: "GET", Path: "/healthz"}); r.Status != 200 {
		t.Fatalf("/healthz during the outage: %d (the process is up)", r.Status)
	}

	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do(list)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %d %s", r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := e.do(request{Method: "GET", Path: "/readyz"}); r.Status != 200 {
		t.Fatalf("/readyz after recovery: %d", r.Status)
	}
}

// cuttableProxy forwards TCP connections to a target until cut; a cut
// closes every open connection and refuses new ones.
type cuttableProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func newCuttableProxy(t *testing.T, target string) *cuttableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{t: t, ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *cuttableProxy) Addr() string { return p.ln.Addr().String() }

func (p *cuttableProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *cuttableProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cuttableProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}
