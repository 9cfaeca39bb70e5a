// Package scim is Roster's SCIM 2.0 adapter (RFC 7643, RFC 7644), built on
// github.com/elimity-com/scim and wrapped where that library falls short of
// what Okta and Microsoft Entra ID need: filters become SQL, lists, /Bulk and
// /ServiceProviderConfig are served here, and middleware fixes quirky
// requests and incomplete responses.
package scim

import (
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/ratelimit"
)

// Server holds what the SCIM handlers need; fill every field, then mount
// Handler() at /scim/v2.
type Server struct {
	Users  roster.UserService
	Groups roster.GroupService
	Auth   roster.Authenticator
	Log    *slog.Logger

	// BaseURL is the public URL of the SCIM root (https://host/scim/v2),
	// for meta.location and Location; nil takes it from each request.
	BaseURL *url.URL

	// Limiter throttles each credential; over its rate a client gets 429
	// with Retry-After. Nil means no limit.
	Limiter *ratelimit.Limiter

	// Passwords sets the passwords identity providers push, under the
	// tenant's password policy.
	Passwords roster.PasswordFlow
}

// Limits advertised in /ServiceProviderConfig.
const (
	maxBulkOperations = 1000
	maxBulkPayload    = 4 << 20
	maxBodyBytes      = 1 << 20
)

// Handler returns the SCIM tree, to be mounted at /scim/v2.
func (s *Server) Handler() (http.Handler, error) {
	lib, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("/openapi.yaml"),
			MaxResults:       maxCount,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []scim.ResourceType{
			{
				ID:               optional.NewString("User"),
				Name:             "User",
				Endpoint:         "/Users",
				Description:      optional.NewString("User Account"),
				Schema:           schema.CoreUserSchema(),
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
				Handler:          userHandler{users: s.Users, passwords: s.Passwords},
			},
			{
				ID:          optional.NewString("Group"),
				Name:        "Group",
				Endpoint:    "/Groups",
				Description: optional.NewString("Group"),
				Schema:      schema.CoreGroupSchema(),
				Handler:     groupHandler{groups: s.Groups},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	// The library routes on paths that start with /v2.
	library := http.StripPrefix("/scim", lib)

	r := chi.NewRouter()
	// Outermost first: the endpoint meant; who is calling; no input the database cannot
	// store; requests as the library can take them; responses as clients need them; projection of the attributes
	// asked for; and, innermost, handler errors mapped before the library
	// can turn them into 500s.
	r.Use(canonicalPaths, s.authenticate,
		s.refuseBadInput(maxBulkPayload),
		normalizeRequests(maxBodyBytes, map[string][]string{"Users": {enterpriseSchemaURN}, "Groups": nil}),
		fixResponses(s.BaseURL, s.Log),
		projectAttributes,
		recordErrors(s.Log))
	r.Post("/Bulk", newBulkHandler(r, maxBulkOperations, maxBulkPayload).ServeHTTP)
	r.Get("/ServiceProviderConfig", s.serviceProviderConfig)
	r.Get("/Users", s.listUsers)
	r.Get("/Groups", s.listGroups)
	r.NotFound(library.ServeHTTP)
	r.MethodNotAllowed(library.ServeHTTP)
	return r, nil
}

// authenticate admits callers holding the scim:provision permission.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, credential, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
			writeError(w, http.StatusUnauthorized, "", "a bearer token is required")
			return
		}
		p, err := s.Auth.Authenticate(r.Context(), strings.TrimSpace(credential))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !p.Can(roster.PermSCIMProvision) {
			writeError(w, http.StatusForbidden, "", "this token may not provision over SCIM")
			return
		}
		if s.Limiter != nil {
			if ok, wait := s.Limiter.Allow(p.TenantID + "/" + p.Subject); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				writeError(w, http.StatusTooManyRequests, "", "too many requests: retry after the Retry-After seconds")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(roster.NewContextWithPrincipal(r.Context(), p)))
	})
}

// fail answers a request Roster serves itself with the SCIM error for err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	se := scimError(err)
	switch {
	case se.Status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim", error="invalid_token"`)
	case se.Status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case se.Status >= 500:
		s.Log.ErrorContext(r.Context(), "scim request failed", "request_id", roster.RequestIDFromContext(r.Context()), "err", err)
	}
	writeError(w, se.Status, string(se.ScimType), se.Detail)
}

func tenantID(r *http.Request) string {
	return roster.PrincipalFromContext(r.Context()).TenantID
}

func actor(r *http.Request) roster.Actor {
	return roster.ActorOf(roster.PrincipalFromContext(r.Context()), roster.RequestIDFromContext(r.Context()))
}

// weakETag is the entity tag of a resource version.
func weakETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// ifMatchVersion reads If-Match: the version the client last saw, 0 when
// the header is absent or "*".
func ifMatchVersion(r *http.Request) (int64, error) {
	return roster.ParseIfMatch(r.Header.Get("If-Match"))
}
