package scim

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
)

// notModified reports whether the request's If-None-Match matches etag,
// the resource's current entity tag, by the weak comparison RFC 9110
// §13.1.2 asks for. A header that is not a list of entity tags matches
// nothing: it only costs the client the body it could have saved.
func notModified(r *http.Request, etag string) bool {
	header := r.Header.Get("If-None-Match")
	if header == "" || etag == "" {
		return false
	}
	tags, any, err := roster.ParseETags("If-None-Match", header)
	if err != nil {
		return false
	}
	current := strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	for _, tag := range tags {
		if tag.Opaque == current {
			return true
		}
	}
	return any
}

// writeNotModified answers 304 with the resource's validators and no body.
func writeNotModified(w http.ResponseWriter, held http.Header) {
	h := w.Header()
	for _, k := range []string{"Etag", "Cache-Control", "Vary"} {
		if v := held.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	w.WriteHeader(http.StatusNotModified)
}
