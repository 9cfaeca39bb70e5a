package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// export requests an export and checks the download headers.
func (e *testEnv) export(token, query, contentType string) response {
	e.t.Helper()
	r := e.do(request{Method: "GET", Path: "/api/v1/users/export" + query, Token: token})
	if r.Status != http.StatusOK {
		e.t.Fatalf("export%s: %d %s", query, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		e.t.Fatalf("export%s: Content-Type %q, want %s", query, ct, contentType)
	}
	if cd := r.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="users-\d{8}T\d{6}Z\.(csv|ndjson)"$`).MatchString(cd) {
		e.t.Fatalf("export%s: Content-Disposition %q", query, cd)
	}
	return r
}

func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	return recs
}

func TestExportCSV(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.A.Admin
	for _, u := range []map[string]any{
		{"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace, Countess", "role": "developer", "external_id": "okta-1"},
		{"email": "eve@example.com", "given_name": "=HYPERLINK(\"http://evil\")", "family_name": "Quote \"q\"", "role": "viewer"},
		{"email": "off@example.com", "role": "viewer", "active": false},
	} {
		if r := e.do(request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: u}); r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	db := openTestDB(t)
	if _, err := db.Exec(`UPDATE users SET mfa_methods = '{totp,sms}' WHERE tenant_id = $1 AND email = 'ada@example.com'`, e.A.ID); err != nil {
		t.Fatal(err)
	}

	recs := readCSV(t, e.export(admin, "?format=csv", "text/csv").Body)
	wantHeader := []string{"id", "user_name", "email", "given_name", "family_name", "display_name", "external_id", "role",
		"active", "mfa_methods", "created_at", "updated_at", "last_login_at"}
	if !slices.Equal(recs[0], wantHeader) {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs) != 5 { // header, the tenant's admin, three users
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	ada := recs[2]
	if ada[2] != "ada@example.com" || ada[4] != "Lovelace, Countess" || ada[6] != "okta-1" || ada[7] != "developer" ||
		ada[8] != "true" || ada[9] != "totp sms" || ada[12] != "" {
		t.Errorf("ada %v", ada)
	}
	eve := recs[3]
	if eve[3] != `'=HYPERLINK("http://evil")` || eve[4] != `Quote "q"` || eve[9] != "" {
		t.Errorf("eve %v: a formula must be defused, quotes kept", eve)
	}

	// The list filters, with the list's meaning.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"&role=viewer", []string{"eve@example.com", "off@example.com"}},
		{"&active=false", []string{"off@example.com"}},
		{"&q=LOVELACE", []string{"ada@example.com"}},
		{"&mfa=enabled", []string{"ada@example.com"}},
		{"&mfa_method=sms&role=developer", []string{"ada@example.com"}},
		{"&mfa_method=email", nil},
	} {
		recs := readCSV(t, e.export(admin, "?format=csv"+tc.query, "text/csv").Body)
		var got []string
		for _, rec := range recs[1:] {
			got = append(got, rec[2])
		}
		if len(recs) == 0 || !slices.Equal(recs[0], wantHeader) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, recs, tc.want)
		}
	}

	// Tenant B's export holds its admin alone.
	recsB := readCSV(t, e.export(e.B.Admin, "?format=csv", "text/csv").Body)
	if len(recsB) != 2 || recsB[1][0] != e.B.AdminID {
		t.Errorf("tenant B export: %v", recsB)
	}

	// Every export is in the audit trail, with its format and filters.
	r := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=users.exported", Token: admin})
	var events struct {
		Items []struct {
			ActorID  string         `json:"actor_id"`
			TargetID string         `json:"target_id"`
			Details  map[string]any `json:"details"`
		}
	}
	r.JSON(t, &events)
	if len(events.Items) != 7 {
		t.Fatalf("%d users.exported events in A, want 7: %s", len(events.Items), r.Body)
	}
	latest := events.Items[0].Details
	filters, _ := latest["filters"].(map[string]any)
	if latest["format"] != "csv" || filters["mfa_method"] != "email" || len(filters) != 1 || events.Items[0].TargetID != e.A.ID {
		t.Errorf("latest event %+v", events.Items[0])
	}
}

func TestExportNDJSONStreamsEveryBatch(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const seeded = 2500 // more than two of the store's batches
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, seeded); err != nil {
		t.Fatal(err)
	}
	body := e.export(e.A.Admin, "?format=ndjson", "application/x-ndjson").Body
	sc := bufio.NewScanner(bytes.NewReader(body))
	seen := map[string]bool{}
	last := ""
	for sc.Scan() {
		var u map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&u); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, field := range []string{"id", "email", "user_name", "given_name", "family_name", "display_name",
			"external_id", "role", "active", "created_at", "updated_at", "last_login_at", "mfa_methods"} {
			if _, ok := u[field]; !ok {
				t.Fatalf("line without %s: %s", field, sc.Text())
			}
		}
		if _, ok := u["tenant_id"]; ok {
			t.Fatalf("line shows the tenant: %s", sc.Text())
		}
		if _, ok := u["mfa_methods"].([]any); !ok {
			t.Fatalf("mfa_methods is not an array: %s", sc.Text())
		}
		id := u["id"].(string)
		created := u["created_at"].(string)
		if seen[id] || created < last {
			t.Fatalf("line %d: id %s repeated or out of creation order", len(seen)+1, id)
		}
		seen[id], last = true, created
	}
	if len(seen) != seeded+1 {
		t.Fatalf("%d users exported, want %d", len(seen), seeded+1)
	}
	// Another tenant's export never reaches them.
	if body := e.export(e.B.Admin, "?format=ndjson", "application/x-ndjson").Body; bytes.Count(body, []byte("\n")) != 1 {
		t.Fatalf("tenant B export has %d lines", bytes.Count(body, []byte("\n")))
	}
}

func TestExportRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ query, field string }{
		{"", "format"},
		{"?format=xlsx", "format"},
		{"?format=csv&role=owner", "role"},
		{"?format=csv&active=maybe", "active"},
		{"?format=csv&mfa=sometimes", "mfa"},
		{"?format=csv&mfa_method=carrier-pigeon", "mfa_method"},
		{"?format=csv&sort=email", "sort"},
		{"?format=csv&q=" + strings.Repeat("x", 257), "q"},
	} {
		r := e.do(request{Method: "GET", Path: "/api/v1/users/export" + tc.query, Token: e.A.Admin, Invalid: true})
		wantProblem(t, r, http.StatusBadRequest, tc.field)
	}
	// Reading users is not enough: an export is for admins.
	for _, token := range []string{e.A.Viewer, e.A.Developer, e.A.SCIM} {
		wantProblem(t, e.do(request{Method: "GET", Path: "/api/v1/users/export?format=csv", Token: token}), http.StatusForbidden, "")
	}
	// Nothing refused was recorded as an export.
	r := e.do(request{Method: "GET", Path: "/api/v1/audit-events?action=users.exported", Token: e.A.Admin})
	if !bytes.Contains(r.Body, []byte(`"items":[]`)) {
		t.Fatalf("refused exports were audited: %s", r.Body)
	}
}

// TestExportCutShortAbortsTheConnection loses the database in the middle of
// an export: the client must see a broken transfer, never a clean end that
// would pass a partial file for a whole one.
func TestExportCutShortAbortsTheConnection(t *testing.T) {
	u, err := url.Parse(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCuttableProxy(t, u.Host)
	u.Host = proxy.Addr()
	e := newTestEnvWithDSN(t, u.String())
	if _, err := e.DB.SeedUsers(context.Background(), e.A.ID, 60_000); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("GET", e.URL+"/api/v1/users/export?format=ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.A.Admin)
	// A plain client: the contract transport would read the whole body first.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadBytes('\n'); err != nil {
		t.Fatalf("first line: %v", err)
	}
	proxy.Cut()
	defer proxy.Restore()
	lines := 1
	for {
		_, err := rd.ReadBytes('\n')
		if err == nil {
			lines++
			continue
		}
		if err == io.EOF {
			t.Fatalf("the export ended cleanly after %d of 60,001 users without its database", lines)
		}
		break // io.ErrUnexpectedEOF: the transfer was cut, as it should be
	}
	if lines >= 60_001 {
		t.Fatalf("all %d lines arrived although the database was cut", lines)
	}
}
