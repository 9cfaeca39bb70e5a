package scim

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name             string
		status           int
		scimType, detail string
		want             string
	}{
		{"with scimType", http.StatusBadRequest, "invalidValue", "userName: is required",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidValue","detail":"userName: is required","status":"400"}`},
		{"without scimType or detail", http.StatusNotFound, "", "",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}`},
		{"html stays as written", http.StatusConflict, "uniqueness", `<a> & "b"`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","detail":"<a> & \"b\"","status":"409"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Etag", `W/"1"`)
			writeError(rec, tt.status, tt.scimType, tt.detail)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != scimContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if rec.Header().Get("Etag") != "" {
				t.Error("an error carries the ETag set before it")
			}
			if rec.Body.String() != tt.want {
				t.Errorf("body\n got: %s\nwant: %s", rec.Body, tt.want)
			}
		})
	}
}

// cannedResponse is an inner handler that writes what the library would.
func cannedResponse(status int, header http.Header, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func TestFixResponses(t *testing.T) {
	const user = `{"id":"u1","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a",` +
		`"meta":{"resourceType":"User","location":"Users/u1","version":"W/\"3\""}}`
	const absUser = `{"id":"u1","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a",` +
		`"meta":{"resourceType":"User","location":"https://roster.example/scim/v2/Users/u1","version":"W/\"3\""}}`
	libHeader := http.Header{"Content-Type": {scimContentType}, "Etag": {`W/"3"`}}
	tests := []struct {
		name       string
		method     string
		status     int
		header     http.Header
		body       string
		wantStatus int
		wantBody   string // "" means none
		wantHeader map[string]string
	}{{
		name:   "created: Location and meta.location absolute, ETag kept weak",
		method: http.MethodPost, status: http.StatusCreated, header: libHeader, body: user,
		wantStatus: http.StatusCreated, wantBody: absUser,
		wantHeader: map[string]string{
			"Location": "https://roster.example/scim/v2/Users/u1", "Etag": `W/"3"`, "Content-Type": scimContentType,
		},
	}, {
		name:   "GET: absolute meta.location, no Location",
		method: http.MethodGet, status: http.StatusOK, body: user,
		wantStatus: http.StatusOK, wantBody: absUser,
		wantHeader: map[string]string{"Location": "", "Etag": `W/"3"`, "Content-Type": scimContentType},
	}, {
		name:   "escaped id stays escaped",
		method: http.MethodGet, status: http.StatusOK,
		body:       `{"id":"a/b","meta":{"location":"Users/a%2Fb"}}`,
		wantStatus: http.StatusOK, wantBody: `{"id":"a/b","meta":{"location":"https://roster.example/scim/v2/Users/a%2Fb"}}`,
	}, {
		name:   "strong version",
		method: http.MethodPut, status: http.StatusOK,
		body:       `{"id":"u1","meta":{"location":"Users/u1","version":"\"abc\""}}`,
		wantStatus: http.StatusOK, wantBody: `{"id":"u1","meta":{"location":"https://roster.example/scim/v2/Users/u1","version":"\"abc\""}}`,
		wantHeader: map[string]string{"Etag": `"abc"`},
	}, {
		name:   "bare version is quoted in header and body alike",
		method: http.MethodPatch, status: http.StatusOK,
		body:       `{"id":"u1","meta":{"location":"Users/u1","version":"7"}}`,
		wantStatus: http.StatusOK, wantBody: `{"id":"u1","meta":{"location":"https://roster.example/scim/v2/Users/u1","version":"\"7\""}}`,
		wantHeader: map[string]string{"Etag": `"7"`},
	}, {
		name:   "no version, no ETag",
		method: http.MethodGet, status: http.StatusOK,
		body:       `{"id":"u1","meta":{"location":"https://elsewhere.example/Users/u1"}}`,
		wantStatus: http.StatusOK, wantBody: `{"id":"u1","meta":{"location":"https://elsewhere.example/Users/u1"}}`,
		wantHeader: map[string]string{"Etag": ""},
	}, {
		name:   "list with null Resources",
		method: http.MethodGet, status: http.StatusOK,
		body:       `{"Resources":null,"itemsPerPage":100,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":1,"totalResults":0}`,
		wantStatus: http.StatusOK,
		wantBody:   `{"Resources":[],"itemsPerPage":0,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":1,"totalResults":0}`,
		wantHeader: map[string]string{"Etag": ""},
	}, {
		name:   "list: itemsPerPage counts, counts are integers, every location absolute",
		method: http.MethodGet, status: http.StatusOK,
		body: `{"Resources":[` + user + `,{"id":"u2","meta":{"location":"Users/u2"}}],"itemsPerPage":100,` +
			`"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":"1","totalResults":5.0}`,
		wantStatus: http.StatusOK,
		wantBody: `{"Resources":[` + absUser + `,{"id":"u2","meta":{"location":"https://roster.example/scim/v2/Users/u2"}}],` +
			`"itemsPerPage":2,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"startIndex":1,"totalResults":5}`,
		wantHeader: map[string]string{"Etag": ""},
	}, {
		name:   "a failed handler's error text never leaves",
		method: http.MethodPatch, status: http.StatusInternalServerError, header: libHeader,
		body:       `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"pq: relation \"users\" does not exist","status":"500"}`,
		wantStatus: http.StatusInternalServerError,
		wantBody:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"internal error","status":"500"}`,
		wantHeader: map[string]string{"Etag": "", "Content-Type": scimContentType},
	}, {
		name:   "other server errors keep their status",
		method: http.MethodGet, status: http.StatusNotImplemented, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"501"}`,
		wantStatus: http.StatusNotImplemented,
		wantBody:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"not implemented","status":"501"}`,
	}, {
		name:   "error status as a number becomes a string",
		method: http.MethodPost, status: http.StatusConflict,
		body:       `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","status":409}`,
		wantStatus: http.StatusConflict,
		wantBody:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","status":"409"}`,
	}, {
		name:   "an error that is not a SCIM error becomes one",
		method: http.MethodGet, status: http.StatusMethodNotAllowed, header: http.Header{"Content-Type": {"text/plain"}},
		body:       "Method Not Allowed\n",
		wantStatus: http.StatusMethodNotAllowed,
		wantBody:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"method not allowed","status":"405"}`,
		wantHeader: map[string]string{"Content-Type": scimContentType},
	}, {
		name:   "no content has no media type",
		method: http.MethodDelete, status: http.StatusNoContent, header: http.Header{"Content-Type": {scimContentType}},
		wantStatus: http.StatusNoContent,
		wantHeader: map[string]string{"Content-Type": ""},
	}, {
		name:   "discovery documents get the media type",
		method: http.MethodGet, status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}},
		body:       `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"patch":{"supported":true}}`,
		wantStatus: http.StatusOK,
		wantBody:   `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"patch":{"supported":true}}`,
		wantHeader: map[string]string{"Content-Type": scimContentType},
	}}
	base, err := url.Parse("https://roster.example/scim/v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			h := fixResponses(base, log)(cannedResponse(tt.status, tt.header, tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/scim/v2/Users", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody == "" {
				if rec.Body.Len() != 0 {
					t.Errorf("body = %s, want none", rec.Body)
				}
			} else {
				requireSameJSON(t, rec.Body.String(), tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tt.status >= 500 && !strings.Contains(logs.String(), "status="+strconv.Itoa(tt.status)) {
				t.Errorf("the hidden error was not logged: %s", logs.String())
			}
		})
	}
}

func TestFixResponsesWithoutBaseUsesTheRequestsHost(t *testing.T) {
	const body = `{"id":"u1","meta":{"location":"Users/u1"}}`
	h := fixResponses(nil, nil)(cannedResponse(http.StatusCreated, nil, body))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "https://roster.example/scim/v2/Users", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	h.ServeHTTP(rec, req)
	const want = "https://roster.example/scim/v2/Users/u1"
	requireSameJSON(t, rec.Body.String(), `{"id":"u1","meta":{"location":"`+want+`"}}`)
	if got := rec.Header().Get("Location"); got != want {
		t.Errorf("Location = %q", got)
	}
}

func TestEntityTag(t *testing.T) {
	tests := []struct {
		version, want string
		ok            bool
	}{
		{`W/"3"`, `W/"3"`, true},
		{`"3"`, `"3"`, true},
		{`3`, `"3"`, true},
		{``, ``, false},
		{`W/3`, ``, false},
		{`a"b`, ``, false},
		{"a b", ``, false},
	}
	for _, tt := range tests {
		got, ok := entityTag(tt.version)
		if got != tt.want || ok != tt.ok {
			t.Errorf("entityTag(%q) = %q, %v; want %q, %v", tt.version, got, ok, tt.want, tt.ok)
		}
	}
}
