package graphql

// Resolver is the root of gqlgen's resolvers: the Server, whose fields
// are the root interfaces every resolver calls.
type Resolver struct{ *Server }
