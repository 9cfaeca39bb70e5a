package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// clientRequestID is what a caller may choose as its own request id.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes the caller's X-Request-Id when it is sane, else makes
// one, and echoes it so a failure can be traced from either side. The
// context also carries where the request comes from, the one place it is
// worked out: what sessions and sign-ins record, the throttle counts and
// the allowed networks check.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !clientRequestID.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ctx := roster.NewContextWithRequestID(r.Context(), id)
		ctx = roster.NewContextWithClient(ctx, roster.Client{Address: clientAddress(r, s.TrustedProxies), UserAgent: r.UserAgent()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one structured line per request: route pattern, not
// raw path or query, and never a header, so no credential reaches the logs.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.URL.Path
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		attrs := []any{
			"request_id", roster.RequestIDFromContext(r.Context()),
			"method", r.Method,
			"route", route,
			"status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if p := roster.PrincipalFromContext(r.Context()); p != nil {
			attrs = append(attrs, "tenant_id", p.TenantID, "principal", p.Kind+":"+p.Subject)
		}
		s.Log.InfoContext(r.Context(), "request", attrs...)
	})
}

// recoverPanics turns a handler panic into a logged 500 problem.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.ErrorContext(r.Context(), "panic", "request_id", roster.RequestIDFromContext(r.Context()),
					"panic", v, "stack", string(debug.Stack()))
				s.Error(w, r, roster.Errorf(roster.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; decodeObject turns the overflow into 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.MaxBodyBytes
		if limit <= 0 {
			limit = DefaultMaxBodyBytes
		}
		if r.ContentLength > limit {
			s.Error(w, r, roster.Errorf(roster.ETOOLARGE, "the request body is larger than %d bytes", limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves the bearer credential into the request's principal.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		scheme, credential, _ := strings.Cut(header, " ")
		if header != "" && !strings.EqualFold(scheme, "Bearer") {
			s.Error(w, r, roster.Errorf(roster.EUNAUTHORIZED, "use the Bearer authorization scheme"))
			return
		}
		p, err := s.Auth.Authenticate(r.Context(), strings.TrimSpace(credential))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(roster.NewContextWithPrincipal(r.Context(), p)))
	})
}

// require answers 403 unless the caller holds perm.
func (s *Server) require(perm roster.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !roster.PrincipalFromContext(r.Context()).Can(perm) {
				s.Error(w, r, roster.Errorf(roster.EFORBIDDEN, "this requires the %s permission", perm))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// scopeKey carries the users a request's caller reaches (requireScoped).
type scopeKey struct{}

// requireScoped is require for the routes a team admin reaches too: a
// caller holding perm passes and reaches every user; a team admin passes
// with the reach Principal.UserScope gives them, and on a route of one
// user ({id}) only for a user within it: any other is 404, as a user that
// does not exist is.
func (s *Server) requireScoped(perm roster.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scope, err := roster.PrincipalFromContext(r.Context()).UserScope(perm)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			if id := chi.URLParam(r, "id"); id != "" && !scope.All() {
				if err := s.Access.UserInScope(r.Context(), tenantID(r), scope, id); err != nil {
					s.Error(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scopeKey{}, scope)))
		})
	}
}

// requireOrTeamAdmin is require letting team admins through too, for a
// handler that bounds what they do itself (bulkUsers, by
// Principal.BulkScope).
func (s *Server) requireOrTeamAdmin(perm roster.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := roster.PrincipalFromContext(r.Context()); !p.Can(perm) && !p.AdministersTeams() {
				s.Error(w, r, roster.Errorf(roster.EFORBIDDEN, "this requires the %s permission", perm))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// userScope returns the users the caller reaches, as requireScoped found:
// every user on the routes that need the permission tenant-wide.
func userScope(r *http.Request) roster.UserScope {
	scope, _ := r.Context().Value(scopeKey{}).(roster.UserScope)
	return scope
}

// refuseEnrolmentOnly answers 403 to an enrolment-only token: a user of a
// tenant that requires MFA who has not passed one reaches only /me, their
// own second factors and /auth, until they enrol one and step up.
func (s *Server) refuseEnrolmentOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if roster.PrincipalFromContext(r.Context()).EnrolmentOnly() {
			s.Error(w, r, roster.Errorf(roster.EFORBIDDEN,
				"the tenant requires a second factor: enrol one under /api/v1/me/mfa and step up at POST /api/v1/auth/step-up first"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
