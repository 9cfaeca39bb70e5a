package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/notify"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/worker"
)

const fakeID = "00000000-0000-7000-8000-000000000000"

// webhookOperations is one request for each webhook and events operation,
// for allOperations.
func webhookOperations() []request {
	hook := "/api/v1/webhooks/" + fakeID
	return []request{
		{Method: "GET", Path: "/api/v1/webhooks"},
		{Method: "POST", Path: "/api/v1/webhooks", Body: map[string]any{"url": "https://hooks.example.com/r", "events": []string{"user.created"}}},
		{Method: "GET", Path: hook},
		{Method: "PATCH", Path: hook, Body: map[string]any{"description": "op"}},
		{Method: "DELETE", Path: hook},
		{Method: "POST", Path: hook + "/test"},
		{Method: "GET", Path: hook + "/deliveries"},
		{Method: "POST", Path: hook + "/deliveries/" + fakeID + "/retry"},
		{Method: "GET", Path: "/api/v1/events"},
	}
}

// receiver is a webhook endpoint on loopback that checks each delivery's
// signature with the Standard Webhooks verifier library and counts the
// events it accepted. While down it answers 503, or drops the connection.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	down     bool
	refused  int               // requests while down
	got      map[string]int    // event id -> accepted deliveries
	types    map[string]string // event id -> type
	bad      []string          // what failed verification
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, got: map[string]int{}, types: map[string]string{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hooks/roster?team=identity" }

// trust sets the secret deliveries must be signed with.
func (rc *receiver) trust(secret string) {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.mu.Lock()
	rc.verifier = v
	rc.mu.Unlock()
}

func (rc *receiver) setDown(down bool) {
	rc.mu.Lock()
	rc.down = down
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.down {
		rc.refused++
		if rc.refused%2 == 0 {
			// A crashed process: the connection ends with no answer.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if rc.verifier == nil || rc.verifier.Verify(body, r.Header) != nil {
		rc.bad = append(rc.bad, string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev struct{ ID, Type string }
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("webhook-id") {
		rc.bad = append(rc.bad, string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.got[ev.ID]++
	rc.types[ev.ID] = ev.Type
	w.WriteHeader(http.StatusNoContent)
}

// received returns a copy of the accepted deliveries per event id.
func (rc *receiver) received() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.got {
		out[k] = v
	}
	return out
}

func (rc *receiver) typeOf(id string) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.types[id]
}

func (rc *receiver) badDeliveries() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bad...)
}

// testResolver knows a few names and no others: the tests' workers never
// ask a real DNS server anything.
type testResolver map[string]string

func (r testResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
}

// dialLoopbackOnly connects to loopback and refuses anything else, so that
// no test sends a packet off the machine even if the guard failed.
func dialLoopbackOnly(t *testing.T) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("a webhook delivery dialled %s", address)
			return nil, errors.New("test: only loopback may be dialled")
		}
		return (&net.Dialer{}).DialContext(ctx, network, address)
	}
}

// newHookWorker returns a worker that delivers webhooks from e's database
// on a fast schedule, the names of testResolver resolving as it says.
func (e *testEnv) newHookWorker(allowLoopback bool, cfg worker.Config) *worker.Worker {
	e.t.Helper()
	box, err := auth.NewSecretBox(testEncryptionKey)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.WebhookBackoff = max(cfg.WebhookBackoff, 20*time.Millisecond)
	cfg.WebhookMaxBackoff = max(cfg.WebhookMaxBackoff, 100*time.Millisecond)
	w := worker.New(nil, nil, slog.New(slog.NewJSONHandler(e.logs, nil)), cfg)
	w.Webhooks = store.NewWebhookOutbox(e.DB, box)
	w.Hooks = notify.NewHookSender(notify.HookConfig{
		Guard:    notify.HookGuard{AllowLoopback: allowLoopback},
		Timeout:  5 * time.Second,
		Resolver: testResolver{"metadata.test": "169.254.169.254", "internal.test": "10.0.0.1"},
		Dial:     dialLoopbackOnly(e.t),
	})
	return w
}

// runHooks runs w's fan-out and delivery until done reports true, failing
// the test after a minute.
func runHooks(t *testing.T, w *worker.Worker, what string, done func() bool) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(time.Minute); !done(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := w.FanOutWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.DeliverWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type webhook struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	DisabledReason *string  `json:"disabled_reason"`
	Secret         string   `json:"secret"`
}

type delivery struct {
	ID           string  `json:"id"`
	EventID      string  `json:"event_id"`
	EventType    string  `json:"event_type"`
	Status       string  `json:"status"`
	Attempts     int     `json:"attempts"`
	ResponseCode *int    `json:"response_code"`
	LatencyMS    *int    `json:"latency_ms"`
	LastError    *string `json:"last_error"`
}

// createWebhook makes a webhook in tenant A.
func (e *testEnv) createWebhook(token, url string, events ...string) webhook {
	e.t.Helper()
	r := e.do(request{Method: "POST", Path: "/api/v1/webhooks", Token: token,
		Body: map[string]any{"url": url, "events": events, "description": "test receiver"}})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var w webhook
	r.JSON(e.t, &w)
	return w
}

func (e *testEnv) getWebhook(token, id string) webhook {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/webhooks/" + id, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("get webhook: %d %s", r.Status, r.Body)
	}
	var w webhook
	r.JSON(e.t, &w)
	return w
}

func (e *testEnv) deliveries(token, webhookID string) []delivery {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/webhooks/" + webhookID + "/deliveries?limit=200", Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("list deliveries: %d %s", r.Status, r.Body)
	}
	var page struct{ Items []delivery }
	r.JSON(e.t, &page)
	return page.Items
}

type feedPage struct {
	Items []struct {
		ID, Type string
		TenantID string `json:"tenant_id"`
	}
	NextCursor string `json:"next_cursor"`
}

// waitFeed reads the feed from after until it lists n events: a change
// is listed once every transaction older than it has ended, which other
// tests' transactions on the same server may delay a little.
func (e *testEnv) waitFeed(t *testing.T, token, after, query string, n int) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ids, _ := e.feed(token, after, query)
		if len(ids) >= n || time.Now().After(deadline) {
			return ids
		}
	}
}

// feed reads tenant A's feed from after to its end, with the query given.
func (e *testEnv) feed(token, after, query string) (ids map[string]string, cursor string) {
	e.t.Helper()
	ids = map[string]string{}
	for {
		r := e.do(request{Method: "GET", Path: "/api/v1/events?limit=200&after=" + after + query, Token: token})
		if r.Status != http.StatusOK {
			e.t.Fatalf("feed: %d %s", r.Status, r.Body)
		}
		var p feedPage
		r.JSON(e.t, &p)
		for _, it := range p.Items {
			ids[it.ID] = it.Type
		}
		after = p.NextCursor
		if len(p.Items) < 200 {
			return ids, after
		}
	}
}
