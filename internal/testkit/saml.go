package testkit

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
)

// SAMLUser is a user of the test identity provider.
type SAMLUser struct {
	Name, Password        string
	Email                 string
	GivenName, FamilyName string
	Groups                []string
}

// SAMLProvider is crewjam/saml's samlidp identity provider on the loopback
// interface. It signs assertions with a key of its own; service providers
// are registered by their metadata. Its login form (fields user and
// password) posts back to /sso, which answers with an auto-posting form
// for the SP's ACS.
type SAMLProvider struct {
	URL      string
	Metadata []byte // the IdP's metadata
	tb       testing.TB
	store    *samlidp.MemoryStore
}

// StartSAMLProvider starts the identity provider with users.
func StartSAMLProvider(tb testing.TB, users ...SAMLUser) *SAMLProvider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test IdP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	store := &samlidp.MemoryStore{}
	idp, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Certificate: cert, Store: store,
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		tb.Fatal(err)
	}
	handler = idp
	p := &SAMLProvider{URL: srv.URL, tb: tb, store: store}
	for _, u := range users {
		p.AddUser(u)
	}
	p.Metadata = p.call(http.MethodGet, "/metadata", nil)
	return p
}

// AddUser adds or replaces a user.
func (p *SAMLProvider) AddUser(u SAMLUser) {
	p.tb.Helper()
	body, err := json.Marshal(samlidp.User{Name: u.Name, PlaintextPassword: &u.Password, Email: u.Email,
		GivenName: u.GivenName, Surname: u.FamilyName, Groups: u.Groups})
	if err != nil {
		p.tb.Fatal(err)
	}
	p.call(http.MethodPut, "/users/"+u.Name, body)
}

// AddServiceProvider registers an SP by its metadata.
func (p *SAMLProvider) AddServiceProvider(id string, metadata []byte) {
	p.tb.Helper()
	p.call(http.MethodPut, "/services/"+id, metadata)
}

func (p *SAMLProvider) call(method, path string, body []byte) []byte {
	p.tb.Helper()
	req, err := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
	if err != nil {
		p.tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode >= 300 {
		p.tb.Fatalf("%s %s: %d %s %v", method, path, resp.StatusCode, raw, err)
	}
	return raw
}

// AddShortcut lets users start a sign-in at the provider (IdP-initiated)
// at /login/NAME, for the SP of entityID, with relayState.
func (p *SAMLProvider) AddShortcut(name, entityID, relayState string) {
	p.tb.Helper()
	body, err := json.Marshal(samlidp.Shortcut{Name: name, ServiceProviderID: entityID, RelayState: &relayState})
	if err != nil {
		p.tb.Fatal(err)
	}
	p.call(http.MethodPut, "/shortcuts/"+name, body)
}

// AgeSessions makes every session of the provider d older: a browser
// that signed in there earlier is not asked again, and its assertions'
// AuthnInstant is the older time. samlidp, like many providers, does not
// act on an AuthnRequest's ForceAuthn.
func (p *SAMLProvider) AgeSessions(d time.Duration) {
	p.tb.Helper()
	ids, err := p.store.List("/sessions/")
	if err != nil {
		p.tb.Fatal(err)
	}
	for _, id := range ids {
		var s saml.Session
		if err := p.store.Get("/sessions/"+id, &s); err != nil {
			p.tb.Fatal(err)
		}
		s.CreateTime = s.CreateTime.Add(-d)
		if err := p.store.Put("/sessions/"+id, &s); err != nil {
			p.tb.Fatal(err)
		}
	}
}
