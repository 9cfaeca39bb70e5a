package flow_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/app"
	"github.com/rosterhq/roster/internal/testkit"
)

// TestSSOFlowRefusals runs the SSO flow past HTTP: what it refuses before
// anyone reaches a provider, and the page a refusal sends a browser to.
func TestSSOFlowRefusals(t *testing.T) {
	t.Parallel()
	f := newFlows(t, app.Config{})
	ctx := t.Context()
	op := testkit.StartOIDCProvider(t, "client", "secret", "http://roster.test/api/v1/auth/sso/oidc/callback")
	c, err := f.SSO.CreateConnection(ctx, f.Tenant.Tenant.ID, f.by, &roster.SSOConnection{Type: roster.SSOTypeOIDC,
		Name: "IdP", Issuer: op.URL, ClientID: "client", ClientSecret: "secret", Enabled: true, Domains: []string{"flow.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientSecret != "" || len(c.SealedSecret) == 0 {
		t.Fatal("the client secret was not sealed")
	}

	to, err := f.SSO.Start(ctx, roster.SSOStart{IP: "192.0.2.1", Tenant: f.Tenant.Tenant.Slug, Email: "ada@flow.test", ReturnTo: "/console/users?x=1#frag"})
	if err != nil || !strings.HasPrefix(to, op.URL) {
		t.Fatalf("start: %q %v", to, err)
	}
	_, err = f.SSO.Start(ctx, roster.SSOStart{IP: "192.0.2.1", Tenant: f.Tenant.Tenant.Slug, ConnectionID: c.ID, ReturnTo: "https://evil.test/"})
	wantCode(t, err, roster.EINVALID)
	to, err = f.SSO.Start(ctx, roster.SSOStart{IP: "192.0.2.1", Tenant: f.Tenant.Tenant.Slug, Email: "ada@other.test", ReturnTo: "/console"})
	wantCode(t, err, roster.ENOTFOUND)
	if to != "http://roster.test/console" {
		t.Fatalf("a refusal sends the browser to %q", to)
	}

	// Disabled, the connection starts nothing.
	if _, err := f.SSO.UpdateConnection(ctx, f.Tenant.Tenant.ID, f.by, c.ID, func(c *roster.SSOConnection) error {
		c.Enabled = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = f.SSO.Start(ctx, roster.SSOStart{IP: "192.0.2.1", Tenant: f.Tenant.Tenant.Slug, ConnectionID: c.ID})
	wantCode(t, err, roster.ENOTFOUND)

	to, err = f.SSO.OIDCCallback(ctx, "rss_unknown", "code", "")
	wantCode(t, err, roster.EUNAUTHORIZED)
	if to != "" {
		t.Fatalf("an unknown state sends the browser to %q", to)
	}
	_, err = f.SSO.Exchange(ctx, "192.0.2.1", "rsc_"+strings.Repeat("x", 40))
	wantCode(t, err, roster.EUNAUTHORIZED)
}
