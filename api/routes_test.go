package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// route is one method and path pattern a router serves.
type route struct{ method, pattern string }

func (r route) String() string { return r.method + " " + r.pattern }

// walkRoutes lists every route r serves, subrouters included, sorted.
func walkRoutes(t *testing.T, r chi.Routes) []route {
	t.Helper()
	var routes []route
	err := chi.Walk(r, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// chi reports Route("/users").Get("/") as /users/.
		if len(pattern) > 1 {
			pattern = strings.TrimSuffix(pattern, "/")
		}
		routes = append(routes, route{method, pattern})
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	slices.SortFunc(routes, func(a, b route) int { return strings.Compare(a.String(), b.String()) })
	return routes
}

// routeParam is a URL parameter in a chi pattern, {name} or {name:regexp},
// or its trailing wildcard.
var routeParam = regexp.MustCompile(`\{[^}]+\}|\*$`)

// path fills each of r's URL parameters with value.
func (r route) path(value string) string {
	return routeParam.ReplaceAllString(r.pattern, value)
}

// matches reports whether a request for method and path reaches r.
func (r route) matches(method, path string) bool {
	if method != r.method {
		return false
	}
	path, _, _ = strings.Cut(path, "?")
	parts := routeParam.Split(r.pattern, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$").MatchString(path)
}
