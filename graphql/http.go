package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rosterhq/roster"
)

// readOnlyKey marks a GET request's context: it may only run a query.
type readOnlyKey struct{}

func readOnly(ctx context.Context) bool {
	v, _ := ctx.Value(readOnlyKey{}).(bool)
	return v
}

// guard checks what gqlgen would otherwise answer without a code, or not
// check at all: the method, the body's size and media type, query strings
// and JSON text the database could not hold. It also makes the request's
// dataloaders.
func (s *Server) guard(limits Limits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := s.withLoaders(r.Context())
		switch r.Method {
		case http.MethodGet:
			if _, err := roster.ParseQuery(r.URL.RawQuery); err != nil {
				writeError(w, http.StatusBadRequest, invalidError(roster.ErrorFields(err)...))
				return
			}
			ctx = context.WithValue(ctx, readOnlyKey{}, true)
		case http.MethodPost:
			body, gqlErr, status := readBody(r, limits.BodyBytes)
			if gqlErr != nil {
				writeError(w, status, gqlErr)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST")
			err := gqlerror.Errorf("use POST, or GET for a query")
			err.Extensions = map[string]any{"code": codeMethodNotAllowed}
			writeError(w, http.StatusMethodNotAllowed, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readBody reads a POST body of at most limit bytes, JSON with text the
// database can hold, or says what is wrong with it.
func readBody(r *http.Request, limit int64) ([]byte, *gqlerror.Error, int) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, invalidError(roster.FieldError{Field: "Content-Type", Message: "must be application/json"}), http.StatusUnsupportedMediaType
	}
	tooLarge := limitError("body", "the request body is larger than the body limit of %d bytes", limit)
	if r.ContentLength > limit {
		return nil, tooLarge, http.StatusRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	switch {
	case err != nil:
		return nil, invalidError(roster.FieldError{Field: "body", Message: "could not be read"}), http.StatusBadRequest
	case int64(len(body)) > limit:
		return nil, tooLarge, http.StatusRequestEntityTooLarge
	case !json.Valid(body):
		return nil, invalidError(roster.FieldError{Field: "body", Message: "must be a JSON object with query, variables and operationName"}), http.StatusBadRequest
	}
	if fields := roster.JSONTextProblems(body); len(fields) > 0 {
		return nil, invalidError(fields...), http.StatusBadRequest
	}
	return body, nil, 0
}

// writeError answers a request refused before gqlgen saw it.
func writeError(w http.ResponseWriter, status int, err *gqlerror.Error) {
	if code, _ := err.Extensions["code"].(string); code != codeMethodNotAllowed {
		err.Extensions["code"] = roster.EINVALID
		if _, ok := err.Extensions["limit"]; ok {
			err.Extensions["code"] = roster.ETOOLARGE
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []*gqlerror.Error{err}}) // the client may be gone
}
