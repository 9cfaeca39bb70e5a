package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/rosterhq/roster"
)

// Keyring holds Roster's own JWT signing keys, kept in the database with
// their private halves sealed. Every replica reads the same keys: a key is
// published before it signs and stays published after it stops, so a
// rotation needs no coordination and no downtime.
type Keyring struct {
	store roster.SigningKeyService
	box   *SecretBox
	now   func() time.Time

	mu       sync.Mutex
	keys     []signingKey // oldest first
	loadedAt time.Time
	forcedAt time.Time
}

type signingKey struct {
	kid       string
	signsFrom time.Time
	private   jwk.Key
	public    jwk.Key
}

// keyringReload is how often a replica reads the keys again, to pick up a
// rotation made elsewhere.
const keyringReload = time.Minute

// keyringForcedReload bounds the reads an unknown kid can force, so tokens
// with made-up kids cannot turn into a database load.
const keyringForcedReload = 10 * time.Second

// NewKeyring returns a Keyring on store whose private keys box seals.
func NewKeyring(store roster.SigningKeyService, box *SecretBox) *Keyring {
	return &Keyring{store: store, box: box, now: time.Now}
}

// Ensure makes a first signing key when there is none.
func (k *Keyring) Ensure(ctx context.Context) error {
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return nil
	}
	key, err := k.newKey(k.now())
	if err != nil {
		return err
	}
	return k.store.CreateFirstSigningKey(ctx, key)
}

// Rotate adds a key that starts signing after publishAhead: long enough for
// every replica and every client caching the JWKS to have seen it.
func (k *Keyring) Rotate(ctx context.Context, publishAhead time.Duration) error {
	if err := k.add(ctx, k.now().Add(publishAhead)); err != nil {
		return err
	}
	k.mu.Lock()
	k.loadedAt = time.Time{} // read the new key at the next use
	k.mu.Unlock()
	return nil
}

// add generates an ES256 key and stores it sealed.
func (k *Keyring) add(ctx context.Context, signsFrom time.Time) error {
	key, err := k.newKey(signsFrom)
	if err != nil {
		return err
	}
	return k.store.CreateSigningKey(ctx, key)
}

// newKey generates an ES256 key that signs from signsFrom, its private
// half sealed.
func (k *Keyring) newKey(signsFrom time.Time) (*roster.SigningKey, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	kid := newKeyID()
	sealed, err := k.box.Seal(der, []byte("signing-key:"+kid))
	if err != nil {
		return nil, err
	}
	priv, err := importSigningKey(raw, kid)
	if err != nil {
		return nil, err
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("public signing key: %w", err)
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return &roster.SigningKey{
		KID: kid, Algorithm: jwa.ES256().String(), PrivateKey: sealed, PublicJWK: pubJSON, SignsFrom: signsFrom,
	}, nil
}

func importSigningKey(raw *ecdsa.PrivateKey, kid string) (jwk.Key, error) {
	key, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("import signing key: %w", err)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.ES256()); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, err
	}
	return key, nil
}

// load returns the keys, reading them again when they are stale.
func (k *Keyring) load(ctx context.Context, force bool) ([]signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if force && now.Sub(k.forcedAt) < keyringForcedReload {
		force = false
	}
	if !force && len(k.keys) > 0 && now.Sub(k.loadedAt) < keyringReload {
		return k.keys, nil
	}
	if force {
		k.forcedAt = now
	}
	stored, err := k.store.SigningKeys(ctx)
	if err != nil {
		if len(k.keys) > 0 {
			return k.keys, nil // keep signing with what we have while the database is away
		}
		return nil, err
	}
	keys := make([]signingKey, 0, len(stored))
	for _, s := range stored {
		der, err := k.box.Open(s.PrivateKey, []byte("signing-key:"+s.KID))
		if err != nil {
			return nil, fmt.Errorf("open signing key %s (is ROSTER_ENCRYPTION_KEY the key it was sealed with?): %w", s.KID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("parse signing key %s: %w", s.KID, err)
		}
		raw, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s is not an ECDSA key", s.KID)
		}
		priv, err := importSigningKey(raw, s.KID)
		if err != nil {
			return nil, err
		}
		pub, err := priv.PublicKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, signingKey{kid: s.KID, signsFrom: s.SignsFrom, private: priv, public: pub})
	}
	k.keys, k.loadedAt = keys, k.now()
	return keys, nil
}

// Signer returns the key to sign with now: the newest whose time has come.
func (k *Keyring) Signer(ctx context.Context) (jwk.Key, error) {
	keys, err := k.load(ctx, false)
	if err != nil {
		return nil, err
	}
	now := k.now()
	for i := len(keys) - 1; i >= 0; i-- {
		if !now.Before(keys[i].signsFrom) {
			return keys[i].private, nil
		}
	}
	return nil, roster.Errorf(roster.EUNAVAILABLE, "no signing key yet")
}

// PublicSet is the JWKS: every key not retired, including those about to
// sign.
func (k *Keyring) PublicSet(ctx context.Context) (jwk.Set, error) {
	keys, err := k.load(ctx, false)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	for _, key := range keys {
		if err := set.AddKey(key.public); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// JWKS is PublicSet as JSON, as /.well-known/jwks.json serves it.
func (k *Keyring) JWKS(ctx context.Context) (json.RawMessage, error) {
	set, err := k.PublicSet(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	return raw, nil
}

// Lookup finds the public key with kid, reading the keys again once when it
// is unknown (another replica may have rotated).
func (k *Keyring) Lookup(ctx context.Context, kid string) (jwk.Key, error) {
	for _, force := range []bool{false, true} {
		keys, err := k.load(ctx, force)
		if err != nil {
			return nil, err
		}
		for _, key := range keys {
			if key.kid == kid {
				return key.public, nil
			}
		}
	}
	return nil, nil
}

// newKeyID is a random key id.
func newKeyID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("%x", b)
}
