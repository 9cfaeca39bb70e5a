package api

import "net/http"

// noQuery refuses every query parameter on an endpoint that takes none. A
// script that writes `POST /users/bulk?role=viewer` believes it narrowed the
// selection; answering 400 is safer than acting on the whole body's filter.
func (s *Server) noQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := onlyParams(r.URL.Query()); err != nil {
			s.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
