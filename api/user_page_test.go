package api

import (
	"bytes"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// TestUserPageIsWriteJSON holds the users list's hand-written answer to
// the bytes encoding/json writes for the same page, headers included.
func TestUserPageIsWriteJSON(t *testing.T) {
	tricky := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rret\bback\fform",
		"\x00\x01\x1f\x7f", "Müller 李 😀", "line\u2028para\u2029", "bad \xff\xfe utf-8 \xc3", "\xe2\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	randomText := func() string {
		if rng.IntN(3) == 0 {
			return tricky[rng.IntN(len(tricky))]
		}
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	login := time.Date(2026, 3, 4, 5, 6, 7, 891_000, time.FixedZone("CET", 3600))
	for n := range 300 {
		var page roster.UserPage
		for i := range n % 7 {
			ext := randomText()
			u := &roster.User{ID: randomText(), Email: randomText(), UserName: randomText(), GivenName: randomText(),
				FamilyName: randomText(), DisplayName: randomText(), Role: randomText(), Active: i%2 == 0, PendingApproval: i%3 == 0,
				CreatedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)), UpdatedAt: time.Unix(rng.Int64N(4e9), 0).UTC()}
			if i%2 == 1 {
				u.ExternalID, u.LastLoginAt = &ext, &login
			}
			page.Items = append(page.Items, u)
		}
		if n%2 == 1 {
			page.NextCursor = randomText()
		}
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, 200, newListResponse(page.Items, page.NextCursor, newUserResponse))
		writeUserPage(got, &page)
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("page %d:\n got %q\nwant %q", n, got.Body.Bytes(), want.Body.Bytes())
		}
		if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") ||
			got.Header().Get("Cache-Control") != want.Header().Get("Cache-Control") {
			t.Fatalf("page %d: %d %v, want %d %v", n, got.Code, got.Header(), want.Code, want.Header())
		}
	}
}
