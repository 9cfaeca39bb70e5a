package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

var _ roster.SigningKeyService = (*SigningKeyService)(nil)

// SigningKeyService is the PostgreSQL implementation of
// roster.SigningKeyService: Roster's own JWT signing keys, which belong to
// no tenant.
type SigningKeyService struct {
	db *DB
}

// NewSigningKeyService returns a SigningKeyService on db.
func NewSigningKeyService(db *DB) *SigningKeyService {
	return &SigningKeyService{db: db}
}

// SigningKeys returns the keys not retired, oldest first.
func (s *SigningKeyService) SigningKeys(ctx context.Context) ([]roster.SigningKey, error) {
	rows, err := s.db.db.QueryContext(ctx, `
		SELECT kid, algorithm, private_key, public_jwk, created_at, signs_from, retired_at
		FROM signing_keys WHERE retired_at IS NULL ORDER BY signs_from, kid`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var keys []roster.SigningKey
	for rows.Next() {
		var k roster.SigningKey
		if err := rows.Scan(&k.KID, &k.Algorithm, &k.PrivateKey, &k.PublicJWK, &k.CreatedAt, &k.SignsFrom, &k.RetiredAt); err != nil {
			return nil, translate(err)
		}
		keys = append(keys, k)
	}
	return keys, translate(rows.Err())
}

// CreateSigningKey stores a new signing key.
func (s *SigningKeyService) CreateSigningKey(ctx context.Context, k *roster.SigningKey) error {
	return createSigningKey(ctx, s.db.db, s.db.now(), k)
}

// firstSigningKeyLock is the transaction advisory lock under which a first
// signing key is made.
const firstSigningKeyLock = 7_355_608_001

// CreateFirstSigningKey stores k unless a signing key exists, under a lock
// that makes concurrent callers take turns.
func (s *SigningKeyService) CreateFirstSigningKey(ctx context.Context, k *roster.SigningKey) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, firstSigningKeyLock); err != nil {
			return translate(err)
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)`).Scan(&exists); err != nil {
			return translate(err)
		}
		if exists {
			return nil
		}
		return createSigningKey(ctx, tx, s.db.now(), k)
	})
}

func createSigningKey(ctx context.Context, q sqlx.ExecerContext, now time.Time, k *roster.SigningKey) error {
	k.CreatedAt = now
	_, err := q.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, signs_from)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Algorithm, k.PrivateKey, string(k.PublicJWK), k.CreatedAt, k.SignsFrom)
	return translate(err)
}
