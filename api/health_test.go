package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

func TestHealthAndContract(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := e.do(request{Method: "GET", Path: path}); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	spec := e.do(request{Method: "GET", Path: "/openapi.yaml"})
	if spec.Status != http.StatusOK || !bytes.Equal(spec.Body, roster.OpenAPI) {
		t.Fatalf("openapi.yaml: %d, %d bytes", spec.Status, len(spec.Body))
	}
	if id := spec.Header.Get("X-Request-Id"); len(id) < 16 {
		t.Fatalf("X-Request-Id %q", id)
	}
}

func TestLogsCarryRequestIDsAndNoSecrets(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.do(request{Method: "GET", Path: "/api/v1/users", Token: e.A.Admin, Header: map[string]string{"X-Request-Id": "trace-me-42"}})
	e.do(request{Method: "GET", Path: "/api/v1/users", Token: e.A.Admin[:30] + strings.Repeat("Z", 14)})
	jwt := e.jwt(e.A.ID, []string{"admin"}, nil)
	e.do(request{Method: "GET", Path: "/api/v1/users", Token: jwt})
	logs := e.logs.String()
	if !strings.Contains(logs, `"request_id":"trace-me-42"`) {
		t.Fatalf("logs lack the request id:\n%s", logs)
	}
	for _, secret := range []string{e.A.Admin, e.A.Admin[4:20], jwt, strings.Split(jwt, ".")[2]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a credential reached the logs:\n%s", logs)
		}
	}
}
