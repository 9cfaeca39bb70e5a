package scim

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
)

// endpoints are the SCIM root's endpoint names as RFC 7644 §3.2 spells them.
var endpoints = []string{"Users", "Groups", "Bulk", "ServiceProviderConfig", "ResourceTypes", "Schemas"}

// canonicalPaths routes an endpoint name in any case and a path with a
// trailing slash as the canonical path: clients send /users,
// /Users/{id}/ or /serviceproviderconfig (Microsoft's reference tests
// among them), and what they mean is not in doubt. It must run before
// anything that reads the path, the router first.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.RouteContext(r.Context())
		if rctx == nil || rctx.RoutePath == "" {
			next.ServeHTTP(w, r)
			return
		}
		route := rctx.RoutePath
		canon := canonicalPath(route)
		if canon == route {
			next.ServeHTTP(w, r)
			return
		}
		// The library routes on URL.Path, under the mount's prefix.
		u := *r.URL
		if raw := u.EscapedPath(); strings.HasSuffix(raw, route) {
			escaped := strings.TrimSuffix(raw, route) + canon
			if p, err := url.PathUnescape(escaped); err == nil {
				u.Path, u.RawPath = p, escaped
			}
		}
		rctx.RoutePath = canon
		r2 := r.WithContext(r.Context())
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// canonicalPath is the path of the route p (relative to the SCIM root)
// with its endpoint name spelt as RFC 7644 does and no trailing slash.
func canonicalPath(p string) string {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	rest := strings.TrimPrefix(p, "/")
	name, tail, _ := strings.Cut(rest, "/")
	for _, e := range endpoints {
		if strings.EqualFold(name, e) {
			name = e
			break
		}
	}
	if tail != "" {
		return "/" + name + "/" + tail
	}
	return "/" + name
}
