package graphql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rosterhq/roster"
)

// presentError turns any error into a GraphQL error whose
// extensions.code is one of the REST API's codes: a domain error keeps
// its code, message and fields (named as the schema names them); what
// gqlgen finds wrong with a request (parse, validation, a limit) is
// invalid or too_large; anything else is internal, logged and never shown.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var domain *roster.Error
	switch {
	case errors.As(err, &domain):
		gqlErr.Message = domain.Message
		gqlErr.Extensions = map[string]any{"code": domain.Code}
		if len(domain.Fields) > 0 {
			gqlErr.Extensions["fields"] = schemaFields(domain.Fields)
		}
		if domain.Code == roster.EINTERNAL {
			s.logInternal(ctx, err)
		}
	case gqlErr.Err == nil:
		// gqlgen's or gqlparser's own finding about the request.
		code := roster.EINVALID
		if _, ok := gqlErr.Extensions["method"]; ok {
			code = codeMethodNotAllowed
		} else if _, ok := gqlErr.Extensions["limit"]; ok {
			code = roster.ETOOLARGE
		} else if strings.Contains(gqlErr.Message, "token limit") {
			code = roster.ETOOLARGE
			gqlErr.Message = "the query has more tokens than the limit (tokens) allows"
			gqlErr.Extensions = map[string]any{"limit": "tokens"}
		}
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = code
	default:
		s.logInternal(ctx, err)
		gqlErr.Message = "internal error"
		gqlErr.Extensions = map[string]any{"code": roster.EINTERNAL}
	}
	gqlErr.Err = nil
	return gqlErr
}

// codeMethodNotAllowed is REST's code for a method a route does not take.
const codeMethodNotAllowed = "method_not_allowed"

// logInternal logs an error the caller is not shown, with the request id
// they are.
func (s *Server) logInternal(ctx context.Context, err error) {
	s.Log.ErrorContext(ctx, "graphql request failed", "request_id", roster.RequestIDFromContext(ctx), "err", err)
}

// recoverPanic turns a resolver's panic into an internal error.
func (s *Server) recoverPanic(ctx context.Context, v any) error {
	return fmt.Errorf("panic: %v", v)
}

// fieldError is one entry of extensions.fields.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// schemaFields names the fields of a domain error as the schema does:
// user_name is userName, and the page arguments are first and after.
func schemaFields(fields []roster.FieldError) []fieldError {
	out := make([]fieldError, len(fields))
	for i, f := range fields {
		out[i] = fieldError{Field: schemaName(f.Field), Message: f.Message}
	}
	return out
}

func schemaName(field string) string {
	switch field {
	case "cursor":
		return "after"
	case "limit":
		return "first"
	}
	parts := strings.Split(field, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// limitError is the error of a request over a limit: it names the limit
// in its message and in extensions.limit, and fails the request as gqlgen
// fails an invalid one (HTTP 422, or 400 for graphql-response+json).
func limitError(limit, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	err.Extensions["limit"] = limit
	return err
}

// invalidError is the error of a request that is not GraphQL over HTTP
// as this endpoint takes it, naming the field at fault.
func invalidError(fields ...roster.FieldError) *gqlerror.Error {
	err := gqlerror.Errorf("%s", roster.Invalid(fields...).Message)
	errcode.Set(err, errcode.ValidationFailed)
	err.Extensions["fields"] = schemaFields(fields)
	return err
}
