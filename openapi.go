package roster

import _ "embed"

// OpenAPI is the REST contract, served at /openapi.yaml and held against
// every response in the tests.
//
//go:embed openapi.yaml
var OpenAPI []byte
