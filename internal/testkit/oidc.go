package testkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// OIDCUser is a user of the test OpenID Provider. Groups go into a
// "groups" claim; MFA makes the provider assert amr ["pwd","mfa"].
// SessionAge makes the provider behave as one that reuses a session of
// that age whatever the client asks (prompt=login included): its ID
// tokens' auth_time is that long ago.
type OIDCUser struct {
	ID, Username, Password string
	Email                  string
	EmailVerified          bool
	GivenName, FamilyName  string
	Groups                 []string
	MFA                    bool
	SessionAge             time.Duration
}

// OIDCProvider is zitadel/oidc's example OpenID Provider on the loopback
// interface, with one confidential web client. Its login form is plain
// HTML at /login/username (fields username, password and id).
type OIDCProvider struct {
	URL string // the issuer

	mu    sync.Mutex
	users map[string]*OIDCUser
	asked AuthRequestAsked
}

// AuthRequestAsked is what the last authorization request asked of the
// provider's sign-in.
type AuthRequestAsked struct {
	Prompt []string
	MaxAge *uint
}

// LastAuthRequest is what the last authorization request asked.
func (p *OIDCProvider) LastAuthRequest() AuthRequestAsked {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked
}

// StartOIDCProvider starts the provider with a client of clientID and
// secret that may redirect to redirectURI, and users.
func StartOIDCProvider(tb testing.TB, clientID, secret, redirectURI string, users ...OIDCUser) *OIDCProvider {
	tb.Helper()
	p := &OIDCProvider{users: map[string]*OIDCUser{}}
	for _, u := range users {
		p.AddUser(u)
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	p.URL = srv.URL
	st := &oidcStorage{
		Storage:  storage.NewStorageWithClients(p, map[string]*storage.Client{clientID: storage.WebClient(clientID, secret, redirectURI)}),
		provider: p,
	}
	handler = exampleop.SetupServer(p.URL, st, nil, false)
	return p
}

// AddUser adds or replaces a user.
func (p *OIDCProvider) AddUser(u OIDCUser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.ID] = &u
}

func (p *OIDCProvider) user(id string) *OIDCUser {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[id]
}

// GetUserByID, GetUserByUsername and ExampleClientID make the provider
// the example storage's user store.
func (p *OIDCProvider) GetUserByID(id string) *storage.User {
	if u := p.user(id); u != nil {
		return u.storageUser()
	}
	return nil
}

func (p *OIDCProvider) GetUserByUsername(name string) *storage.User {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if u.Username == name {
			return u.storageUser()
		}
	}
	return nil
}

func (p *OIDCProvider) ExampleClientID() string { return "service" }

func (u *OIDCUser) storageUser() *storage.User {
	return &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: u.GivenName,
		LastName: u.FamilyName, Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
}

// oidcStorage is the example storage with groups in ID tokens and
// userinfo, and amr with "mfa" for the users that have it.
type oidcStorage struct {
	*storage.Storage
	provider *OIDCProvider
}

func (s *oidcStorage) addGroups(info *oidc.UserInfo, userID string) {
	if u := s.provider.user(userID); u != nil && u.Groups != nil {
		info.AppendClaims("groups", slices.Clone(u.Groups))
	}
}

func (s *oidcStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	s.addGroups(info, req.GetSubject())
	return nil
}

func (s *oidcStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(info, info.Subject)
	return nil
}

func (s *oidcStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.provider.mu.Lock()
	s.provider.asked = AuthRequestAsked{Prompt: slices.Clone(req.Prompt), MaxAge: req.MaxAge}
	s.provider.mu.Unlock()
	return s.Storage.CreateAuthRequest(ctx, req, userID)
}

func (s *oidcStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if u := s.provider.user(req.GetSubject()); u != nil && (u.MFA || u.SessionAge > 0) {
		return userRequest{AuthRequest: req, user: u}, nil
	}
	return req, nil
}

// userRequest is a sign-in as one of the provider's users: with a second
// factor, or on a session of theirs the provider reused.
type userRequest struct {
	op.AuthRequest
	user *OIDCUser
}

func (r userRequest) GetAMR() []string {
	if r.user.MFA {
		return []string{"pwd", "otp", "mfa"}
	}
	return r.AuthRequest.GetAMR()
}

func (r userRequest) GetAuthTime() time.Time {
	if r.user.SessionAge > 0 {
		return time.Now().Add(-r.user.SessionAge)
	}
	return r.AuthRequest.GetAuthTime()
}
