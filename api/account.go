package api

import (
	"embed"
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// accountFiles is the self-service account page: one HTML page, its script
// and its style sheet, served from the binary.
//
//go:embed account/index.html account/account.js account/account.css
var accountFiles embed.FS

// accountContentTypes are the only files served under /account/.
var accountContentTypes = map[string]string{
	"account.js":  "text/javascript; charset=utf-8",
	"account.css": "text/css; charset=utf-8",
}

// accountCSP lets the page run its own script and nothing else: no inline
// script or style, no other origin, no framing. The QR code of a new
// authenticator app is a data: image.
const accountCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// accountPage serves GET /account, GET /account/accept (the link of an
// invitation mail) and GET /account/reset (a forgotten password, and the
// link of a reset mail): the page's script tells them apart.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.serveAccountFile(w, r, "index.html", "text/html; charset=utf-8")
}

// accountAsset serves GET /account/{file}: the page's script and style.
func (s *Server) accountAsset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
	contentType, ok := accountContentTypes[name]
	if !ok {
		s.Error(w, r, roster.Errorf(roster.ENOTFOUND, "no such file"))
		return
	}
	s.serveAccountFile(w, r, name, contentType)
}

func (s *Server) serveAccountFile(w http.ResponseWriter, r *http.Request, name, contentType string) {
	body, err := accountFiles.ReadFile(path.Join("account", name))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	setPageHeaders(w.Header())
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client may be gone; nothing to do
	}
}

// setPageHeaders sets the headers of every page for people and its files:
// the account page's and the console's.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", accountCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// A new release must reach the browser at once: a page and its scripts
	// change together.
	h.Set("Cache-Control", "no-cache")
}

// pageHeaders sets the page headers on every answer of next: the console,
// which is mounted under the account page's policy.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}
