package api

import (
	"net/http"
	"net/url"

	"github.com/rosterhq/roster"
)

// decodableQuery answers 400 naming each query parameter that cannot be
// decoded, or holds a NUL or bytes that are not UTF-8: URL.Query(), which
// the handlers read, drops the first kind silently (?cursor=%%% read the
// first page) and the database refuses the others.
func (s *Server) decodableQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := roster.ParseQuery(r.URL.RawQuery); err != nil {
			s.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// queryOnlyOnReads refuses query parameters on every request but a GET: no
// change takes any. A script that writes `POST /users/bulk?role=viewer`
// believes it narrowed the selection; answering 400 is safer than acting on
// the whole body's filter.
func (s *Server) queryOnlyOnReads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			if err := onlyParams(r.URL.Query()); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// noQuery refuses every query parameter on a GET that takes none; the GETs
// that take some check them with onlyParams.
func (s *Server) noQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := onlyParams(r.URL.Query()); err != nil {
			s.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// queryBool reads the query parameter name as exactly true or false; nil
// when it is absent. The FieldError names it when it is neither.
func queryBool(query url.Values, name string) (*bool, *roster.FieldError) {
	switch query.Get(name) {
	case "":
		return nil, nil
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	}
	return nil, &roster.FieldError{Field: name, Message: "must be true or false"}
}
