// Package console is the admin console: a page of plain ES modules, a
// style sheet and nothing else, built into the binary. It is a client of
// the public REST API only: everything it does, a script can do too.
// api.Server mounts it under the account page's strict
// Content-Security-Policy (its own modules only: no inline script or
// style, no other origin, no framing).
package console

import (
	"embed"
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"
)

//go:embed assets
var assets embed.FS

// screens are the console's addresses a person can bookmark; each is the
// same page, whose script draws the screen the address names.
var screens = []string{"/", "/users", "/users/{id}", "/invitations", "/audit", "/settings", "/setup"}

// contentTypes are the only kinds of file served under /console/assets/.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

// Handler serves the console, to be mounted at /console.
func Handler() http.Handler {
	r := chi.NewRouter()
	for _, p := range screens {
		r.Get(p, page)
	}
	r.Get("/assets/{file}", asset)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page in the console", http.StatusNotFound)
	})
	return r
}

func page(w http.ResponseWriter, r *http.Request) {
	serve(w, r, "index.html", "text/html; charset=utf-8")
}

func asset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
	contentType, ok := contentTypes[path.Ext(name)]
	if !ok || name == "" || path.Base(name) != name {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	serve(w, r, name, contentType)
}

func serve(w http.ResponseWriter, r *http.Request, name, contentType string) {
	body, err := assets.ReadFile("assets/" + name)
	if err != nil {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client may be gone; nothing to do
	}
}
