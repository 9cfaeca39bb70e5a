package flow

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/russellhaering/gosaml2/types"

	"github.com/rosterhq/roster"
)

// idpMetadata is what Roster needs of an identity provider's metadata.
type idpMetadata struct {
	EntityID string
	SSOURL   string // the HTTP-Redirect binding's
	Certs    []*x509.Certificate
}

const bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

// parseIDPMetadata reads an IdP's metadata (an EntityDescriptor, or the
// first of an EntitiesDescriptor). EINVALID naming field.
func parseIDPMetadata(raw []byte, field string) (*idpMetadata, error) {
	bad := func(msg string) error {
		return roster.Invalid(roster.FieldError{Field: field, Message: msg})
	}
	var ed types.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		var list struct {
			Entities []types.EntityDescriptor `xml:"EntityDescriptor"`
		}
		if xml.Unmarshal(raw, &list) != nil || len(list.Entities) == 0 {
			return nil, bad("is not SAML 2.0 metadata (an EntityDescriptor)")
		}
		ed = list.Entities[0]
	}
	if ed.IDPSSODescriptor == nil || ed.EntityID == "" {
		return nil, bad("describes no identity provider (IDPSSODescriptor with an entityID)")
	}
	md := &idpMetadata{EntityID: ed.EntityID}
	for _, s := range ed.IDPSSODescriptor.SingleSignOnServices {
		if s.Binding == bindingRedirect {
			md.SSOURL = s.Location
		}
	}
	if md.SSOURL == "" {
		return nil, bad("has no SingleSignOnService with the HTTP-Redirect binding")
	}
	for _, kd := range ed.IDPSSODescriptor.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
			if err != nil {
				return nil, bad("holds a certificate that is not base64")
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, bad("holds a certificate that cannot be read")
			}
			md.Certs = append(md.Certs, cert)
		}
	}
	if len(md.Certs) == 0 {
		return nil, bad("has no signing certificate: Roster accepts only signed assertions")
	}
	return md, nil
}

// samlMetadataCache keeps metadata fetched from an idp_metadata_url.
type samlMetadataCache struct {
	ttl    time.Duration
	client func() *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]fetchedMetadata
}

type fetchedMetadata struct {
	raw []byte
	at  time.Time
}

func newSAMLMetadataCache(ttl time.Duration, client func() *http.Client, now func() time.Time) *samlMetadataCache {
	return &samlMetadataCache{ttl: ttl, client: client, now: now, entries: map[string]fetchedMetadata{}}
}

// fetch returns the metadata at u, from the cache when fresh. EINVALID
// naming idp_metadata_url.
func (m *samlMetadataCache) fetch(ctx context.Context, u string) ([]byte, error) {
	m.mu.Lock()
	e, ok := m.entries[u]
	m.mu.Unlock()
	if ok && m.now().Sub(e.at) < m.ttl {
		return e.raw, nil
	}
	bad := func(msg string) error {
		return roster.Invalid(roster.FieldError{Field: "idp_metadata_url", Message: msg})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, bad("is not a URL")
	}
	resp, err := m.client().Do(req)
	if err != nil {
		return nil, bad("could not be fetched")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, bad(fmt.Sprintf("answered %d", resp.StatusCode))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, roster.MaxSSOMetadataLen+1))
	if err != nil || len(raw) > roster.MaxSSOMetadataLen {
		return nil, bad("could not be read, or is too large")
	}
	m.mu.Lock()
	m.entries[u] = fetchedMetadata{raw: raw, at: m.now()}
	m.mu.Unlock()
	return raw, nil
}

// idp returns the connection's IdP metadata, fetched when it is a URL.
func (s *SSO) idp(ctx context.Context, c *roster.SSOConnection) (*idpMetadata, error) {
	if c.IdPMetadataURL == "" {
		return parseIDPMetadata([]byte(c.IdPMetadataXML), "idp_metadata_xml")
	}
	raw, err := s.saml.fetch(ctx, c.IdPMetadataURL)
	if err != nil {
		return nil, err
	}
	return parseIDPMetadata(raw, "idp_metadata_url")
}

// prepareSAML checks the IdP's metadata and gives a new connection its SP
// key pair: RSA 2048 and a self-signed certificate, as Okta and Entra
// expect of an SP's signing certificate.
func (s *SSO) prepareSAML(ctx context.Context, c *roster.SSOConnection) error {
	if _, err := s.idp(ctx, c); err != nil {
		return err
	}
	if len(c.SealedSecret) > 0 {
		return nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("SP key: %w", err)
	}
	now := s.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "Roster SSO " + c.ID},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("SP certificate: %w", err)
	}
	sealed, err := s.box.Seal(x509.MarshalPKCS1PrivateKey(key), secretAD(c))
	if err != nil {
		return err
	}
	c.SealedSecret = sealed
	c.SPCertificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return nil
}
