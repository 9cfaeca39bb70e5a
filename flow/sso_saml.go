package flow

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
)

type samlMetadataCache struct{}

func newSAMLMetadataCache(ttl time.Duration, client func() *http.Client, now func() time.Time) *samlMetadataCache {
	return &samlMetadataCache{}
}

func (s *SSO) prepareSAML(ctx context.Context, c *roster.SSOConnection) error {
	return roster.Errorf(roster.EINVALID, "todo")
}

func (s *SSO) startSAML(ctx context.Context, c *roster.SSOConnection, state string) (string, string, error) {
	return "", "", roster.Errorf(roster.EINVALID, "todo")
}

func (s *SSO) SAMLACS(ctx context.Context, samlResponse, relayState string) (string, error) {
	return "", roster.Errorf(roster.EINVALID, "todo")
}

func (s *SSO) SAMLMetadata(ctx context.Context, tenantID, id string) ([]byte, error) {
	return nil, roster.Errorf(roster.EINVALID, "todo")
}
