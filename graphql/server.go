// Package graphql is Roster's GraphQL adapter: gqlgen resolvers over the
// root package's services and flows, with the permissions, step-up rules
// and error codes of the REST API. It adds no rule of its own.
package graphql

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rosterhq/roster"
)

// schemaFiles is the schema, one file a noun, as gqlgen reads it.
//
//go:embed *.graphql
var schemaFiles embed.FS

// Server holds what the resolvers need: the root package's services and
// flows, nothing of how they are made. Fill every field, then serve
// Handler() behind the REST API's authentication.
type Server struct {
	Users       roster.UserService
	Logins      roster.LoginService
	Sessions    roster.SessionService
	Audit       roster.AuditService
	Bulk        roster.BulkService
	Stats       roster.StatsService
	Groups      roster.GroupService
	SignIn      roster.SignInFlow
	Passwords   roster.PasswordFlow
	MFA         roster.MFAFlow
	Passkeys    roster.PasskeyFlow
	Invitations roster.InvitationFlow

	Limits Limits
	Log    *slog.Logger
	// Now is the clock invitation statuses are read at.
	Now func() time.Time
}

// Schema returns the schema in SDL, its files joined in name order.
func Schema() []byte {
	names, _ := fs.Glob(schemaFiles, "*.graphql") // the pattern is valid
	slices.Sort(names)
	var sdl []byte
	for _, name := range names {
		b, _ := schemaFiles.ReadFile(name) // listed just above
		sdl = append(append(sdl, b...), '\n')
	}
	return sdl
}

// Handler serves GraphQL over HTTP: POST for any operation, GET for
// queries only. The request must carry a principal (the REST API's
// authentication puts it there).
func (s *Server) Handler() http.Handler {
	limits := s.Limits.withDefaults()
	resolver := &Resolver{s}
	schema := NewExecutableSchema(Config{
		Resolvers:  resolver,
		Directives: DirectiveRoot{HasPermission: hasPermission, StepUp: s.stepUp},
		Complexity: complexityRoot(),
	})
	srv := handler.New(schema)
	srv.AddTransport(directWrite{transport.GET{}})
	srv.AddTransport(directWrite{transport.POST{}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(limits.Tokens)
	srv.SetErrorPresenter(s.presentError)
	srv.SetRecoverFunc(s.recoverPanic)
	srv.Use(extension.Introspection{})
	srv.Use(&limitCheck{limits: limits})
	srv.Use(&usersPages{schema: schema.(*executableSchema), resolver: resolver})
	return s.guard(limits, srv)
}

// now is the time by the server's clock.
func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// caller returns the request's principal, tenant and actor.
func caller(ctx context.Context) (*roster.Principal, string, roster.Actor) {
	p := roster.PrincipalFromContext(ctx)
	return p, p.TenantID, roster.ActorOf(p, roster.RequestIDFromContext(ctx))
}

// tenantID returns the caller's tenant, taken from the credential.
func tenantID(ctx context.Context) string {
	return roster.PrincipalFromContext(ctx).TenantID
}
