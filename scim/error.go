package scim

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/elimity-com/scim/errors"

	"github.com/rosterhq/roster"
)

// statuses is the one table from domain error codes to SCIM errors.
var statuses = map[string]errors.ScimError{
	roster.EINVALID:      {Status: http.StatusBadRequest, ScimType: errors.ScimTypeInvalidValue},
	roster.EUNAUTHORIZED: {Status: http.StatusUnauthorized},
	roster.EFORBIDDEN:    {Status: http.StatusForbidden},
	roster.ENETWORK:      {Status: http.StatusForbidden},
	roster.ENOTFOUND:     {Status: http.StatusNotFound},
	roster.ECONFLICT:     {Status: http.StatusConflict},
	roster.EPRECONDITION: {Status: http.StatusPreconditionFailed},
	roster.ETOOLARGE:     {Status: http.StatusRequestEntityTooLarge, ScimType: errors.ScimTypeTooMany},
	roster.EUNAVAILABLE:  {Status: http.StatusServiceUnavailable},
}

// scimFieldNames renames the domain's field names to SCIM attribute names
// in error details.
var scimFieldNames = map[string]string{
	"user_name": "userName", "given_name": "name.givenName", "family_name": "name.familyName",
	"display_name": "displayName", "external_id": "externalId", "email": "emails",
}

// detail describes a domain error in SCIM's terms.
func detail(err error) string {
	fields := roster.ErrorFields(err)
	if len(fields) == 0 {
		return roster.ErrorMessage(err)
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		name := f.Field
		if n, ok := scimFieldNames[name]; ok {
			name = n
		}
		parts[i] = name + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

// scimError turns a domain error into a SCIM error; anything else is an
// internal error whose text is never shown.
func scimError(err error) errors.ScimError {
	if se, ok := err.(errors.ScimError); ok {
		return se
	}
	code := roster.ErrorCode(err)
	se, ok := statuses[code]
	if !ok {
		return errors.ScimError{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	se.Detail = detail(err)
	fields := roster.ErrorFields(err)
	switch {
	case code == roster.ECONFLICT && len(fields) > 0:
		se.ScimType = errors.ScimTypeUniqueness
	case code == roster.EINVALID && len(fields) == 1 && fields[0].Field == "filter":
		se.ScimType = errors.ScimTypeInvalidFilter
	}
	return se
}

// errorSlot carries the error a resource handler returned past the
// library, which would turn any status it does not expect for the method
// (503, 404 on POST...) into a 500 with the raw error text. recordErrors
// reads it back and writes the right answer.
type errorSlot struct{ err error }

type errorSlotKey struct{}

// handlerError records err for recordErrors and returns the SCIM error the
// library should see.
func handlerError(r *http.Request, err error) error {
	if slot, ok := r.Context().Value(errorSlotKey{}).(*errorSlot); ok {
		slot.err = err
	}
	return scimError(err)
}

// recordErrors gives each request an error slot, and when a resource
// handler failed, answers with that error mapped through the status table
// instead of whatever the library made of it.
func recordErrors(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			slot := &errorSlot{}
			ctx := context.WithValue(r.Context(), errorSlotKey{}, slot)
			buf := newBufferedWriter(w)
			next.ServeHTTP(buf, r.WithContext(ctx))
			if slot.err == nil {
				buf.flush()
				return
			}
			se := scimError(slot.err)
			switch {
			case se.Status == http.StatusServiceUnavailable:
				log.WarnContext(r.Context(), "database unavailable", "request_id", roster.RequestIDFromContext(r.Context()), "err", slot.err)
				w.Header().Set("Retry-After", "1")
			case se.Status >= 500:
				log.ErrorContext(r.Context(), "scim request failed", "request_id", roster.RequestIDFromContext(r.Context()), "err", slot.err)
			}
			writeError(w, se.Status, string(se.ScimType), se.Detail)
		})
	}
}
