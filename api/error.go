package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
)

// statuses is the one table from domain error codes to HTTP statuses.
var statuses = map[string]int{
	roster.EINVALID:      http.StatusBadRequest,
	roster.EUNAUTHORIZED: http.StatusUnauthorized,
	roster.ESTEPUP:       http.StatusUnauthorized,
	roster.EFORBIDDEN:    http.StatusForbidden,
	roster.ENETWORK:      http.StatusForbidden,
	roster.ENOTFOUND:     http.StatusNotFound,
	roster.ECONFLICT:     http.StatusConflict,
	roster.EPRECONDITION: http.StatusPreconditionFailed,
	roster.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	roster.EUNAVAILABLE:  http.StatusServiceUnavailable,
	roster.ETOOMANY:      http.StatusTooManyRequests,
	roster.EGONE:         http.StatusGone,
	roster.EPLAN:         http.StatusForbidden,
	roster.EINTERNAL:     http.StatusInternalServerError,
}

// problem is an RFC 9457 problem details object, with Roster's code, the
// request id to quote to support, and the fields at fault.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []roster.FieldError `json:"errors,omitempty"`
}

// Error writes err as problem+json. Internal errors are logged with the
// request id and shown only as "internal error".
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := roster.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	requestID := roster.RequestIDFromContext(r.Context())
	switch {
	case status >= 500 && code != roster.EUNAVAILABLE:
		s.Log.ErrorContext(r.Context(), "request failed", "request_id", requestID, "err", err)
	case code == roster.EUNAVAILABLE:
		s.Log.WarnContext(r.Context(), "unavailable", "request_id", requestID, "err", err)
		w.Header().Set("Retry-After", "1")
	case code == roster.ETOOMANY:
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(roster.ErrorRetryAfter(err).Seconds())))))
	case code == roster.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster", error="invalid_token"`)
		}
	case code == roster.ESTEPUP:
		w.Header().Set("WWW-Authenticate", s.stepUpChallenge(roster.ErrorMessage(err)))
	}
	writeProblem(w, problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    roster.ErrorMessage(err),
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: requestID,
		Errors:    roster.ErrorFields(err),
	})
}

// stepUpChallenge is the RFC 9470 §3 challenge to a token whose sign-in is
// too old or too weak. No acr_values: Roster's tokens carry no acr, and
// what would do (a second factor, a fresh password) is in the description.
func (s *Server) stepUpChallenge(description string) string {
	maxAge := s.StepUpMaxAge
	if maxAge == 0 {
		maxAge = roster.DefaultStepUpMaxAge
	}
	// RFC 6750 §3 allows neither quotes nor backslashes in the description.
	description = strings.NewReplacer(`"`, "'", `\`, "/").Replace(description)
	return fmt.Sprintf(`Bearer realm="roster", error="insufficient_user_authentication", error_description="%s", max_age=%d`,
		description, int(maxAge.Seconds()))
}

func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p) // the client may be gone; nothing to do
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
