package scim

import (
	"bytes"
	"io"
	"net/http"

	"github.com/rosterhq/roster"
)

// refuseBadInput answers 400 to a query parameter that cannot be decoded,
// or holds a NUL or bytes that are not UTF-8, and to a JSON body with a
// NUL in any string, naming where: URL.Query(), which the library and the
// handlers read, drops the first kind silently, and the database refuses
// the others. Bodies are read up to maxBytes; a larger one passes on
// unread, for the handler to refuse by its own limit.
func (s *Server) refuseBadInput(maxBytes int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := roster.ParseQuery(r.URL.RawQuery); err != nil {
				s.fail(w, r, err)
				return
			}
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalidSyntax", "the request body could not be read")
				return
			}
			if int64(len(body)) <= maxBytes {
				if bad := roster.JSONTextProblems(body); len(bad) > 0 {
					s.fail(w, r, roster.Invalid(bad...))
					return
				}
			}
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			next.ServeHTTP(w, r)
		})
	}
}

// readCloser reads what was read ahead and the rest, and closes the original.
type readCloser struct {
	io.Reader
	io.Closer
}
