package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// TestFirstSigningKeyIsMadeOnce starts four replicas on a database with no
// signing key: each offers a first key, and one is kept.
func TestFirstSigningKeyIsMadeOnce(t *testing.T) {
	db := MustOpen(t)
	keys := store.NewSigningKeyService(db)
	ctx := context.Background()
	if existing, err := keys.SigningKeys(ctx); err != nil || len(existing) != 0 {
		t.Fatalf("the store tests' database must hold no signing key before this test: %d, %v", len(existing), err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- keys.CreateFirstSigningKey(ctx, &roster.SigningKey{KID: fmt.Sprintf("first-%d", i), Algorithm: "ES256",
				PrivateKey: []byte("sealed"), PublicJWK: []byte(`{}`), SignsFrom: time.Now()})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := keys.SigningKeys(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("%d first keys, want 1 (%v)", len(got), err)
	}
	if err := keys.CreateSigningKey(ctx, &roster.SigningKey{KID: "rotated", Algorithm: "ES256", PrivateKey: []byte("sealed"),
		PublicJWK: []byte(`{}`), SignsFrom: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := keys.SigningKeys(ctx); len(got) != 2 {
		t.Fatalf("a rotation after the first key: %d keys, want 2", len(got))
	}
}
