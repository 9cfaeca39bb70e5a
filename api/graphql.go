package api

import "net/http"

// graphQLSchema serves GET /graphql/schema.graphql: the GraphQL schema in
// SDL, public as the REST contract is.
func (s *Server) graphQLSchema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/graphql; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(s.GraphQLSchema) // the client may be gone; nothing to do
}
