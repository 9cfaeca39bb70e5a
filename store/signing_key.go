package store

import (
	"context"

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
	k.CreatedAt = s.db.now()
	_, err := s.db.db.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, signs_from)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Algorithm, k.PrivateKey, string(k.PublicJWK), k.CreatedAt, k.SignsFrom)
	return translate(err)
}
