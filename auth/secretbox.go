package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EncryptionKeySize is the length of a SecretBox key: AES-256.
const EncryptionKeySize = 32

// secretBoxKeyVersion is the first byte of everything Seal returns. A future
// key rotation gives the new key the next version and keeps the old key to
// open what it sealed.
const secretBoxKeyVersion byte = 1

// SecretBox seals small secrets stored in the database (TOTP seeds, signing
// keys) with AES-256-GCM. Sealed values are the key version (1 byte), a
// random nonce (12 bytes), then the ciphertext and its 16-byte tag.
//
// Random nonces are safe up to about 2^32 seals under one key, far beyond the
// number of secrets one deployment stores.
type SecretBox struct {
	version byte
	aead    cipher.AEAD
}

// NewSecretBox returns a SecretBox sealing with key, which must be 32 bytes.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("secret box: key is %d bytes, want %d", len(key), EncryptionKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	return &SecretBox{version: secretBoxKeyVersion, aead: aead}, nil
}

// Seal encrypts plaintext bound to additionalData: Open succeeds only with
// the same additionalData. Bind each secret to where it belongs (its tenant,
// user and purpose) so a ciphertext copied to another row does not open.
func (b *SecretBox) Seal(plaintext, additionalData []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = b.version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: read random nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, b.associated(additionalData)), nil
}

// Open decrypts what Seal returned for the same additionalData. It fails when
// sealed was made with another key or additionalData, or was altered.
func (b *SecretBox) Open(sealed, additionalData []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() {
		return nil, errors.New("open: sealed value too short")
	}
	if sealed[0] != b.version {
		return nil, fmt.Errorf("open: unknown key version %d", sealed[0])
	}
	plain, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], b.associated(additionalData))
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return plain, nil
}

// associated authenticates the version byte along with the caller's data.
func (b *SecretBox) associated(additionalData []byte) []byte {
	return append([]byte{b.version}, additionalData...)
}

// DeriveKey returns a key for one purpose made from the encryption key:
// HMAC-SHA256(key, purpose). Each use of the one configured secret gets a
// key of its own, and none reveals the encryption key or another's.
func DeriveKey(key []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// ParseEncryptionKey decodes a 32-byte key written in hex or in base64
// (standard or URL alphabet, padded or not), as ROSTER_ENCRYPTION_KEY holds
// it. Its errors never contain the key.
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("encryption key is empty")
	}
	// Hex first: 64 hex digits are also valid base64, of 48 bytes.
	if key, err := hex.DecodeString(s); err == nil && len(key) == EncryptionKeySize {
		return key, nil
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != EncryptionKeySize {
				return nil, fmt.Errorf("encryption key is %d bytes, want %d", len(key), EncryptionKeySize)
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("encryption key is neither hex nor base64 of %d bytes", EncryptionKeySize)
}

// DevEncryptionKey reads the key in the file at path, or creates the file
// with a new random key (base64, mode 0600) when there is none. It is for
// development only: production takes its key from ROSTER_ENCRYPTION_KEY, kept
// in a secret store and never next to the data it protects.
func DevEncryptionKey(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	key = make([]byte, EncryptionKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("read random key: %w", err)
	}
	// Written to a temporary file and linked into place, so that two
	// processes starting together agree on one key and neither ever reads a
	// half-written file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".roster-key-*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := ParseEncryptionKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}
