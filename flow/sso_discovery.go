package flow

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/rosterhq/roster"
)

// discoveryCache keeps each issuer's discovery document (and with it the
// key set go-oidc caches) for ttl, so a sign-in costs no discovery round
// trip.
type discoveryCache struct {
	ttl    time.Duration
	client func() *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]discovered
}

type discovered struct {
	provider *oidc.Provider
	at       time.Time
}

func newDiscoveryCache(ttl time.Duration, client func() *http.Client, now func() time.Time) *discoveryCache {
	return &discoveryCache{ttl: ttl, client: client, now: now, entries: map[string]discovered{}}
}

// provider returns issuer's provider, discovering it when not cached. The
// document must name exactly issuer (go-oidc checks it). EINVALID naming
// "issuer" when discovery fails: it is the issuer that is wrong.
func (d *discoveryCache) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	d.mu.Lock()
	e, ok := d.entries[issuer]
	d.mu.Unlock()
	if ok && d.now().Sub(e.at) < d.ttl {
		return e.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, d.client()), issuer)
	if err != nil {
		return nil, &roster.Error{Code: roster.EINVALID, Message: "the issuer's discovery document could not be used: " + err.Error(),
			Fields: []roster.FieldError{{Field: "issuer", Message: "must be the exact issuer of an OpenID Provider, whose /.well-known/openid-configuration names it"}}}
	}
	d.mu.Lock()
	d.entries[issuer] = discovered{provider: p, at: d.now()}
	d.mu.Unlock()
	return p, nil
}
