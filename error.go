package roster

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each transport maps them to its own statuses in one table:
// api/error.go for problem+json, scim/error.go for SCIM errors.
const (
	ECONFLICT     = "conflict"     // a unique value is taken, or a guard refuses the change
	EINTERNAL     = "internal"     // a bug or an unexpected failure; never shown to callers
	EINVALID      = "invalid"      // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // no such resource in the caller's tenant
	EUNAUTHORIZED = "unauthorized" // no credential, or a bad one
	EFORBIDDEN    = "forbidden"    // a valid credential without the permission
	EUNAVAILABLE  = "unavailable"  // the database is unreachable; retry later
	ETOOLARGE     = "too_large"    // the request body is over the limit
	EPRECONDITION = "precondition" // an If-Match version is stale
	ETOOMANY      = "too_many"     // rate limited; retry after RetryAfter
	// ESTEPUP: the credential is valid, but its sign-in is too old or too
	// weak for the action (RFC 9470 insufficient_user_authentication).
	ESTEPUP = "step_up_required"
	// EGONE: the resource existed but is used up for good (an invitation
	// accepted, revoked or expired).
	EGONE = "gone"
	// ENETWORK: the tenant's policy allows no sign-in and no credential
	// from the client's network (allowed_networks).
	ENETWORK = "network_not_allowed"
	// EPLAN: the tenant's plan does not include the feature.
	EPLAN = "plan_required"
)

// FieldError names one invalid field of a request and why it is invalid.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is Roster's domain error: a code the transports map to a status, a
// message safe to show to the caller, and, for EINVALID, the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError

	// RetryAfter, for ETOOMANY and EUNAVAILABLE, is when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("roster error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the fields at fault.
func Invalid(fields ...FieldError) *Error {
	msg := "the request is invalid"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Code: EINVALID, Message: msg, Fields: fields}
}

// ErrorCode returns the code of err's *Error, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err's *Error, or a generic
// message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorRetryAfter returns how long err asks the caller to wait, or 0.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorFields returns the field errors of err's *Error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
