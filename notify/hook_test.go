package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/notify"
)

func TestHookGuardRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr            string
		allowed         bool // without the loopback override
		allowedLoopback bool // with it
	}{
		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"169.254.169.254", false, false}, // cloud metadata
		{"169.254.1.1", false, false},
		{"fe80::1", false, false},
		{"fd00:ec2::254", false, false}, // AWS's IPv6 metadata
		{"100.100.100.200", false, false},
		{"10.0.0.1", false, false},
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"100.64.0.1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"fc00::1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"64:ff9b::a00:1", false, false}, // NAT64 of 10.0.0.1
		{"2002:a00:1::", false, false},   // 6to4 of 10.0.0.1
		{"198.18.0.1", false, false},
		{"93.184.215.14", true, true},
		{"2606:4700::6810:84e5", true, true},
		{"64:ff9b::5db8:d70e", true, true}, // NAT64 of a public address
	} {
		addr := netip.MustParseAddr(tc.addr)
		if err := (notify.HookGuard{}).Check(addr); (err == nil) != tc.allowed {
			t.Errorf("%s without the override: err %v, want allowed %v", tc.addr, err, tc.allowed)
		}
		if err := (notify.HookGuard{AllowLoopback: true}).Check(addr); (err == nil) != tc.allowedLoopback {
			t.Errorf("%s with the loopback override: err %v, want allowed %v", tc.addr, err, tc.allowedLoopback)
		}
	}
	// Control is what net.Dialer runs on the address before connecting.
	guard := notify.HookGuard{AllowLoopback: true}
	if err := guard.Control("tcp4", "169.254.169.254:80", nil); err == nil {
		t.Error("Control let the metadata address through")
	}
	if err := guard.Control("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Errorf("Control refused loopback with the override: %v", err)
	}
}

// fakeResolver answers the names a test gives it, and nothing else.
type fakeResolver map[string][]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	names, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, n := range names {
		out = append(out, netip.MustParseAddr(n))
	}
	return out, nil
}

// loopbackOnlyDialer connects to loopback addresses and fails the test for
// any other: no test may send a packet off this machine.
type loopbackOnlyDialer struct {
	t     *testing.T
	mu    sync.Mutex
	dials []string
}

func (d *loopbackOnlyDialer) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() {
		d.t.Errorf("the sender dialled %s, which is no loopback address", address)
		return nil, io.ErrClosedPipe
	}
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

func (d *loopbackOnlyDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dials)
}

func testEvent() *roster.Event {
	return &roster.Event{ID: "0193b0a0-0000-7000-8000-000000000001", Type: "user.created",
		CreatedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), TenantID: "0193b0a0-0000-7000-8000-0000000000aa",
		Data: json.RawMessage(`{"target_type":"user","target_id":"u1","actor_type":"api_token","actor_id":"t1","details":{}}`)}
}

func TestHookSenderRefusesInternalAddressesAfterResolution(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	resolver := fakeResolver{
		"internal.example": {"10.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"mixed.example":    {"10.0.0.1", "127.0.0.1"},
		"loopback.example": {"127.0.0.1"},
	}
	key, _, err := auth.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url     string
		allowLoopback bool
		delivered     bool
	}{
		{"a name resolving to 10.0.0.1", "http://internal.example:%d/hook", true, false},
		{"a name resolving to the metadata address", "http://metadata.example:%d/hook", true, false},
		{"the metadata address itself", "http://169.254.169.254:%d/latest/meta-data", true, false},
		{"127.0.0.1 without the override", "http://127.0.0.1:%d/hook", false, false},
		{"a name resolving to loopback without the override", "http://loopback.example:%d/hook", false, false},
		{"127.0.0.1 with the override", "http://127.0.0.1:%d/hook", true, true},
		{"a name with a private and a loopback address, with the override", "http://mixed.example:%d/hook", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dialer := &loopbackOnlyDialer{t: t}
			s := notify.NewHookSender(notify.HookConfig{Guard: notify.HookGuard{AllowLoopback: tc.allowLoopback},
				Resolver: resolver, Dial: dialer.Dial, Timeout: 5 * time.Second})
			before := hits.Load()
			endpoint := strings.Replace(tc.url, "%d", strconv.Itoa(port), 1)
			res, err := s.Send(context.Background(), endpoint, key, testEvent())
			if tc.delivered {
				if err != nil || res.Status != 200 || hits.Load() != before+1 {
					t.Fatalf("not delivered: %v, status %d", err, res.Status)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("err %v, want a refusal", err)
			}
			if strings.Contains(err.Error(), endpoint) {
				t.Errorf("the error shows the URL: %v", err)
			}
			if dialer.count() != 0 || hits.Load() != before {
				t.Fatalf("refused, yet dialled %d times", dialer.count())
			}
		})
	}
}

func TestHookSenderFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var target atomic.Int32
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Add(1) }))
	t.Cleanup(final.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	dialer := &loopbackOnlyDialer{t: t}
	s := notify.NewHookSender(notify.HookConfig{Guard: notify.HookGuard{AllowLoopback: true}, Dial: dialer.Dial})
	res, err := s.Send(context.Background(), redirector.URL+"/hook", []byte("k"), testEvent())
	if err == nil || res.Status != http.StatusTemporaryRedirect || target.Load() != 0 {
		t.Fatalf("a redirect was followed or passed: err %v, status %d, target hit %d times", err, res.Status, target.Load())
	}
}

func TestHookSenderSignsAsStandardWebhooksVerifies(t *testing.T) {
	t.Parallel()
	key, shown, err := auth.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := standardwebhooks.NewWebhook(shown)
	if err != nil {
		t.Fatal(err)
	}
	_, otherShown, err := auth.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := standardwebhooks.NewWebhook(otherShown)
	if err != nil {
		t.Fatal(err)
	}
	type received struct {
		body   []byte
		header http.Header
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{body, r.Header.Clone()}
	}))
	t.Cleanup(srv.Close)
	s := notify.NewHookSender(notify.HookConfig{Guard: notify.HookGuard{AllowLoopback: true}, Dial: (&loopbackOnlyDialer{t: t}).Dial})
	ev := testEvent()
	if _, err := s.Send(context.Background(), srv.URL, key, ev); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if err := verifier.Verify(r.body, r.header); err != nil {
		t.Fatalf("the Standard Webhooks verifier refused the signature: %v", err)
	}
	if err := wrong.Verify(r.body, r.header); err == nil {
		t.Fatal("a verifier with another secret accepted the signature")
	}
	if err := verifier.Verify(append(r.body, ' '), r.header); err == nil {
		t.Fatal("the verifier accepted a changed body")
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "type", "created_at", "tenant_id", "data"} {
		if _, ok := body[k]; !ok || len(body) != 5 {
			t.Fatalf("body %s: want exactly id, type, created_at, tenant_id and data", r.body)
		}
	}
	if r.header.Get("webhook-id") != ev.ID {
		t.Fatalf("webhook-id %q, want the event's id", r.header.Get("webhook-id"))
	}
}
